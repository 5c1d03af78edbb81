//! Entry point of the console bundle (esbuild → build/assets/console/app.js and app.css):
//! the styles, then the app rendered into #app.
import { render } from 'preact';
import { App } from './app';
import './style.css';

const root = document.getElementById('app');
if (root) render(<App />, root);

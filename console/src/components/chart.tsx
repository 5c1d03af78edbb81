//! The one chart component: uPlot (bundled, its CSS through app.css) drawing bar and line
//! series over days (time axis, UTC) or over named categories. The canvas is an image with a
//! text summary (role=img, aria-label); every page that draws a chart also shows its data as
//! a table. The chart follows its container's width.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: ReadonlyArray<number | null>;
  kind: 'bars' | 'line';
  color: string;
  /** Bars only: -1 left of the tick, 1 right of it (two series side by side), 0 centred. */
  align?: -1 | 0 | 1;
  dash?: number[];
}

export interface ChartProps {
  /** A text summary of what the chart shows (its accessible name). */
  summary: string;
  /** Day keys (YYYY-MM-DD, UTC) or category labels. */
  x: ReadonlyArray<string>;
  xKind: 'day' | 'category';
  series: ReadonlyArray<ChartSeries>;
  yLabel: string;
  height?: number;
}

function dayToSeconds(day: string): number {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d) / 1000;
}

function options(p: ChartProps, width: number): uPlot.Options {
  const labels = p.x;
  const category = p.xKind === 'category';
  const bars = (align: -1 | 0 | 1) => uPlot.paths.bars!({ align, size: [align === 0 ? 0.6 : 0.4, 64], gap: 1 });
  return {
    width,
    height: p.height ?? 260,
    legend: { show: true, live: !category },
    cursor: { drag: { x: false, y: false } },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    scales: {
      x: category ? { time: false, range: () => [-0.5, labels.length - 0.5] } : { time: true },
      y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
    },
    axes: [
      category
        ? { splits: () => labels.map((_, i) => i), values: (_u, splits) => splits.map((i) => labels[i] ?? ''), grid: { show: false } }
        : { grid: { show: false } },
      { label: p.yLabel, size: 64 },
    ],
    series: [
      { label: category ? 'Category' : 'Day', value: category ? (_u, v) => labels[v] ?? '' : '{YYYY}-{MM}-{DD}' },
      ...p.series.map((s): uPlot.Series => s.kind === 'bars'
        ? { label: s.label, stroke: s.color, fill: s.color, width: 0, paths: bars(s.align ?? 0), points: { show: false } }
        : { label: s.label, stroke: s.color, width: 2, dash: s.dash, points: { show: false } }),
    ],
  };
}

export function Chart(p: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  // Redraw only when what is drawn changes, not on every render of the page.
  const drawn = JSON.stringify([p.x, p.xKind, p.series, p.yLabel, p.height]);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const xs = p.xKind === 'day' ? p.x.map(dayToSeconds) : p.x.map((_, i) => i);
    const data = [xs, ...p.series.map((s) => [...s.values])] as uPlot.AlignedData;
    const width = () => Math.max(240, Math.floor(el.clientWidth));
    let w = width();
    const plot = new uPlot(options(p, w), data, el);
    const ro = new ResizeObserver(() => {
      if (width() === w) return;
      w = width();
      plot.setSize({ width: w, height: p.height ?? 260 });
    });
    ro.observe(el);
    return () => { ro.disconnect(); plot.destroy(); };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [drawn]);
  return <div class="chart" ref={box} role="img" aria-label={p.summary} />;
}

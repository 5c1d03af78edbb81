//! The storage layer: one file per D1 table that handlers and jobs share, holding its row
//! type and its queries. Reads of an organisation's object go through `owned`, which names
//! `org_id` in the SQL itself, so a row of another organisation is never even loaded.

pub mod assets;
pub mod certificates;
pub mod exports;
pub mod pulls;
pub mod reports;

pub(crate) use crate::edge::d1::{execute, first, opt};

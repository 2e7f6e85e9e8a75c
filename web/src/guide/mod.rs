//! Teaching content: the guided tour (the tutorial's steps, its own
//! commands), exercises (a broken lab, a goal, hints, an automatic check)
//! and the "why" views (two copies of the lab side by side, real output).
//!
//! Checks and why-views only *ask the engine*: they run commands on clones of
//! a `Lab` and read the output, the trace and the state it reports.

pub mod exercises;
pub mod panels;
pub mod tour;
pub mod why;

use crate::i18n::Lang;
use std::net::Ipv4Addr;

/// Text in both languages.
pub type Tx = (&'static str, &'static str);

pub fn pick(lang: Lang, s: Tx) -> &'static str {
    match lang {
        Lang::En => s.0,
        Lang::Zh => s.1,
    }
}

const VIP: Ipv4Addr = Ipv4Addr::new(192, 168, 150, 100);

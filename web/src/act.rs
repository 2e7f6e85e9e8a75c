//! Every action a button rendered as markup can take, as one enum: markup
//! carries it as `data-act="NAME"` (+ `data-arg`), written only by
//! [`Act::attrs`] and read back only by [`Act::parse`], so a misspelt action
//! cannot be written. One delegated click handler ([`on_click`]) hands the
//! parsed action to the app's dispatcher (a context set by `lib.rs`, so that
//! panels do not depend on each other).

use crate::html::{closest_with, Markup};
use crate::state::St;
use crate::w;
use leptos::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    /// Select event N without animating (from a terminal's event link).
    Jump(usize),
    /// Select event N, animated (a timeline row).
    Sel(usize),
    /// Pin event N for comparison (again: unpin).
    Pin(usize),
    /// Show this host's terminal.
    Tab(String),
    TourGo(usize),
    TourPrev,
    TourNext,
    TourRun,
    TourRestart,
    /// Start the exercise with this id.
    ExStart(String),
    ExCheck,
    ExHint,
    WhyTab(u8),
    WhyTry,
    LiveLoad,
    LiveClose,
    LiveDoctor,
    LivePlan,
    LiveConfirm,
}

impl Act {
    fn name(&self) -> &'static str {
        match self {
            Act::Jump(_) => "jump",
            Act::Sel(_) => "sel",
            Act::Pin(_) => "pin",
            Act::Tab(_) => "tab",
            Act::TourGo(_) => "tour-go",
            Act::TourPrev => "tour-prev",
            Act::TourNext => "tour-next",
            Act::TourRun => "tour-run",
            Act::TourRestart => "tour-restart",
            Act::ExStart(_) => "ex-start",
            Act::ExCheck => "ex-check",
            Act::ExHint => "ex-hint",
            Act::WhyTab(_) => "why-tab",
            Act::WhyTry => "why-try",
            Act::LiveLoad => "live-load",
            Act::LiveClose => "live-close",
            Act::LiveDoctor => "live-doctor",
            Act::LivePlan => "live-plan",
            Act::LiveConfirm => "live-confirm",
        }
    }

    /// ` data-act="…" data-arg="…"` for a button's opening tag.
    pub fn attrs(&self) -> Markup {
        let mut m = Markup::new();
        w!(m, " data-act=\"{}\"", self.name());
        let arg = match self {
            Act::Jump(n) | Act::Sel(n) | Act::Pin(n) | Act::TourGo(n) => Some(n.to_string()),
            Act::WhyTab(n) => Some(n.to_string()),
            Act::Tab(s) | Act::ExStart(s) => Some(s.clone()),
            _ => None,
        };
        if let Some(a) = arg {
            w!(m, " data-arg=\"{}\"", a);
        }
        m
    }

    /// The action a `data-act`/`data-arg` pair names (None: not one).
    pub fn parse(name: &str, arg: &str) -> Option<Act> {
        let n = || arg.parse::<usize>().ok();
        Some(match name {
            "jump" => Act::Jump(n()?),
            "sel" => Act::Sel(n()?),
            "pin" => Act::Pin(n()?),
            "tab" => Act::Tab(arg.to_string()),
            "tour-go" => Act::TourGo(n()?),
            "tour-prev" => Act::TourPrev,
            "tour-next" => Act::TourNext,
            "tour-run" => Act::TourRun,
            "tour-restart" => Act::TourRestart,
            "ex-start" => Act::ExStart(arg.to_string()),
            "ex-check" => Act::ExCheck,
            "ex-hint" => Act::ExHint,
            "why-tab" => Act::WhyTab(arg.parse().ok()?),
            "why-try" => Act::WhyTry,
            "live-load" => Act::LiveLoad,
            "live-close" => Act::LiveClose,
            "live-doctor" => Act::LiveDoctor,
            "live-plan" => Act::LivePlan,
            "live-confirm" => Act::LiveConfirm,
            _ => return None,
        })
    }
}

/// The app's handler of actions (provided as a context by `lib.rs`).
#[derive(Clone, Copy)]
pub struct Dispatcher(pub fn(&St, Act));

/// The delegated click handler of a panel whose buttons are markup (made
/// where the panel is created, which has the dispatcher in its context).
pub fn handler() -> impl Fn(web_sys::MouseEvent) + Copy + 'static {
    let s = crate::state::st();
    let d = expect_context::<Dispatcher>();
    move |e: web_sys::MouseEvent| on_click(&s, d, &e)
}

fn on_click(s: &St, d: Dispatcher, e: &web_sys::Event) {
    let Some(el) = closest_with(e.target(), "data-act") else {
        return;
    };
    if el.has_attribute("disabled") {
        return;
    }
    let name = el.get_attribute("data-act").unwrap_or_default();
    let arg = el.get_attribute("data-arg").unwrap_or_default();
    if let Some(a) = Act::parse(&name, &arg) {
        (d.0)(s, a);
    }
}

/// A `<div class=cls>` whose content is the markup `render` returns,
/// recomputed whenever the signals it reads change; clicks inside go to the
/// app's action dispatcher. Non-generic on purpose: every panel shares one
/// instantiation of the effect and view code.
pub fn markup(cls: &'static str, render: Box<dyn Fn() -> Markup>) -> AnyView {
    let el = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let html = render();
        if let Some(e) = el.get() {
            e.set_inner_html(html.as_str());
        }
    });
    view! { <div class=cls node_ref=el on:click=handler()></div> }.into_any()
}

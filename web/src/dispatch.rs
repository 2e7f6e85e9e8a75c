//! Where every [`Act`] goes: one exhaustive match, so an action no handler
//! takes cannot exist.

use crate::act::Act;
use crate::state::{Motion, St};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Give the keyboard to the banner (the big Play button) after an action
/// that produced or selected events, so that Space plays them and ←/→ step
/// (a button keeping focus would take Space as a click again).
fn focus_banner() {
    if let Some(el) = document()
        .get_element_by_id("banner")
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

pub fn dispatch(s: &St, a: Act) {
    match a {
        Act::Jump(i) => {
            s.playing.set(false);
            s.select(Some(i), Motion::Jump);
            focus_banner();
        }
        Act::Sel(i) => {
            s.playing.set(false);
            s.select(Some(i), Motion::Animate);
        }
        Act::Pin(i) => s
            .pinned
            .update(|p| *p = if *p == Some(i) { None } else { Some(i) }),
        Act::Tab(h) => s.host_tab.set(h),
        a @ (Act::TourRun | Act::WhyTry) => {
            crate::guide::panels::act(s, a);
            focus_banner();
        }
        a @ (Act::TourGo(_)
        | Act::TourPrev
        | Act::TourNext
        | Act::TourRestart
        | Act::ExStart(_)
        | Act::ExCheck
        | Act::ExHint
        | Act::WhyTab(_)) => crate::guide::panels::act(s, a),
        a @ (Act::LiveLoad
        | Act::LiveClose
        | Act::LiveDoctor
        | Act::LivePlan
        | Act::LiveConfirm) => crate::live::act(s, a),
    }
}

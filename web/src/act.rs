//! One dispatcher for every button rendered as markup: `data-act` names
//! the action, `data-arg` carries its argument.

use crate::guide;
use crate::html::closest_with;
use crate::state::{Motion, St};
use leptos::prelude::*;

pub fn dispatch(s: &St, e: &web_sys::Event) {
    let Some(el) = closest_with(e.target(), "data-act") else {
        return;
    };
    let act = el.get_attribute("data-act").unwrap_or_default();
    let arg = el.get_attribute("data-arg").unwrap_or_default();
    let num = arg.parse::<usize>().ok();
    match act.as_str() {
        "jump" => {
            s.playing.set(false);
            s.select(num, Motion::Jump);
        }
        "sel" => {
            s.playing.set(false);
            s.select(num, Motion::Animate);
        }
        "pin" => s.pinned.update(|p| *p = if *p == num { None } else { num }),
        "tab" => s.host_tab.set(arg),
        _ => guide::act(s, &act, &arg),
    }
}

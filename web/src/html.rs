//! Markup as strings for the large, mostly static panels (packet inspector,
//! "why" views, live tables): one non-generic code path instead of one
//! monomorphised view type per element keeps the wasm within its budget.
//! Every text goes through [`esc`]; interaction is by event delegation on
//! `data-*` attributes.

use std::fmt::Write;

/// Escape text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// A string builder with small helpers.
#[derive(Default)]
pub struct H(pub String);

impl H {
    pub fn new() -> H {
        H(String::with_capacity(4096))
    }
    /// Raw markup (trusted, written by this crate).
    pub fn raw(&mut self, s: &str) -> &mut H {
        self.0.push_str(s);
        self
    }
    /// `<tag class="cls">text</tag>`, text escaped.
    pub fn el(&mut self, tag: &str, cls: &str, text: &str) -> &mut H {
        if cls.is_empty() {
            let _ = write!(self.0, "<{tag}>{}</{tag}>", esc(text));
        } else {
            let _ = write!(self.0, "<{tag} class=\"{cls}\">{}</{tag}>", esc(text));
        }
        self
    }
    pub fn done(self) -> String {
        self.0
    }
}

/// Find the closest ancestor (or self) of an event target with `attr`.
pub fn closest_with(target: Option<web_sys::EventTarget>, attr: &str) -> Option<web_sys::Element> {
    use wasm_bindgen::JsCast;
    let el: web_sys::Element = target?.dyn_into().ok()?;
    el.closest(&format!("[{attr}]")).ok().flatten()
}

/// A `<div class=cls>` whose content is the markup `render` returns,
/// recomputed whenever the signals it reads change; clicks inside go to the
/// app's action dispatcher (`data-act`). Non-generic on purpose: every panel
/// shares one instantiation of the effect and view code.
pub fn markup(cls: &'static str, render: Box<dyn Fn() -> String>) -> leptos::prelude::AnyView {
    use leptos::prelude::*;
    let el = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let html = render();
        if let Some(e) = el.get() {
            e.set_inner_html(&html);
        }
    });
    let s = crate::state::st();
    view! { <div class=cls node_ref=el on:click=move |e| crate::act::dispatch(&s, &e)></div> }
        .into_any()
}

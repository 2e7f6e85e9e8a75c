//! Markup for the large, mostly static panels (packet inspector, "why"
//! views, live tables): one non-generic code path instead of one
//! monomorphised view type per element keeps the wasm within its budget.
//!
//! Escape by default: a [`Markup`]'s text is private. Literal markup goes in
//! as `&'static str` (written in this crate); everything interpolated by
//! [`w!`](crate::w) is escaped unless it is itself a `Markup` (already safe).
//! Interaction is by event delegation on `data-act` ([`crate::act::Act`]).

use std::fmt::{self, Display, Write};

/// Escape text for HTML element content and attribute values.
fn escape_into(out: &mut impl Write, s: &str) -> fmt::Result {
    for c in s.chars() {
        match c {
            '&' => out.write_str("&amp;")?,
            '<' => out.write_str("&lt;")?,
            '>' => out.write_str("&gt;")?,
            '"' => out.write_str("&quot;")?,
            '\'' => out.write_str("&#39;")?,
            c => out.write_char(c)?,
        }
    }
    Ok(())
}

/// Markup known to be safe: literals of this crate, escaped text, and
/// compositions of both. The text inside cannot be set from outside.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Markup(String);

/// Text as safe markup (escaped).
pub fn esc(s: &str) -> Markup {
    let mut m = Markup(String::with_capacity(s.len() + 8));
    let _ = escape_into(&mut m.0, s);
    m
}

impl Markup {
    pub fn new() -> Markup {
        Markup(String::with_capacity(1024))
    }
    /// Literal markup written in this crate.
    pub fn raw(&mut self, s: &'static str) -> &mut Markup {
        self.0.push_str(s);
        self
    }
    /// Text, escaped.
    pub fn text(&mut self, s: &str) -> &mut Markup {
        let _ = escape_into(&mut self.0, s);
        self
    }
    /// Safe markup built elsewhere.
    pub fn push(&mut self, m: &Markup) -> &mut Markup {
        self.0.push_str(&m.0);
        self
    }
    /// `<tag class="cls">text</tag>`, text escaped.
    pub fn el(&mut self, tag: &'static str, cls: &'static str, text: &str) -> &mut Markup {
        let _ = if cls.is_empty() {
            write!(self.0, "<{tag}>")
        } else {
            write!(self.0, "<{tag} class=\"{cls}\">")
        };
        self.text(text);
        let _ = write!(self.0, "</{tag}>");
        self
    }
    /// What goes into `innerHTML` (read-only).
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// For [`w!`](crate::w) only: the format string is a literal of this
    /// crate, its arguments were wrapped by [`Piece`].
    #[doc(hidden)]
    pub fn write_fmt_pieces(&mut self, a: fmt::Arguments<'_>) {
        let _ = self.0.write_fmt(a);
    }
}

/// How a value goes into markup: `Markup` as it is, anything else
/// displayed and escaped.
pub trait Piece {
    fn put(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

impl Piece for Markup {
    fn put(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Escapes what `Display` writes, as it is written.
struct EscWriter<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl Write for EscWriter<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escape_into(self.0, s)
    }
}

impl<T: Display + ?Sized> Piece for T {
    fn put(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(EscWriter(f), "{self}")
    }
}

/// A value wrapped for [`w!`](crate::w).
#[doc(hidden)]
pub struct P<'a, T: Piece + ?Sized>(pub &'a T);

impl<T: Piece + ?Sized> Display for P<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.put(f)
    }
}

/// `w!(m, "<td class=\"x\">{}</td>", value)`: append to a [`Markup`]; every
/// argument is escaped (a `Markup` argument is already safe). Arguments are
/// positional only: an inline `{name}` would bypass the escaping, so the
/// format string must not capture variables.
#[macro_export]
macro_rules! w {
    ($m:expr, $fmt:literal $(, $a:expr)* $(,)?) => {
        $m.write_fmt_pieces(format_args!($fmt $(, $crate::html::P(&$a))*))
    };
}

/// Find the closest ancestor (or self) of an event target with `attr`.
pub fn closest_with(target: Option<web_sys::EventTarget>, attr: &str) -> Option<web_sys::Element> {
    use wasm_bindgen::JsCast;
    let el: web_sys::Element = target?.dyn_into().ok()?;
    el.closest(&format!("[{attr}]")).ok().flatten()
}

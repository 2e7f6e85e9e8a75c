//! What the engine tells the page so that it can teach: names and labels of
//! the trace's event kinds, which events are about the wire, which frame a
//! host's decision is about, where two labs part, the mistakes to draw on
//! the diagram. Knowledge of the network stays here; the web
//! crate only lays it out.

pub mod badges;
pub mod compare;
pub mod event_kind;
pub mod failure;

pub use event_kind::KindText;

//! Small containers and serde helpers the model's types share.

pub mod serde_util;
pub mod shared;
pub mod vecmap;

//! `net/core`: network devices (`dev.c`) and the neighbour table
//! (`neighbour.c`), shared by every protocol family.

pub mod dev;
pub mod neighbour;
pub mod xmit;

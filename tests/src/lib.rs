//! The workspace's tests live in `tests/`; this library only compiles the Rust examples of the
//! root README and of `docs/` as doctests, so they stay true.
#![doc = include_str!("../../README.md")]

/// The examples of `docs/client.md` (uploads, raw operations, downloads).
#[doc = include_str!("../../docs/client.md")]
pub mod client_guide {}

/// The examples of `docs/budget.md` (a budget shared through Redis).
#[doc = include_str!("../../docs/budget.md")]
pub mod budget_guide {}

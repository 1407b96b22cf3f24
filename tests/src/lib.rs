//! The workspace's tests live in `tests/`; this library only compiles the root README's Rust
//! examples as doctests, so they stay true.
#![doc = include_str!("../../README.md")]

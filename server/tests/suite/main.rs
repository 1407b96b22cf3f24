//! The local server's integration tests, one binary: the binary run as a process (`cli`), its
//! faults, the files family, its limits and the wire format, with `support` shared.

mod support;

mod cli;
mod faults;
mod files;
mod limits;
mod wire;

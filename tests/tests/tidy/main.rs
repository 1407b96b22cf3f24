//! Tidy and architecture checks over the workspace's own source files (docs/ARCHITECTURE.md
//! names each invariant and the test here that checks it). Each check reports what it finds as
//! `file:line: what (fix)`, with an explicit allowlist of known offenders, each naming who
//! removes it; an allowlist entry that matches nothing fails too, so the lists only shrink.
//! Every check has a test that plants an offender and sees it reported.

mod architecture;
mod cycles;
mod cycles_allowlist;
mod lexer;
mod long_files;
mod long_functions;
mod source;
mod spec_facts;

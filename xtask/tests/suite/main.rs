//! xtask's integration tests, one binary: `generate`, the spec-diff report and rules, its command
//! line, and the optic cross-check, with `support` (fixture pairs, snapshots) shared.

mod support;

mod generate;
mod optic_crosscheck;
mod spec_diff;
mod spec_diff_cli;
mod spec_diff_rules;

//! The `feishu-drive` binary, run as a real process against a local server: every subcommand,
//! batches with `--json`, real signals and resumes, exit codes, a real Redis, completions.

mod support;
// The real redis-server the budget tests start (tools/install.sh installs it).
#[path = "../../../tests/tests/suite/kit/budget.rs"]
mod budget_support;

mod batch;
mod commands;
mod exits;
mod redis;
mod signals;

//! The test crate's integration tests, one binary: each module is what was once a test binary of
//! its own (`tests/tests/<name>.rs`), so test names still read `upload_journal::…`; `kit` is what
//! they share (a local server and uploaders, the e2e steps, the recording proxy, Redis).
//!
//! Every test here shares its process and harness with the others, running on parallel threads:
//! none may set process-wide state (environment variables, the working directory, a global
//! allocator or tracing subscriber) or depend on a clock margin that another test's load can eat.
//! Tests that need a process of their own run one (`upload-child`, `budget-child`, the server
//! binary) and measure that. Two binaries stay apart: `tidy` (a static check run alone before each
//! commit, so it must not wait for this binary to build) and `generated_builds` (it compiles
//! committed generated code, which `codegen_snapshots` and `codegen_corpus` here regenerate: a
//! stale copy that no longer compiles must not stop its own regeneration).

mod kit;

mod budget_processes;
mod budget_redis;
mod client_clock;
mod client_error_codes;
mod client_loopback;
mod codegen_corpus;
mod codegen_malformed;
mod codegen_progenitor_version;
mod codegen_snapshots;
mod codegen_up_to_date;
mod download_keep_existing;
mod e2e_download;
mod e2e_errors;
mod e2e_judges;
mod e2e_upload;
mod readme_examples;
mod response_types_accept_unknown_keys;
mod schema_drift;
mod spec_official_sources;
mod upload_batch;
mod upload_faults;
mod upload_flows;
mod upload_folders;
mod upload_journal;
mod upload_limits;
mod upload_memory;
mod upload_resilience;
mod upload_soak;
mod upload_wire;

//! The tests that compile committed generated code (`tests/fixtures/codegen/`: the multipart
//! fixture and the corpus clients) and exercise it over loopback.
//!
//! A binary apart from `suite` on purpose: `suite`'s `codegen_snapshots` and `codegen_corpus`
//! compare these committed copies with a fresh generation and rewrite them outside CI. If the
//! copies were compiled into the same binary, a stale copy that no longer compiles would stop the
//! very test that regenerates it.

mod form_support;

mod codegen_corpus_builds;
mod codegen_fixture_builds;
mod codegen_lenient_builds;
mod codegen_streaming;

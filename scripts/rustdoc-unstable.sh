#!/usr/bin/env bash
# rustdoc with unstable options allowed (RUSTC_BOOTSTRAP=1), for rustdoc's JSON output on a
# stable toolchain. scripts/public-api.sh passes it to cargo as RUSTDOC, so only rustdoc runs
# this way: cargo keeps the dependencies' builds it already has (setting RUSTC_BOOTSTRAP for all
# of cargo would change every crate's fingerprint and rebuild them).
RUSTC_BOOTSTRAP=1 exec "${RUSTDOC_REAL:-rustdoc}" "$@"

#!/usr/bin/env bash
# rustdoc with unstable options allowed (RUSTC_BOOTSTRAP=1), for rustdoc's JSON output on a
# stable toolchain. scripts/public-api.sh passes it to cargo as RUSTDOC, so only rustdoc runs
# this way: cargo keeps the dependencies' builds it already has (setting RUSTC_BOOTSTRAP for all
# of cargo would change every crate's fingerprint and rebuild them).
real="${RUSTDOC_REAL:-rustdoc}"
# Never this script itself (a RUSTDOC_REAL pointing here would exec it forever).
[[ "$real" -ef "$0" ]] && real=rustdoc
RUSTC_BOOTSTRAP=1 exec "$real" "$@"

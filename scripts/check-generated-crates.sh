#!/usr/bin/env bash
# `cargo xtask generate` on every corpus spec (tests/fixtures/codegen/corpus/*.yaml): each
# standalone crate must build with no warning, with and without its `schemars` feature.
#
# The crates are written to a temporary directory, take the workspace's Cargo.lock (so they
# resolve the versions this workspace tested, offline) and share its target directory (so the
# dependencies are compiled once). Usage: scripts/check-generated-crates.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

failed=0
for spec in tests/fixtures/codegen/corpus/*.yaml; do
  name="$(basename "$spec" .yaml)"
  if ! generated="$(cargo run --locked -q -p xtask -- generate --spec "$spec" --out "$out/$name" 2>&1)"; then
    printf '%s\n' "$generated" >&2
    echo "cargo xtask generate failed on $spec" >&2
    failed=1
    continue
  fi
  cp Cargo.lock "$out/$name/"
  for features in "" "--features schemars"; do
    # shellcheck disable=SC2086
    log="$(cd "$out/$name" && cargo build --offline --message-format short $features 2>&1)" || {
      printf '%s\n' "$log" >&2
      echo "generated crate $name ($spec) does not build ${features:-with default features}" >&2
      failed=1
      continue
    }
    if grep -E '^(src/.*: )?warning' <<<"$log" >&2; then
      echo "generated crate $name ($spec) builds with warnings ${features:-with default features}" >&2
      failed=1
    else
      echo "generated crate $name: builds with no warning ${features:-(default features)}"
    fi
  done
done
exit "$failed"

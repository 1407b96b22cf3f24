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

# The vendors' corpus (tests/fixtures/codegen/wild/*.json): each generated outside strict mode
# (what cannot be generated is left out, with a warning), then all checked at once as members of
# one workspace, so that the dependencies are checked once and the crates in parallel. All 105
# of its crates compile (docs/generate.md); it takes about 7 to 15 minutes on two busy cores, so
# it runs when asked: CHECK_WILD_CORPUS=1 scripts/check-generated-crates.sh, as .ci/run does. When
# it runs, a crate that does not compile fails it.
if [[ "${CHECK_WILD_CORPUS:-0}" != 1 ]]; then
  echo "vendors' corpus: skipped (CHECK_WILD_CORPUS=1 checks it)"
  exit "$failed"
fi
wild="$out/wild"
mkdir -p "$wild"
members=()
for spec in tests/fixtures/codegen/wild/*.json; do
  name="wild-$(basename "$spec" .json | tr -c 'A-Za-z0-9_\n-' '-')"
  if ! generated="$(cargo run --locked -q -p xtask -- generate --spec "$spec" --out "$wild/$name" --name "$name" 2>&1)"; then
    printf '%s\n' "$generated" >&2
    echo "cargo xtask generate failed on $spec" >&2
    failed=1
    continue
  fi
  # A member of the workspace below, not a workspace of its own.
  sed -i 's/^\[workspace\]$//' "$wild/$name/Cargo.toml"
  members+=("\"$name\"")
done
{
  echo "[workspace]"
  echo "resolver = \"3\""
  printf 'members = [%s]\n' "$(IFS=,; echo "${members[*]}")"
} >"$wild/Cargo.toml"
cp Cargo.lock "$wild/"
if log="$(cd "$wild" && cargo check --offline --workspace --message-format short 2>&1)"; then
  echo "vendors' corpus: ${#members[@]} generated crates check"
else
  printf '%s\n' "$log" | grep -E '^error|could not compile' >&2 || true
  echo "some generated crates of the vendors' corpus do not compile (listed above)" >&2
  failed=1
fi
exit "$failed"

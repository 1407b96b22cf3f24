#!/usr/bin/env bash
# Runs the whole test suite (every crate of the workspace) while stress-ng keeps every core
# busy, several times: the proof that tests which wait, count requests per window or hold a rate
# hold on a loaded machine, beside each other in one harness (each crate's integration tests are
# one binary, its tests on parallel threads). Not part of .ci/run (it is slow by design); its
# figures are in docs/reliability.md.
#
# Usage: scripts/stress-tests.sh [RUNS]   (default 3; needs stress-ng: apt-get install stress-ng)
#        STRESS_TESTS="upload_faults client_clock" scripts/stress-tests.sh 3
#                                         (only these modules of feishu-drive-tests' `suite`)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
command -v stress-ng >/dev/null || { echo "stress-ng not found: apt-get install stress-ng" >&2; exit 1; }
# shellcheck source=/dev/null
source tools/env.sh
export INSTA_UPDATE=no CI=true
args=(--workspace)
filters=()
if [[ -n "${STRESS_TESTS:-}" ]]; then
  args=(-p feishu-drive-tests --test suite)
  # libtest runs the tests whose name contains any of the filters: `module::` names a former binary.
  for t in $STRESS_TESTS; do filters+=("$t::"); done
fi
cargo test --locked -q "${args[@]}" --no-run
# The CLI's tests run FEISHU_DRIVE_BIN and, with CI=true, fail when it is unset (CI installs the
# binary first). Here the load is what is under test, not the install: the build-tree binary the
# --no-run above just built stands in for it, unless one is named already.
export FEISHU_DRIVE_BIN="${FEISHU_DRIVE_BIN:-$PWD/target/debug/feishu-drive}"
[[ -x "$FEISHU_DRIVE_BIN" ]] || { echo "no CLI binary at $FEISHU_DRIVE_BIN" >&2; exit 1; }
cores="$(nproc)"
stress-ng --cpu "$cores" --timeout 0 --quiet &
stress=$!
trap 'kill "$stress" 2>/dev/null || true' EXIT
failed=0
for run in $(seq 1 "$runs"); do
  started=$SECONDS
  if cargo test --locked -q "${args[@]}" -- "${filters[@]}" >"target/stress-run-$run.log" 2>&1; then
    echo "run $run/$runs: ok in $((SECONDS - started)) s (load $(cut -d' ' -f1 /proc/loadavg), ${cores} stress-ng CPU workers)"
  else
    echo "run $run/$runs: FAILED in $((SECONDS - started)) s; see target/stress-run-$run.log"
    grep -E "panicked|FAILED|failed" "target/stress-run-$run.log" | head -20
    failed=1
  fi
done
exit "$failed"

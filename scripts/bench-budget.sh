#!/usr/bin/env bash
# One budget per app, across processes: 1, 2, 4 and 8 `budget-child` processes (each a raw
# `Client` uploading PARTS / n blocks of 64 KiB, 2 in flight) against an in-process local server
# limiting every endpoint to 5 requests per second per app (HTTP 429 + x-ogw-ratelimit-reset),
# first with an in-process budget in each process, then with one Redis budget shared by all.
# Prints the README's table: aggregate upload_part throughput against the 5/s ceiling, and the
# refusals the server counted. Needs redis-server (tools/install.sh --system-only).
#
# The figures are bound by the 5/s limit, not CPU, so the debug build (the tests' own) is used.
# Usage: scripts/bench-budget.sh        Env: PROCESSES ("1 2 4 8"), PARTS (80)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v redis-server >/dev/null || { echo "redis-server not found: bash tools/install.sh --system-only" >&2; exit 1; }
PROCESSES="${PROCESSES:-1 2 4 8}" PARTS="${PARTS:-80}" \
  cargo test -q -p feishu-drive-tests --test suite -- \
  --ignored budget_processes::benchmark --exact --nocapture

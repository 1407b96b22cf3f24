#!/usr/bin/env bash
# Upload throughput against the local server running as its own process
# (target/release/feishu-drive-server, 4 MiB blocks, no rate limit):
#   1. the Uploader vs the ideal client, 1 GiB, concurrency 4 and 8, 3 runs, median
#      (client/benches/upload.rs, `--only throughput`);
#   2. the lark-oapi Python SDK's sequential loop (scripts/bench_lark_oapi.py), LARK_MIB MiB;
#   3. the Uploader at 5 QPS against an in-process server limiting to 5 QPS (`--only ratelimit`).
#
# Usage: scripts/bench-upload.sh [throughput|lark|ratelimit ...]   (default: all three)
# Env: SIZE_MIB (1024), LARK_MIB (256), RL_MIB (200), RUNS (3), CONCURRENCY (4,8), PORT (18787),
#      LATENCY_MS (0: milliseconds the server adds to every media request, a stand-in for a WAN RTT)
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB="${SIZE_MIB:-1024}" LARK_MIB="${LARK_MIB:-256}" RL_MIB="${RL_MIB:-200}"
RUNS="${RUNS:-3}" CONCURRENCY="${CONCURRENCY:-4,8}" PORT="${PORT:-18787}" LATENCY_MS="${LATENCY_MS:-0}"
what=("$@"); [[ ${#what[@]} -gt 0 ]] || what=(throughput lark ratelimit)
want() { [[ " ${what[*]} " == *" $1 "* ]]; }

cargo build --release -q -p feishu-drive-server
cargo bench -q -p feishu-drive --bench upload --no-run

work="$(mktemp -d)"
server_pid=""
cleanup() {
  # SIGINT: the server's clean stop; `|| true` keeps its exit status out of the script's.
  if [[ -n "$server_pid" ]]; then kill -INT "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

start_server() {
  mkdir -p "$work/data"
  RUST_LOG=warn target/release/feishu-drive-server --addr "127.0.0.1:$PORT" \
    --data-dir "$work/data" --block-size $((4 * 1024 * 1024)) --latency-ms "$LATENCY_MS" > "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    grep -q "listening on" "$work/server.log" 2>/dev/null && return
    sleep 0.1
  done
  echo "the server did not start:" >&2; cat "$work/server.log" >&2; exit 1
}
base_url="http://127.0.0.1:$PORT"

echo "== $(date -u +%FT%TZ) $(uname -m), $(nproc) cores, server latency ${LATENCY_MS} ms; load: $(uptime | sed 's/.*load/load/')"
if want throughput || want lark; then start_server; fi

if want throughput; then
  cargo bench -q -p feishu-drive --bench upload -- --only throughput --base-url "$base_url" \
    --size-mib "$SIZE_MIB" --runs "$RUNS" --concurrency "$CONCURRENCY"
  echo "   load after: $(uptime | sed 's/.*load/load/')"
fi

if want lark; then
  head -c $((LARK_MIB * 1024 * 1024)) /dev/urandom > "$work/lark.bin"
  tools/.venv/bin/python scripts/bench_lark_oapi.py --base-url "$base_url" --runs "$RUNS" "$work/lark.bin"
  echo "   load after: $(uptime | sed 's/.*load/load/')"
fi

if want ratelimit; then
  cargo bench -q -p feishu-drive --bench upload -- --only ratelimit --rl-size-mib "$RL_MIB" --runs "$RUNS"
  echo "   load after: $(uptime | sed 's/.*load/load/')"
fi

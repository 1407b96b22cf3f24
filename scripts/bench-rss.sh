#!/usr/bin/env bash
# Peak RSS of the CLI (target/release/feishu-drive, the `feishu-drive` command) uploading 64 MiB
# and 1 GiB of random bytes to the local server running as its own process, no client-side rate
# limit, each run with a journal of its own (a fresh XDG_STATE_HOME: a second run of the same
# command would otherwise find the file done and skip it):
#   /usr/bin/time -f %M  -> KiB; target <= 64 MiB (65536 KiB).
#
# Usage: scripts/bench-rss.sh      Env: SIZES_MIB ("64 1024"), RUNS (3), PORT (18788), CONCURRENCY (4)
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES_MIB="${SIZES_MIB:-64 1024}" RUNS="${RUNS:-3}" PORT="${PORT:-18788}" CONCURRENCY="${CONCURRENCY:-4}"

cargo build --release -q -p feishu-drive-server
cargo build --release -q -p feishu-drive-cli --bin feishu-drive

work="$(mktemp -d)"
server_pid=""
cleanup() {
  # SIGINT: the server's clean stop. `|| true`: under `set -e` the trap's last status would
  # otherwise become the script's (the server's 130/143), hiding the verdict.
  if [[ -n "$server_pid" ]]; then kill -INT "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/data"
RUST_LOG=warn target/release/feishu-drive-server --addr "127.0.0.1:$PORT" --data-dir "$work/data" \
  > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/server.log" 2>/dev/null && break; sleep 0.1; done
base_url="http://127.0.0.1:$PORT"

echo "== $(date -u +%FT%TZ) $(nproc) cores; load: $(uptime | sed 's/.*load/load/')"
echo "peak RSS of target/release/feishu-drive --rps 0 upload --concurrency $CONCURRENCY (KiB, $RUNS runs)"
status=0
for mib in $SIZES_MIB; do
  file="$work/random-$mib.bin"
  head -c $((mib * 1024 * 1024)) /dev/urandom > "$file"
  peaks=()
  for run in $(seq "$RUNS"); do
    LARK_APP_ID=cli_local LARK_APP_SECRET=local-secret XDG_STATE_HOME="$work/state-$mib-$run" \
      /usr/bin/time -f '%M %e' -o "$work/rss" \
      target/release/feishu-drive --base-url "$base_url" --rps 0 upload "$file" \
      --parent-type docx_file --parent-node doxcnBenchRss --concurrency "$CONCURRENCY" \
      > "$work/out" 2> "$work/err" \
      || { cat "$work/err" >&2; exit 1; }
    read -r peak secs < <(tail -n1 "$work/rss")
    peaks+=("$peak")
    echo "  $mib MiB run $run: peak RSS $peak KiB ($((peak / 1024)) MiB); $secs s," \
      "$(awk -v m="$mib" -v s="$secs" 'BEGIN { printf "%.1f MiB/s", (s > 0 ? m / s : 0) }')"
  done
  median="$(printf '%s\n' "${peaks[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")"
  verdict=ok; (( median <= 65536 )) || { verdict="OVER the 64 MiB target"; status=1; }
  echo "  $mib MiB: median peak RSS $median KiB ($((median / 1024)) MiB) — $verdict"
  rm -f "$file"
done
echo "   load after: $(uptime | sed 's/.*load/load/')"
exit "$status"

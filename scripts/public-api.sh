#!/usr/bin/env bash
# The public API of the feishu-drive crate, one item per line, in public-api/feishu-drive.txt.
#
#   scripts/public-api.sh           rewrite the listing (after a deliberate API change)
#   scripts/public-api.sh --check   fail with a diff when the committed listing is stale (CI)
#
# rustdoc writes the crate's JSON description (an unstable rustdoc option, allowed on this stable
# toolchain for rustdoc alone by scripts/rustdoc-unstable.sh), and `cargo xtask public-api`
# turns it into the listing. Features: the default ones plus redis and schemars (native-tls
# changes no API; it would only pull in OpenSSL).
set -euo pipefail
cd "$(dirname "$0")/.."

check=()
case "${1:-}" in
  --check) check=(--check) ;;
  "") ;;
  *) echo "usage: scripts/public-api.sh [--check]" >&2; exit 2 ;;
esac

target_dir="${CARGO_TARGET_DIR:-target}"
real_rustdoc="${RUSTDOC:-rustdoc}"
RUSTDOC="$PWD/scripts/rustdoc-unstable.sh" RUSTDOC_REAL="$real_rustdoc" \
  cargo rustdoc --locked -q -p feishu-drive --lib --features redis,schemars \
  -- -Z unstable-options --output-format json
cargo run --locked -q -p xtask -- public-api "$target_dir/doc/feishu_drive.json" \
  public-api/feishu-drive.txt "${check[@]}"

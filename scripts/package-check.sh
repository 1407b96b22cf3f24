#!/usr/bin/env bash
# The crates are ready for crates.io: every workspace member without `publish = false` has the
# metadata crates.io shows (description, licence, readme, repository, keywords, categories),
# packages with its licence files and readme, and builds from its own archive.
#
#   scripts/package-check.sh [--allow-dirty]   (CI runs it; needs the network to crates.io only)
#
# `cargo package --workspace` (cargo >= 1.90) packages the members together and verifies each
# archive against a local registry overlay holding the others, so the CLI's dependency on the
# not-yet-published library and server resolves to their archives, not to crates.io. Members
# with `publish = false` (tests/, xtask/) are excluded, so the list follows the manifests.
set -euo pipefail
cd "$(dirname "$0")/.."

metadata="$(cargo metadata --locked --format-version 1 --no-deps)"

# One line per member: `publish <name> <version>` or `internal <name>`; a publishable member
# missing metadata fails here, naming the field.
listing="$(python3 -c '
import json, sys
meta = json.load(sys.stdin)
members = set(meta["workspace_members"])
missing = []
for p in meta["packages"]:
    if p["id"] not in members:
        continue
    if p["publish"] == []:
        print("internal", p["name"])
        continue
    for field in ("description", "license", "readme", "repository", "keywords", "categories"):
        if not p.get(field):
            missing.append(p["name"] + ": no " + field)
    print("publish", p["name"], p["version"])
if missing:
    sys.exit("publishable crates lack metadata:\n  " + "\n  ".join(missing))
' <<<"$metadata")"

excludes=()
publishable=()
while read -r kind name version; do
  case "$kind" in
    internal) excludes+=(--exclude "$name") ;;
    publish) publishable+=("$name-$version") ;;
  esac
done <<<"$listing"
echo "publishable: ${publishable[*]}"

# Cargo extracts a registry crate once per name and version, and the overlay's archives have the
# name and version of every earlier run's: an extraction an earlier run left (of an older commit)
# would be built in place of this commit's archive, and the CLI verified against an old library.
# Remove those extractions first; crates.io's are untouched.
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
for crate in "${publishable[@]}"; do
  for stale in "$cargo_home"/registry/src/*/"$crate"; do
    case "$stale" in
      */index.crates.io-*) ;;
      *) [[ -d "$stale" ]] && rm -rf "$stale" && echo "removed the stale extraction $stale" ;;
    esac
  done
done

cargo package --locked --workspace "${excludes[@]}" "$@"

target_dir="$(python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])' <<<"$metadata")"
status=0
for crate in "${publishable[@]}"; do
  archive="$target_dir/package/$crate.crate"
  files="$(tar -tzf "$archive")"
  for wanted in Cargo.toml README.md LICENSE-MIT LICENSE-APACHE; do
    grep -qx "$crate/$wanted" <<<"$files" || { echo "$archive lacks $wanted" >&2; status=1; }
  done
  printf '  %-32s %4d files, %s compressed\n' "$crate.crate" "$(wc -l <<<"$files")" \
    "$(du -h "$archive" | cut -f1)"
done
exit "$status"

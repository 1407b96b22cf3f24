#!/usr/bin/env bash
# Install the pinned external judge tools used to check the OpenAPI spec and
# the client against it:
#
#   tools/node_modules  <- package.json + package-lock.json (npm ci)
#       redocly (@redocly/cli), prism (@stoplight/prism-cli), optic (@useoptic/optic)
#   tools/.venv         <- requirements.lock (pip --require-hashes; made from
#                          requirements.txt + constraints.txt by pip-compile)
#       openapi-spec-validator, schemathesis (st), lark-oapi (python SDK)
#   tools/cargo/bin     <- cargo install --locked (exact version below)
#       cargo-machete (unused-dependency check in .ci/run)
#       cargo-mutants with INSTALL_CARGO_MUTANTS=1 (mutation testing, run by hand: docs/guarantees.md;
#       not in .ci/run, too slow)
#   system packages     <- Debian's redis-server and strace (apt-get), for the budget tests
#       (tests/tests/suite/budget_*.rs start their own redis-server) and the journal's fsync test;
#       each skipped when on PATH
#
# Offline: every half installs from its own warm cache first and says when it
# needs the network. npm ci runs with --prefer-offline (~/.npm cache); pip
# installs from tools/.wheels (filled by `pip download` the first time);
# cargo install runs --offline first (~/.cargo/registry). A line
# "needs the network: ..." on stderr names what was missing.
#
# Idempotent and fast when already installed: each half writes a stamp file
# (inside node_modules/ and .venv/) holding a hash of its inputs, and is
# skipped while the stamp matches.
#
# Usage:
#   tools/install.sh                  install what is missing or stale
#   tools/install.sh --force          reinstall both halves
#   tools/install.sh --node-only | --python-only | --system-only | --cargo-only
#   tools/install.sh --no-system      skip the system packages (redis-server, strace)
#   tools/install.sh --verify         after installing, print each tool's version
#   tools/install.sh --relock-node    re-resolve package-lock.json from package.json
#   tools/install.sh --relock-python  re-resolve constraints.txt and the hashed requirements.lock
#
# Environment: PYTHON (interpreter for the venv; default python3.11, else python3),
#              NPM (default npm).
# Afterwards: `source tools/env.sh` to put the tools on PATH.
set -euo pipefail

TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$TOOLS_DIR"

force=0 do_node=1 do_python=1 do_system=1 do_cargo=1 verify=0 relock_node=0 relock_python=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --node-only) do_python=0 do_system=0 do_cargo=0 ;;
    --python-only) do_node=0 do_system=0 do_cargo=0 ;;
    --cargo-only) do_node=0 do_python=0 do_system=0 ;;
    --verify) verify=1 ;;
    --relock-node) relock_node=1 force=1 ;;
    --relock-python) relock_python=1 force=1 ;;
    --system-only) do_node=0 do_python=0 do_cargo=0 ;;
    --no-system) do_system=0 ;;
    -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

PIP_TOOLS_VERSION=7.6.2  # only for --relock-python

log() { printf '[tools/install] %s\n' "$*" >&2; }

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

NPM="${NPM:-npm}"
if [[ -z "${PYTHON:-}" ]]; then
  if command -v python3.11 >/dev/null 2>&1; then PYTHON=python3.11; else PYTHON=python3; fi
fi

# ---------------------------------------------------------------- node half
install_node() {
  command -v node >/dev/null || { log "node not found on PATH"; exit 1; }
  local node_major
  node_major="$(node -p 'process.versions.node.split(".")[0]')"
  if (( node_major < 20 )); then
    log "node >= 20 required (found $(node --version))"; exit 1
  fi

  if (( relock_node )); then
    log "re-resolving package-lock.json"
    rm -rf node_modules package-lock.json
    "$NPM" install --no-audit --no-fund --ignore-scripts --save-exact
  fi

  local want stamp=node_modules/.tools-install-stamp
  want="node${node_major} $(hash_of package.json package-lock.json)"
  if (( ! force )) && [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "node_modules up to date (skip)"
    return
  fi
  log "npm ci ($(node --version), npm $("$NPM" --version))"
  # --ignore-scripts: the only install scripts in the tree are a telemetry
  # ping (@scarf/scarf) and a banner (es5-ext); none of the tools needs one.
  # --prefer-offline: take every tarball from the npm cache when it is there
  # (package-lock.json pins each one with an integrity hash), so a warm
  # machine installs with no network.
  if ! "$NPM" ci --prefer-offline --no-audit --no-fund --ignore-scripts --loglevel=error; then
    log "needs the network: npm ci could not install package-lock.json from the npm cache (~/.npm) or the registry"
    exit 1
  fi
  for bin in redocly prism optic; do
    [[ -x "node_modules/.bin/$bin" ]] || { log "missing node_modules/.bin/$bin after npm ci"; exit 1; }
  done
  printf '%s\n' "$want" > "$stamp"
}

# -------------------------------------------------------------- python half
install_python() {
  command -v "$PYTHON" >/dev/null || { log "$PYTHON not found on PATH"; exit 1; }
  local pyver
  pyver="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
    log "python >= 3.10 required (found $pyver)"; exit 1
  fi

  local want stamp=.venv/.tools-install-stamp
  want="py${pyver} $(hash_of requirements.lock)"
  if (( ! force )) && [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
      && [[ -x .venv/bin/python ]] && .venv/bin/python -c '' 2>/dev/null; then
    log ".venv up to date (skip)"
    return
  fi
  log "creating .venv with $PYTHON ($pyver)"
  rm -rf .venv
  "$PYTHON" -m venv .venv
  local pip=(.venv/bin/python -m pip --disable-pip-version-check --no-input -q)
  if (( relock_python )); then
    log "re-resolving constraints.txt and requirements.lock (needs the network)"
    "${pip[@]}" install -r requirements.txt
    {
      echo "# Full transitive pin set for tools/requirements.txt (pip freeze of tools/.venv)."
      echo "# Regenerate: tools/install.sh --relock-python"
      .venv/bin/python -m pip --disable-pip-version-check freeze --exclude-editable \
        | grep -v -i -E '^(openapi-spec-validator|lark-oapi|schemathesis)=='
    } > constraints.txt
    # pip-compile (pip-tools, pinned) records every published file's sha256 for each pin, so
    # the lock installs with --require-hashes on any platform the pins have wheels for.
    "$PYTHON" -m venv .venv-piptools
    .venv-piptools/bin/python -m pip --disable-pip-version-check -q install "pip-tools==$PIP_TOOLS_VERSION"
    .venv-piptools/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras \
      --no-emit-index-url --no-emit-find-links --output-file requirements.lock requirements.lock.in
    rm -rf .venv-piptools
    want="py${pyver} $(hash_of requirements.lock)"
  fi
  # Every file pip installs must match a sha256 in requirements.lock (--require-hashes), whether
  # it comes from tools/.wheels, this script's own cache (tried alone first: no network), or PyPI
  # (only when a pinned wheel is missing from the cache).
  mkdir -p .wheels
  local locked=(--require-hashes --only-binary :all: -r requirements.lock)
  if ! "${pip[@]}" install --no-index --find-links .wheels "${locked[@]}" 2>/dev/null; then
    log "tools/.wheels lacks some pinned wheels: downloading them from PyPI (needs the network)"
    if ! "${pip[@]}" download -d .wheels "${locked[@]}"; then
      log "needs the network: pip could not download the pinned wheels into tools/.wheels"
      exit 1
    fi
    "${pip[@]}" install --no-index --find-links .wheels "${locked[@]}"
  fi
  for bin in openapi-spec-validator st schemathesis; do
    [[ -x ".venv/bin/$bin" ]] || { log "missing .venv/bin/$bin after pip install"; exit 1; }
  done
  .venv/bin/python -c 'import lark_oapi' || { log "lark_oapi does not import"; exit 1; }
  printf '%s\n' "$want" > "$stamp"
}

# -------------------------------------------------------------- system half
# Debian packages: redis-server for the shared-budget tests, strace for the test that watches
# the journal's fsyncs (tests/tests/suite/upload_journal.rs). `apt-get update` only when the install
# fails on a stale or empty package list.
install_system() {
  local missing=() command package
  for pair in redis-server:redis-server strace:strace; do
    command=${pair%%:*} package=${pair##*:}
    if command -v "$command" >/dev/null 2>&1; then
      log "$command present (skip)"
    else
      missing+=("$package")
    fi
  done
  (( ${#missing[@]} )) || return 0
  command -v apt-get >/dev/null || { log "${missing[*]} not found and no apt-get: install them (Redis >= 6)"; exit 1; }
  local sudo=()
  (( EUID == 0 )) || sudo=(sudo)
  local install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}")
  log "apt-get install ${missing[*]}"
  if ! "${sudo[@]}" "${install[@]}"; then
    log "apt-get update, then install again"
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" "${install[@]}"
  fi
  for command in redis-server strace; do
    command -v "$command" >/dev/null || { log "$command missing after apt-get install"; exit 1; }
  done
}

# --------------------------------------------------------------- cargo half
# Exact versions; `cargo install --locked` builds with the tool's own Cargo.lock.
CARGO_MACHETE_VERSION=0.9.2
CARGO_MUTANTS_VERSION=25.3.1
# install_crate CRATE VERSION BIN VERSION_CMD...: skipped while BIN reports VERSION.
install_crate() {
  local crate=$1 version=$2 bin=cargo/bin/$3
  shift 3
  if (( ! force )) && [[ -x "$bin" ]] \
      && [[ "$("$bin" "$@" 2>/dev/null)" == *"$version"* ]]; then
    log "$crate $version up to date (skip)"
    return
  fi
  log "cargo install $crate@$version into tools/cargo"
  local args=(install --locked --force --quiet --root cargo "$crate@$version")
  if ! cargo "${args[@]}" --offline 2>/dev/null; then
    log "$crate is not in the local registry cache: fetching it from crates.io (needs the network)"
    cargo "${args[@]}" || { log "needs the network: cargo install $crate@$version failed"; exit 1; }
  fi
}
install_cargo() {
  install_crate cargo-machete "$CARGO_MACHETE_VERSION" cargo-machete --version
  # cargo-mutants only on request (INSTALL_CARGO_MUTANTS=1): nothing in .ci/run runs it, and
  # building it would add minutes to every clean clone. It answers --version only as a cargo
  # subcommand (`cargo-mutants mutants --version`).
  if [[ "${INSTALL_CARGO_MUTANTS:-0}" == 1 ]]; then
    install_crate cargo-mutants "$CARGO_MUTANTS_VERSION" cargo-mutants mutants --version
  fi
}

(( do_node )) && install_node
(( do_python )) && install_python
(( do_cargo )) && install_cargo
(( do_system )) && install_system

if (( verify )); then
  # shellcheck source=tools/env.sh
  source "$TOOLS_DIR/env.sh"
  (( do_node )) && {
    echo "redocly $(redocly --version 2>/dev/null | tail -n1)"
    echo "prism $(prism --version)"
    echo "optic $(optic --version)"
  }
  (( do_cargo )) && { cargo-machete --version; cargo-mutants mutants --version; }
  (( do_system )) && { redis-server --version; strace -V | head -n1; }
  (( do_python )) && {
    openapi-spec-validator --version
    schemathesis --version
    python -c 'import importlib.metadata as m; print("lark-oapi", m.version("lark-oapi"))'
  }
fi
log "done"

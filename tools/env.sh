# Source me (bash/zsh): `source tools/env.sh`
# Puts the pinned judge tools installed by tools/install.sh on PATH and turns
# off the tools' telemetry / update checks (there is no network here anyway).
# Safe to source more than once.
if [ -n "${BASH_SOURCE:-}" ]; then
  _tools_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
elif [ -n "${ZSH_VERSION:-}" ]; then
  _tools_dir="$(cd "$(dirname "${(%):-%x}")" && pwd)"
else
  _tools_dir="$(pwd)/tools"
fi
case ":${PATH}:" in
  *":${_tools_dir}/node_modules/.bin:"*) ;;
  *) PATH="${_tools_dir}/node_modules/.bin:${PATH}" ;;
esac
case ":${PATH}:" in
  *":${_tools_dir}/.venv/bin:"*) ;;
  *) PATH="${_tools_dir}/.venv/bin:${PATH}" ;;
esac
case ":${PATH}:" in
  *":${_tools_dir}/cargo/bin:"*) ;;
  *) PATH="${_tools_dir}/cargo/bin:${PATH}" ;;
esac
export PATH
export JUDGE_TOOLS_DIR="${_tools_dir}"
# redocly: no telemetry, no update banner
export REDOCLY_TELEMETRY=off
export REDOCLY_SUPPRESS_UPDATE_NOTICE=true
# optic: no segment/sentry, no update-notifier
export OPTIC_TELEMETRY_LEVEL=off
export NO_UPDATE_NOTIFIER=1
unset _tools_dir

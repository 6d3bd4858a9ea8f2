#!/usr/bin/env bash
# Remove bbj-coder installed by install.sh (Linux, macOS): the user service, the private Python
# environment, the `bbj-coder` command link and bbj-coder's entries in Continue.dev's config.
# Your models, config and token stay unless you ask (--remove-models). Safe to run twice.
set -euo pipefail

REMOVE_MODELS=0
SUMMARY=()

usage() {
    cat <<'EOF'
Usage: bash uninstall.sh [--prefix DIR] [--remove-models]

  --prefix DIR       where install.sh put the environment (default: this script's folder
                     when it holds the environment, else the same default as install.sh)
  --remove-models    also delete the installed models (kept by default)
  -h, --help         this text
EOF
}

say() { printf '%s\n' "$*"; }
record() { SUMMARY+=("$1"); say "    $1"; }
die() {
    printf 'uninstall.sh: %s\n' "$*" >&2
    exit 1
}

default_prefix() {
    if [ "$(uname -s)" = "Darwin" ]; then
        printf '%s\n' "$HOME/Library/Application Support/bbj-coder"
    else
        printf '%s\n' "${XDG_DATA_HOME:-$HOME/.local/share}/bbj-coder"
    fi
}

# The copy install.sh leaves in the prefix knows where it is; the bundle's copy uses the default.
SELF_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -f "$SELF_DIR/venv/pyvenv.cfg" ]; then
    PREFIX="$SELF_DIR"
else
    PREFIX="${BBJ_CODER_PREFIX:-$(default_prefix)}"
fi

parse_args() {
    while [ "$#" -gt 0 ]; do
        case "$1" in
            --prefix) PREFIX="${2:?--prefix needs a folder}"; shift 2 ;;
            --remove-models) REMOVE_MODELS=1; shift ;;
            -h | --help) usage; exit 0 ;;
            *) usage >&2; die "unknown option $1" ;;
        esac
    done
}

models_dir() {
    "$VENV_DIR/bin/python" -c 'from daemon.paths import app_paths; print(app_paths().models_dir)'
}

remove_systemd_unit() {
    local unit="${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user/bbj-coder.service"
    [ -f "$unit" ] || return 0
    if systemctl --user show-environment >/dev/null 2>&1; then
        systemctl --user disable --now bbj-coder.service >/dev/null 2>&1 || true
    fi
    rm -f -- "$unit"
    systemctl --user daemon-reload >/dev/null 2>&1 || true
    record "service removed: $unit"
}

remove_launchd_agent() {
    local plist="$HOME/Library/LaunchAgents/com.basis.bbj-coder.plist"
    [ -f "$plist" ] || return 0
    launchctl bootout "gui/$(id -u)/com.basis.bbj-coder" >/dev/null 2>&1 || true
    rm -f -- "$plist"
    record "service removed: $plist"
}

stop_daemon() {
    case "$(uname -s)" in
        Darwin) remove_launchd_agent ;;
        *) remove_systemd_unit ;;
    esac
    if [ -x "$BBJ" ]; then
        record "$("$BBJ" stop 2>&1 || true)"
    fi
}

remove_continue_entries() {
    local folder="${CONTINUE_GLOBAL_DIR:-$HOME/.continue}"
    [ -d "$folder" ] && [ -x "$VENV_DIR/bin/python" ] || return 0
    if "$VENV_DIR/bin/python" -m daemon continue uninstall; then
        record "Continue.dev: bbj-coder entries removed (everything else kept)"
    else
        record "Continue.dev: could not remove the bbj-coder entries (see above); remove them by hand"
    fi
}

remove_link() {
    local link="${BBJ_CODER_BIN_DIR:-$HOME/.local/bin}/bbj-coder"
    if [ -L "$link" ] && [ "$(readlink "$link")" = "$BBJ" ]; then
        rm -f -- "$link"
        record "command link removed: $link"
    fi
}

remove_venv() {
    if [ ! -e "$VENV_DIR" ]; then
        record "no environment at $VENV_DIR (already removed)"
        return
    fi
    [ -f "$VENV_DIR/pyvenv.cfg" ] || die "$VENV_DIR is not a Python environment; refusing to delete it."
    rm -rf -- "$VENV_DIR"
    rm -f -- "$PREFIX/uninstall.sh"
    rmdir -- "$PREFIX" 2>/dev/null || true
    record "environment removed: $VENV_DIR"
}

handle_models() {
    if [ -z "$MODELS_DIR" ]; then
        record "models: location unknown (no environment left); nothing deleted"
    elif [ "$REMOVE_MODELS" = 1 ] && [ -d "$MODELS_DIR" ]; then
        rm -rf -- "$MODELS_DIR"
        record "models removed: $MODELS_DIR"
    else
        record "models kept: $MODELS_DIR (--remove-models deletes them); config and token kept"
    fi
}

main() {
    parse_args "$@"
    VENV_DIR="$PREFIX/venv"
    BBJ="$VENV_DIR/bin/bbj-coder"
    MODELS_DIR=""
    if [ -x "$VENV_DIR/bin/python" ]; then
        MODELS_DIR="$(models_dir)"
    fi
    say "==> Removing bbj-coder"
    stop_daemon
    remove_continue_entries
    remove_link
    remove_venv
    handle_models
    say "==> Done"
}

main "$@"

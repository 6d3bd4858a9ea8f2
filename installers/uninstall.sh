#!/usr/bin/env bash
# Remove bbj-coder installed by install.sh (Linux, macOS): the user service, the private Python
# environment, the `bbj-coder` command link, bbj-coder's entries in Continue.dev's config and
# the daemon's runtime lock. Your models, config and token stay unless you ask (--remove-models,
# --purge). Safe to run twice, also from the bundle after the environment is gone.
set -euo pipefail

REMOVE_MODELS=0
PURGE=0
SUMMARY=()

usage() {
    cat <<'EOF'
Usage: bash uninstall.sh [--prefix DIR] [--remove-models] [--purge]

  --prefix DIR       where install.sh put the environment (default: this script's folder
                     when it holds the environment, else the same default as install.sh)
  --remove-models    also delete the installed models (kept by default)
  --purge            remove everything bbj-coder wrote: models, config, token, logs, cache,
                     state, and a Continue.dev config holding nothing but bbj-coder's entries
  -h, --help         this text

Environment: BBJ_CODER_HOME, XDG_* and CONTINUE_GLOBAL_DIR as at install time.
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
            --purge) PURGE=1; REMOVE_MODELS=1; shift ;;
            -h | --help) usage; exit 0 ;;
            *) usage >&2; die "unknown option $1" ;;
        esac
    done
}

# bbj-coder's folders, one per line: models config logs cache state runtime (daemon/paths.py).
dirs_from_python() {
    "$VENV_DIR/bin/python" -c 'from daemon.paths import app_paths
p = app_paths()
for d in (p.models_dir, p.config_dir, p.logs_dir, p.cache_dir, p.state_dir, p.runtime_dir):
    print(d)'
}

# The same folders by the documented defaults, when no environment is left to ask.
dirs_by_default() {
    local root uid
    uid="$(id -u)"
    if [ -n "${BBJ_CODER_HOME:-}" ]; then
        root="${BBJ_CODER_HOME/#\~/$HOME}"
        printf '%s\n' "$root/models" "$root/config" "$root/logs" "$root/cache" "$root/state" "$root/run"
    elif [ "$(uname -s)" = "Darwin" ]; then
        root="$HOME/Library/Application Support/bbj-coder"
        printf '%s\n' "$root/models" "$root" "$HOME/Library/Logs/bbj-coder" \
            "$HOME/Library/Caches/bbj-coder" "$root" "$HOME/Library/Caches/TemporaryItems/bbj-coder"
    else
        local state="${XDG_STATE_HOME:-$HOME/.local/state}/bbj-coder" runtime
        if [ -n "${XDG_RUNTIME_DIR:-}" ]; then
            runtime="$XDG_RUNTIME_DIR/bbj-coder"
        elif [ -d "/run/user/$uid" ]; then
            runtime="/run/user/$uid/bbj-coder"
        else
            runtime="${TMPDIR:-/tmp}/runtime-$uid/bbj-coder"
        fi
        printf '%s\n' "${XDG_DATA_HOME:-$HOME/.local/share}/bbj-coder/models" \
            "${XDG_CONFIG_HOME:-$HOME/.config}/bbj-coder" "$state/log" \
            "${XDG_CACHE_HOME:-$HOME/.cache}/bbj-coder" "$state" "$runtime"
    fi
}

find_dirs() {
    local listing
    if [ -x "$VENV_DIR/bin/python" ] && listing="$(dirs_from_python 2>/dev/null)"; then
        :
    else
        listing="$(dirs_by_default)"
    fi
    { read -r MODELS_DIR; read -r CONFIG_DIR; read -r LOGS_DIR; read -r CACHE_DIR
      read -r STATE_DIR; read -r RUNTIME_DIR; } <<<"$listing"
}

# rm -rf only what is plainly bbj-coder's: a path naming bbj-coder, or one under BBJ_CODER_HOME.
remove_tree() {
    local dir="$1" what="$2"
    [ -n "$dir" ] && [ -e "$dir" ] || return 0
    case "$dir" in
        / | "$HOME" | "$HOME/") die "refusing to delete $dir" ;;
    esac
    case "$dir" in
        *bbj-coder*) ;;
        *)
            if [ -z "${BBJ_CODER_HOME:-}" ] || [ "${dir#"$BBJ_CODER_HOME"/}" = "$dir" ]; then
                die "refusing to delete $dir: it is not a bbj-coder folder"
            fi ;;
    esac
    rm -rf -- "$dir"
    record "$what removed: $dir"
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
    local skeleton=()
    [ "$PURGE" = 1 ] && skeleton=(--remove-skeleton)
    if "$VENV_DIR/bin/python" -m daemon continue uninstall ${skeleton[@]+"${skeleton[@]}"}; then
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
    if [ "$REMOVE_MODELS" = 1 ] && [ -d "$MODELS_DIR" ]; then
        remove_tree "$MODELS_DIR" "models"
    elif [ "$REMOVE_MODELS" = 1 ]; then
        record "no models at $MODELS_DIR (already removed)"
    else
        record "models kept: $MODELS_DIR (--remove-models deletes them); config and token kept (--purge removes everything)"
    fi
}

purge_data() {
    remove_tree "$CONFIG_DIR" "config and token"
    remove_tree "$LOGS_DIR" "logs"
    remove_tree "$CACHE_DIR" "cache"
    remove_tree "$STATE_DIR" "state"
    if [ -n "${BBJ_CODER_HOME:-}" ]; then
        rmdir -- "${BBJ_CODER_HOME/#\~/$HOME}" 2>/dev/null || true
    else
        rmdir -- "$(dirname "$MODELS_DIR")" 2>/dev/null || true
    fi
}

main() {
    parse_args "$@"
    VENV_DIR="$PREFIX/venv"
    BBJ="$VENV_DIR/bin/bbj-coder"
    find_dirs
    say "==> Removing bbj-coder"
    stop_daemon
    remove_continue_entries
    remove_link
    remove_venv
    handle_models
    # The daemon is stopped: its lock (and nothing else) lives in the runtime folder.
    remove_tree "$RUNTIME_DIR" "runtime lock"
    [ "$PURGE" = 0 ] || purge_data
    say "==> Done"
}

main "$@"

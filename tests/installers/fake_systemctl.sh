#!/usr/bin/env bash
# A stand-in for `systemctl --user` where no systemd user session exists (containers, CI):
# it runs the unit's ExecStart the way systemd would (only the unit's Environment, not the
# caller's) and logs every call to $FAKE_SYSTEMCTL_DIR/calls. Enough for install.sh and
# uninstall.sh; not a general systemctl.
set -euo pipefail

state="${FAKE_SYSTEMCTL_DIR:?set FAKE_SYSTEMCTL_DIR}"
units="${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user"
mkdir -p "$state"
printf '%s\n' "$*" >>"$state/calls"

[ "${1:-}" = "--user" ] || { echo "fake systemctl: only --user is supported" >&2; exit 1; }
shift
action="${1:-}"
shift || true
[ "$action" = "disable" ] && [ "${1:-}" = "--now" ] && { action="disable-now"; shift; }
unit="${1:-}"

stop_unit() {
    local pid
    [ -f "$state/$unit.pid" ] || return 0
    pid="$(cat "$state/$unit.pid")"
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    rm -f -- "$state/$unit.pid"
}

start_unit() {
    local file="$units/$unit" binary environment
    [ -f "$file" ] || { echo "fake systemctl: Unit $unit not found." >&2; exit 5; }
    binary="$(sed -n 's/^ExecStart="\(.*\)" serve$/\1/p' "$file")"
    environment="$(sed -n 's/^Environment="\(.*\)"$/\1/p' "$file")"
    [ -n "$binary" ] || { echo "fake systemctl: no ExecStart in $file" >&2; exit 1; }
    # shellcheck disable=SC2086  # the unit's environment is one NAME=value word or nothing
    env -i HOME="$HOME" PATH=/usr/bin:/bin $environment "$binary" serve >>"$state/$unit.log" 2>&1 &
    printf '%s\n' "$!" >"$state/$unit.pid"
}

case "$action" in
    show-environment) printf 'HOME=%s\n' "$HOME" ;;
    daemon-reload | enable) ;;
    start) [ -f "$state/$unit.pid" ] || start_unit ;;
    restart) stop_unit; start_unit ;;
    stop | disable-now) stop_unit ;;
    *) echo "fake systemctl: unsupported action $action" >&2; exit 1 ;;
esac

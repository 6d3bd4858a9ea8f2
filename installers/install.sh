#!/usr/bin/env bash
# Install bbj-coder from this offline bundle on Linux or macOS. Nothing is downloaded, ever:
# every file is checked against SHA256SUMS first, then pip installs only from wheelhouse/.
# Safe to run again: an upgrade keeps your config, token and models.
set -euo pipefail
# bash 5.2 would put the matched text where a replacement in ${var//pattern/text} has "&".
shopt -u patsub_replacement 2>/dev/null || true

BUNDLE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3}"
PROVIDER="ollama"
WITH_SERVICE=1
WITH_START=1
WITH_CONTINUE=1
RENDER_KIND=""
RENDER_DIR=""
SUMMARY=()

usage() {
    cat <<'EOF'
Usage: bash install.sh [options]

  --prefix DIR         where the private Python environment goes
                       (default: $BBJ_CODER_PREFIX, else ~/.local/share/bbj-coder on Linux,
                       ~/Library/Application Support/bbj-coder on macOS)
  --no-service         do not register the daemon as a user service (it is still started
                       in the background for this session, and checked with doctor)
  --no-start           do not start the daemon at all (image builds, provisioning)
  --no-continue        do not touch Continue.dev's config
  --provider P         how Continue talks to the daemon: ollama (default) or openai
  --render-service KIND DIR
                       only write the service file (systemd or launchd) into DIR and exit
  -h, --help           this text

Environment: PYTHON (the Python to use, default python3), BBJ_CODER_HOME (keep config, models
and logs under one folder), CONTINUE_GLOBAL_DIR (Continue's folder, default ~/.continue).
EOF
}

say() { printf '%s\n' "$*"; }
step() { printf '\n==> %s\n' "$*"; }
record() { SUMMARY+=("$1"); say "    $1"; }
die() {
    printf 'install.sh: %s\n' "$*" >&2
    exit 1
}

default_prefix() {
    if [ "$(uname -s)" = "Darwin" ]; then
        printf '%s\n' "$HOME/Library/Application Support/bbj-coder"
    else
        printf '%s\n' "${XDG_DATA_HOME:-$HOME/.local/share}/bbj-coder"
    fi
}

PREFIX="${BBJ_CODER_PREFIX:-$(default_prefix)}"

parse_args() {
    while [ "$#" -gt 0 ]; do
        case "$1" in
            --prefix) PREFIX="${2:?--prefix needs a folder}"; shift 2 ;;
            --no-service) WITH_SERVICE=0; shift ;;
            --no-start) WITH_START=0; shift ;;
            --no-continue) WITH_CONTINUE=0; shift ;;
            --provider) PROVIDER="${2:?--provider needs ollama or openai}"; shift 2 ;;
            --render-service)
                RENDER_KIND="${2:?--render-service needs systemd or launchd}"
                RENDER_DIR="${3:?--render-service needs a folder}"
                shift 3 ;;
            -h | --help) usage; exit 0 ;;
            *) usage >&2; die "unknown option $1" ;;
        esac
    done
    case "$PROVIDER" in ollama | openai) ;; *) die "--provider must be ollama or openai" ;; esac
}


# --- 1. the bundle is intact ------------------------------------------------------------------

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    else
        shasum -a 256 "$1" | cut -d' ' -f1
    fi
}

verify_bundle() {
    step "Checking the bundle against SHA256SUMS"
    local sums="$BUNDLE_DIR/SHA256SUMS" bad=() count=0 expected path
    [ -f "$sums" ] || die "SHA256SUMS is missing from $BUNDLE_DIR: the bundle is incomplete. Nothing was installed."
    while read -r expected path; do
        count=$((count + 1))
        case "$path" in
            /* | *..*) bad+=("$path (unsafe path)"); continue ;;
        esac
        if [ ! -f "$BUNDLE_DIR/$path" ]; then
            bad+=("$path (missing)")
        elif [ "$(sha256_of "$BUNDLE_DIR/$path")" != "$expected" ]; then
            bad+=("$path (changed)")
        fi
    done <"$sums"
    if [ "${#bad[@]}" -gt 0 ]; then
        printf '    %s\n' "${bad[@]}" >&2
        die "the bundle is damaged or was modified (${#bad[@]} of $count files above). Nothing was installed: copy the bundle again and check the archive's checksum."
    fi
    record "bundle verified: $count files match SHA256SUMS"
}

# --- 2. Python and the private environment ------------------------------------------------------

bundle_field() {
    "$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
        "$BUNDLE_DIR/bundle.json" "$1"
}

python_version_of() {
    "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])'
}

check_python() {
    command -v "$PYTHON" >/dev/null 2>&1 ||
        die "Python ($PYTHON) was not found. Install the Python version named in bundle.json from your OS packages, or set PYTHON=/path/to/python3. Nothing was installed."
    WANT_PY="$(bundle_field python)"
    VERSION="$(bundle_field version)"
    local have
    have="$(python_version_of "$PYTHON")"
    [ "$have" = "$WANT_PY" ] ||
        die "this bundle was built for Python $WANT_PY but $PYTHON is Python $have. Set PYTHON=/path/to/python$WANT_PY, or build a bundle for Python $have. Nothing was installed."
}

make_venv() {
    step "Private Python environment in $VENV_DIR"
    local venv="$VENV_DIR"
    if [ -x "$venv/bin/python" ] && [ "$(python_version_of "$venv/bin/python")" = "$WANT_PY" ] &&
        "$venv/bin/python" -c 'import pip' >/dev/null 2>&1; then
        record "environment kept: $venv"
        return
    fi
    if [ -e "$venv" ]; then
        [ -f "$venv/pyvenv.cfg" ] || die "$venv exists but is not a Python environment; move it away or pass --prefix."
        rm -rf -- "$venv"
    fi
    mkdir -p "$PREFIX"
    if ! "$PYTHON" -m venv "$venv"; then
        rm -rf -- "$venv"
        die "could not create $venv; on Debian/Ubuntu install python$WANT_PY-venv."
    fi
    record "environment created: $venv"
}

install_package() {
    step "Installing bbj-coder $VERSION from the bundle's wheelhouse (no network)"
    local before="none" after
    [ -x "$BBJ" ] && before="$("$BBJ" --version 2>/dev/null || echo unknown)"
    "$VENV_DIR/bin/python" -m pip install --quiet --no-index \
        --find-links "$BUNDLE_DIR/wheelhouse" --upgrade "bbj-coder==$VERSION"
    after="$("$BBJ" --version)"
    if [ "$before" = "$after" ]; then
        record "$after already installed"
        UPGRADED=0
    else
        record "$after installed (was: $before)"
        UPGRADED=1
    fi
}

link_command() {
    local bin_dir="${BBJ_CODER_BIN_DIR:-$HOME/.local/bin}" link
    link="$bin_dir/bbj-coder"
    if [ -e "$link" ] && [ ! -L "$link" ]; then
        record "left $link alone (not ours); run $BBJ directly"
        return
    fi
    mkdir -p "$bin_dir"
    ln -sfn "$BBJ" "$link"
    case ":$PATH:" in
        *":$bin_dir:"*) record "command: bbj-coder (linked in $bin_dir)" ;;
        *) record "command: $link (add $bin_dir to PATH to type just bbj-coder)" ;;
    esac
}

# --- 3. token, config, models, Continue -------------------------------------------------------

setup_state() {
    step "Token, config and models"
    local output line
    output="$("$VENV_DIR/bin/python" -m daemon bundle setup "$BUNDLE_DIR")"
    while IFS= read -r line; do
        record "${line#"${line%%[! ]*}"}"
    done <<<"$output"
}

configure_continue() {
    step "Continue.dev"
    local folder="${CONTINUE_GLOBAL_DIR:-$HOME/.continue}"
    if [ "$WITH_CONTINUE" = 0 ]; then
        record "Continue.dev left alone (--no-continue)"
    elif [ ! -d "$folder" ]; then
        record "Continue.dev not found ($folder); after installing it run: bbj-coder continue install"
    elif "$VENV_DIR/bin/python" -m daemon continue install --provider "$PROVIDER"; then
        record "Continue.dev points at bbj-coder ($PROVIDER)"
    else
        record "Continue.dev NOT configured (see the message above); fix it, then run: bbj-coder continue install"
    fi
}

# --- 4. the user service ----------------------------------------------------------------------

xml_escape() {
    local s="$1"
    s="${s//&/&amp;}"
    s="${s//</&lt;}"
    s="${s//>/&gt;}"
    printf '%s' "$s"
}

render_systemd() {
    local exec_start environment="" text
    exec_start="\"$BBJ\" serve"
    exec_start="${exec_start//%/%%}"
    if [ -n "${BBJ_CODER_HOME:-}" ]; then
        environment="Environment=\"BBJ_CODER_HOME=${BBJ_CODER_HOME//%/%%}\""
    fi
    text="$(<"$BUNDLE_DIR/service/bbj-coder.service")"
    text="${text//@EXEC_START@/$exec_start}"
    text="${text//@ENVIRONMENT@/$environment}"
    printf '%s\n' "$text"
}

render_launchd() {
    local environment="" text log_file
    log_file="$HOME/Library/Logs/bbj-coder/launchd.log"
    if [ -n "${BBJ_CODER_HOME:-}" ]; then
        environment="  <key>EnvironmentVariables</key>
  <dict>
    <key>BBJ_CODER_HOME</key>
    <string>$(xml_escape "$BBJ_CODER_HOME")</string>
  </dict>"
    fi
    text="$(<"$BUNDLE_DIR/service/com.basis.bbj-coder.plist")"
    text="${text//@BBJ_CODER@/$(xml_escape "$BBJ")}"
    text="${text//@LOG_FILE@/$(xml_escape "$log_file")}"
    text="${text//@ENVIRONMENT@/$environment}"
    printf '%s\n' "$text"
}

render_only() {
    mkdir -p "$RENDER_DIR"
    case "$RENDER_KIND" in
        systemd) render_systemd >"$RENDER_DIR/bbj-coder.service" ;;
        launchd) render_launchd >"$RENDER_DIR/com.basis.bbj-coder.plist" ;;
        *) die "--render-service takes systemd or launchd, not $RENDER_KIND" ;;
    esac
}

# Writes $2 from stdin when it differs; returns 0 when it changed.
write_if_changed() {
    local tmp
    tmp="$(mktemp)"
    cat >"$tmp"
    if [ -f "$1" ] && cmp -s "$tmp" "$1"; then
        rm -f -- "$tmp"
        return 1
    fi
    mkdir -p "$(dirname "$1")"
    mv -- "$tmp" "$1"
    chmod 644 "$1"
}

service_systemd() {
    if ! systemctl --user show-environment >/dev/null 2>&1; then
        record "no systemd user session here (SSH, container): service skipped"
        return 1
    fi
    local unit="${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user/bbj-coder.service" changed=0
    render_systemd | write_if_changed "$unit" && changed=1
    systemctl --user daemon-reload
    systemctl --user enable bbj-coder.service >/dev/null 2>&1
    if [ "$changed" = 1 ] || [ "$UPGRADED" = 1 ]; then
        systemctl --user restart bbj-coder.service
    else
        systemctl --user start bbj-coder.service
    fi
    record "service: systemd user unit $unit (enabled, started)"
}

service_launchd() {
    local plist="$HOME/Library/LaunchAgents/com.basis.bbj-coder.plist" domain changed=0
    domain="gui/$(id -u)"
    mkdir -p "$HOME/Library/Logs/bbj-coder"
    render_launchd | write_if_changed "$plist" && changed=1
    if launchctl print "$domain/com.basis.bbj-coder" >/dev/null 2>&1; then
        if [ "$changed" = 1 ] || [ "$UPGRADED" = 1 ]; then
            launchctl bootout "$domain/com.basis.bbj-coder" 2>/dev/null || true
            launchctl bootstrap "$domain" "$plist"
        fi
    else
        launchctl bootstrap "$domain" "$plist"
    fi
    record "service: launchd agent $plist (loaded, starts at login)"
}

# 0 once the daemon answers healthy; after 60 s, 0 if it at least answers (doctor says why not).
wait_until_running() {
    local tries=0 rc=3
    while [ "$tries" -lt 120 ]; do
        rc=0
        "$BBJ" status >/dev/null 2>&1 || rc=$?
        [ "$rc" = 0 ] && return 0
        tries=$((tries + 1))
        sleep 0.5
    done
    [ "$rc" != 3 ]
}

run_doctor() {
    step "Health check"
    "$BBJ" doctor
}

health_check() {
    if run_doctor; then
        record "health check passed"
    else
        record "health check found problems (see above)"
        HEALTH_FAILED=1
    fi
}

# No user service (none wanted, none possible): start the daemon for this session instead.
start_in_background() {
    if [ "$WITH_START" = 0 ]; then
        record "daemon not started (--no-start); start it with: $BBJ serve --detach"
        return
    fi
    local output
    # A daemon of the version just replaced must not keep serving: restart it.
    [ "$UPGRADED" = 1 ] && { "$BBJ" stop >/dev/null 2>&1 || true; }
    if output="$("$BBJ" serve --detach 2>&1)"; then
        record "daemon started in the background: ${output%%$'\n'*}"
        record "no service starts it at login: after a reboot run: $BBJ serve --detach"
        health_check
    else
        printf '%s\n' "$output" >&2
        record "daemon did NOT start (see above); after fixing it run: $BBJ serve --detach"
        HEALTH_FAILED=1
    fi
}

register_service() {
    step "User service"
    local started=0
    if [ "$WITH_SERVICE" = 0 ]; then
        record "service not registered (--no-service)"
    elif [ "$WITH_START" = 0 ]; then
        record "service not registered (--no-start)"
    else
        case "$(uname -s)" in
            Darwin) service_launchd && started=1 ;;
            Linux) service_systemd && started=1 ;;
            *) record "no user-service support on $(uname -s)" ;;
        esac
    fi
    if [ "$started" = 0 ]; then
        start_in_background
        return 0
    fi
    wait_until_running || die "the service did not start within 60 s; see \`$BBJ status\` and the daemon log."
    health_check
}

main() {
    parse_args "$@"
    VENV_DIR="$PREFIX/venv"
    BBJ="$VENV_DIR/bin/bbj-coder"
    if [ -n "$RENDER_KIND" ]; then
        render_only
        return
    fi
    UPGRADED=0
    HEALTH_FAILED=0
    # pip must never reach a network, a pip.conf or PIP_* settings: only the bundle's wheelhouse.
    local name
    for name in "${!PIP_@}"; do unset "$name"; done
    export PIP_NO_INDEX=1 PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1
    verify_bundle
    check_python
    make_venv
    install_package
    link_command
    setup_state
    cp -- "$BUNDLE_DIR/uninstall.sh" "$PREFIX/uninstall.sh"
    configure_continue
    register_service
    step "Done"
    printf '    %s\n' "${SUMMARY[@]}"
    say "    uninstall later with: bash \"$PREFIX/uninstall.sh\""
    [ "$HEALTH_FAILED" = 0 ] || exit 1
}

main "$@"

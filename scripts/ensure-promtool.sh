#!/usr/bin/env bash
# Make sure `promtool` is available, installing Debian's `prometheus` package
# (which ships /usr/bin/promtool) if it is not, then print its version.
#
# The second engine of tests/test_engines.py: Debian's `victoria-metrics` package ships the
# single-node server and vmalert (/usr/bin/victoria-metrics, /usr/bin/vmalert); it is
# installed the same way when either is missing.
#
# The routing tests (tests/test_routing.py) check the generated Alertmanager configuration with
# `amtool check-config` and run a real Alertmanager: Debian's `prometheus-alertmanager` package
# ships both (/usr/bin/amtool, /usr/bin/prometheus-alertmanager).
#
# Only promtool is used by the project. Installing a package must not leave a
# server running: while apt runs, a temporary policy-rc.d (only if the system
# has none) forbids maintainer scripts to start services, and
# --no-install-recommends keeps node-exporter & co. out. Nothing in the tests
# relies on a Prometheus listening on :9090 (or on that port being free).
# Nothing is done (no apt call) for a package whose binaries are all on PATH.
set -euo pipefail

policy=/usr/sbin/policy-rc.d
created_policy=0
sudo=""
remove_policy() {
    if [ "$created_policy" = 1 ]; then
        $sudo rm -f "$policy"
        created_policy=0
    fi
}
trap remove_policy EXIT

# ensure_package PACKAGE BINARY...: install the Debian package PACKAGE unless every
# BINARY is already on PATH; fail when it cannot be installed or does not provide them.
ensure_package() {
    local package="$1"
    shift
    local binaries missing=0 bin
    binaries="$(IFS=/; printf '%s' "$*")"
    for bin in "$@"; do
        command -v "$bin" >/dev/null 2>&1 || missing=1
    done
    if [ "$missing" = 0 ]; then
        return 0
    fi
    echo "ensure-promtool: $binaries not found; installing Debian package '$package'"

    if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
        echo "ensure-promtool: apt-get is not available (not Debian/Ubuntu?); install '$package' (for $binaries) by hand" >&2
        exit 1
    fi
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo="sudo"
        else
            echo "ensure-promtool: not root and sudo is missing; install '$package' (for $binaries) by hand" >&2
            exit 1
        fi
    fi

    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\n# temporary, from slocompiler scripts/ensure-promtool.sh\nexit 101\n' \
            | $sudo tee "$policy" >/dev/null
        $sudo chmod 755 "$policy"
        created_policy=1
    fi

    $sudo apt-get update -qq
    local reinstall=""
    if [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)" = "install ok installed" ]; then
        # package present but some of its binaries gone: put the files back
        reinstall="--reinstall"
    fi
    $sudo env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends $reinstall "$package" </dev/null
    remove_policy

    for bin in "$@"; do
        if ! command -v "$bin" >/dev/null 2>&1; then
            echo "ensure-promtool: installed '$package' but $bin is still not on PATH" >&2
            exit 1
        fi
    done
}

ensure_package prometheus promtool
ensure_package victoria-metrics victoria-metrics vmalert
ensure_package prometheus-alertmanager amtool prometheus-alertmanager

version="$(promtool --version 2>&1)"
printf '%s\n' "${version%%$'\n'*}"

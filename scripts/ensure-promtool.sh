#!/usr/bin/env bash
# Make sure `promtool` is available, installing Debian's `prometheus` package
# (which ships /usr/bin/promtool) if it is not, then print its version.
#
# Only promtool is used by the project. Installing the package must not leave a
# Prometheus server running: while apt runs, a temporary policy-rc.d (only if
# the system has none) forbids maintainer scripts to start services, and
# --no-install-recommends keeps node-exporter & co. out. Nothing in the tests
# relies on a Prometheus listening on :9090 (or on that port being free).
set -euo pipefail

if ! command -v promtool >/dev/null 2>&1; then
    echo "ensure-promtool: promtool not found; installing Debian package 'prometheus'"

    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo="sudo"
        else
            echo "ensure-promtool: not root and sudo is missing; install 'prometheus' (for promtool) by hand" >&2
            exit 1
        fi
    fi

    policy=/usr/sbin/policy-rc.d
    created_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\n# temporary, from slocompiler scripts/ensure-promtool.sh\nexit 101\n' \
            | $sudo tee "$policy" >/dev/null
        $sudo chmod 755 "$policy"
        created_policy=1
    fi
    cleanup() {
        if [ "$created_policy" = 1 ]; then $sudo rm -f "$policy"; fi
    }
    trap cleanup EXIT

    $sudo apt-get update -qq
    reinstall=""
    status="$(dpkg-query -W -f='${Status}' prometheus 2>/dev/null || true)"
    if [ "$status" = "install ok installed" ]; then
        # package present but its promtool gone: put the files back
        reinstall="--reinstall"
    fi
    $sudo env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends $reinstall prometheus </dev/null

    if ! command -v promtool >/dev/null 2>&1; then
        echo "ensure-promtool: installed 'prometheus' but promtool is still not on PATH" >&2
        exit 1
    fi
fi

# The second engine of tests/test_engines.py: Debian's `victoria-metrics` package ships the
# single-node server and vmalert (/usr/bin/victoria-metrics, /usr/bin/vmalert). Same rules as
# above: no service left running, nothing recommended pulled in, nothing done when present.
if ! command -v victoria-metrics >/dev/null 2>&1 || ! command -v vmalert >/dev/null 2>&1; then
    echo "ensure-promtool: victoria-metrics/vmalert not found; installing Debian package 'victoria-metrics'"

    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo="sudo"
        else
            echo "ensure-promtool: not root and sudo is missing; install 'victoria-metrics' by hand" >&2
            exit 1
        fi
    fi

    vm_policy=/usr/sbin/policy-rc.d
    vm_created_policy=0
    if [ ! -e "$vm_policy" ]; then
        printf '#!/bin/sh\n# temporary, from slocompiler scripts/ensure-promtool.sh\nexit 101\n' \
            | $sudo tee "$vm_policy" >/dev/null
        $sudo chmod 755 "$vm_policy"
        vm_created_policy=1
    fi
    vm_cleanup() {
        if [ "$vm_created_policy" = 1 ]; then $sudo rm -f "$vm_policy"; fi
    }
    # keep the prometheus block's cleanup (if it ran) when replacing the EXIT trap
    trap 'vm_cleanup; if declare -F cleanup >/dev/null; then cleanup; fi' EXIT

    $sudo apt-get update -qq
    vm_reinstall=""
    status="$(dpkg-query -W -f='${Status}' victoria-metrics 2>/dev/null || true)"
    if [ "$status" = "install ok installed" ]; then
        vm_reinstall="--reinstall"
    fi
    $sudo env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends $vm_reinstall victoria-metrics </dev/null

    if ! command -v victoria-metrics >/dev/null 2>&1 || ! command -v vmalert >/dev/null 2>&1; then
        echo "ensure-promtool: installed 'victoria-metrics' but victoria-metrics/vmalert are not on PATH" >&2
        exit 1
    fi
    vm_cleanup
    vm_created_policy=0
fi

version="$(promtool --version 2>&1)"
printf '%s\n' "${version%%$'\n'*}"

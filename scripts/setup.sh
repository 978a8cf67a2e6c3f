#!/usr/bin/env bash
# Create (or refresh) the project's virtualenv in <repo>/.venv and install the
# package in editable mode with its test extras.
#
# Idempotent: an existing, working .venv is reused, and `pip install` is
# skipped when pyproject.toml has not changed since the last successful
# install (the package is editable, so source edits need no reinstall).
#
# Environment:
#   PYTHON=...        interpreter to create the venv with (default: python3, >= 3.10)
#   SETUP_FORCE=1     reinstall even if nothing changed
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

python="${PYTHON:-python3}"
venv=".venv"
stamp="$venv/.slocompiler-setup-stamp"

if ! command -v "$python" >/dev/null 2>&1; then
    echo "setup: '$python' not found on PATH (need Python >= 3.10)" >&2
    exit 1
fi
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
    echo "setup: $("$python" --version 2>&1) is too old; slocompiler needs Python >= 3.10" >&2
    exit 1
fi

# Reuse the venv only if its interpreter still runs and is new enough
# (a venv whose base interpreter was removed or upgraded is rebuilt).
if [ -d "$venv" ] && ! "$venv/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' >/dev/null 2>&1; then
    echo "setup: $venv is broken or too old; recreating it"
    rm -rf "$venv"
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "setup: creating $venv with $("$python" --version 2>&1)"
    if ! "$python" -m venv "$venv"; then
        echo "setup: '$python -m venv' failed; on Debian/Ubuntu install the venv module: apt-get install python3-venv" >&2
        rm -rf "$venv"
        exit 1
    fi
fi

# What the install depends on: interpreter, pyproject.toml, and whether the
# package folder exists yet (setuptools' editable finder only maps packages
# that existed at install time).
want="$("$venv/bin/python" - <<'PY'
import hashlib, os, sys
with open("pyproject.toml", "rb") as f:
    digest = hashlib.sha256(f.read()).hexdigest()
has_pkg = os.path.isfile(os.path.join("slocompiler", "__init__.py"))
print(f"{sys.version_info[0]}.{sys.version_info[1]} {digest} package={has_pkg}")
PY
)"

up_to_date() {
    [ "${SETUP_FORCE:-0}" != "1" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] || return 1
    "$venv/bin/python" -c 'import importlib.metadata as m; m.version("slocompiler")' >/dev/null 2>&1 || return 1
    if [ -f slocompiler/__init__.py ]; then
        # the installed package must resolve to this checkout, from any folder
        # (find_spec does not run the package's code)
        (cd / && "$repo_root/$venv/bin/python" -c '
import importlib.util, os, sys
spec = importlib.util.find_spec("slocompiler")
want = os.path.realpath(os.path.join(sys.argv[1], "slocompiler", "__init__.py"))
sys.exit(0 if spec and spec.origin and os.path.realpath(spec.origin) == want else 1)
' "$repo_root") >/dev/null 2>&1 || return 1
    fi
    return 0
}

if up_to_date; then
    echo "setup: $venv is up to date"
    exit 0
fi

echo "setup: installing slocompiler (editable) with test extras into $venv"
export PIP_DISABLE_PIP_VERSION_CHECK=1
# pip's and the build backend's chatter goes to a log, shown only on failure
log="$venv/setup-pip.log"
if ! { "$venv/bin/python" -m pip install --quiet --upgrade pip \
       && "$venv/bin/python" -m pip install --quiet -e '.[test]'; } >"$log" 2>&1; then
    echo "setup: pip install failed; last lines of $log:" >&2
    tail -n 40 "$log" >&2
    rm -f "$stamp"
    exit 1
fi
printf '%s\n' "$want" > "$stamp"
echo "setup: done ($("$venv/bin/python" --version 2>&1))"

"""Report on some files, compile the whole tree: `--report-only-passed` (the pre-commit hooks).

pre-commit passes the files of a commit; SLO ids are unique across the whole tree, so the
compiler still reads every spec the config file names, and only the report is narrowed:
diagnostics positioned in a spec file of the tree that was not passed are left out. Every
other diagnostic (generated outputs that are stale, the config, policy or template files) is
kept. Passed files that are not specs of the tree (other YAML in the repository) are ignored.
"""

from __future__ import annotations

import os
import re

from slocompiler import lazyre
from slocompiler.formats import API_KINDS, VERSIONS
from slocompiler.records import dataclass

# a top-level (or list item's) `version:`/`apiVersion:` naming a family of formats this compiler reads
_FAMILIES = sorted({v.split("/")[0] for v in (*VERSIONS, *API_KINDS)})
_DECLARES_SPEC = lazyre.compile(r"^(?:- )?(?:version|apiVersion):[ \t]*[\"']?(?:" + "|".join(map(re.escape, _FAMILIES)) + ")/",
                                re.MULTILINE)
_SNIFF_BYTES = 1 << 20


def _key(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


@dataclass
class Hidden:
    """What was left out of the report."""

    errors: int = 0
    warnings: int = 0

    def note(self) -> str:
        """One line for stderr ('' when nothing was hidden)."""
        if not (self.errors or self.warnings):
            return ""
        return (f"note: {self.errors} error(s) and {self.warnings} warning(s) in spec files not passed are "
                f"not shown (run `slocompiler validate` to see them)\n")


def keep_passed(comp, passed) -> Hidden:
    """Narrow `comp.diagnostics` to the `passed` files (and to everything outside the spec tree)."""
    wanted = {_key(p) for p in passed}
    tree = {_key(f.path) for f in comp.files} | {_key(f.display) for f in comp.files}
    kept, hidden = [], Hidden()
    for d in comp.diagnostics:
        k = _key(d.file)
        if k in tree and k not in wanted:
            if d.is_error:
                hidden.errors += 1
            elif not d.is_note:
                hidden.warnings += 1
            continue
        kept.append(d)
    comp.diagnostics = kept
    return hidden


def declares_spec(path: str) -> bool:
    """Whether a passed file says it is a spec: a `version:`/`apiVersion:` line of a format family this
    compiler reads (`slocompiler/`, `prometheus/`, `sloth.slok.dev/`, `openslo/`), a typo'd version
    included. The `slocompiler-validate` hook, which has no config file, checks only such files."""
    try:
        with open(path, "rb") as f:
            head = f.read(_SNIFF_BYTES)
    except OSError:
        return True  # let the compiler report why it cannot be read
    return _DECLARES_SPEC.search(head.decode("utf-8", "replace")) is not None

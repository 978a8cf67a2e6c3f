"""Report on some files, compile the whole tree: `--report-only-passed` (the pre-commit hooks).

pre-commit passes the files of a commit; SLO ids are unique across the whole tree, so the
compiler still reads every spec the config file names, and only the report is narrowed:
diagnostics positioned in a spec file of the tree that was not passed are left out. Every
other diagnostic (generated outputs that are stale, the config, policy or template files) is
kept. Passed files that are not specs of the tree (other YAML in the repository) are ignored.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


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

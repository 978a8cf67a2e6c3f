"""The package's floor plan holds: no import cycle, no private name imported across modules, the
CLI on top, small modules, no test look-alikes inside the package, names spelled in one place."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "slocompiler"
MAX_LINES = 400


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imports(name: str, path: Path, known: set[str]) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import of the module, lazy ones included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names if a.name in known]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod not in known:
                continue
            names = []
            for a in node.names:
                sub = f"{mod}.{a.name}"
                if sub in known:  # `from pkg import module`
                    out.append((sub, [], node.lineno))
                else:
                    names.append(a.name)
            if names:
                out.append((mod, names, node.lineno))
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        for target, _, _ in imports(name, path, known):
            if target != name and not name.startswith(target + "."):  # a module's own package face
                edges[name].add(target)
    return edges


def test_no_import_cycle():
    edges = graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_no_private_name_imported_across_modules():
    mods = modules()
    found = []
    for name, path in mods.items():
        for target, names, line in imports(name, path, set(mods)):
            found += [f"{path.relative_to(PACKAGE.parent)}:{line}: {target}.{n}" for n in names
                      if n.startswith("_") and not n.startswith("__")]
    assert not found, "private names imported from other modules:\n" + "\n".join(found)


def test_the_cli_is_on_top():
    """Nothing outside `slocompiler.cli` imports it (the library never calls the command line)."""
    mods = modules()
    users = [name for name, deps in graph().items() if not name.startswith("slocompiler.cli")
             and name != "slocompiler.__main__" and any(d.startswith("slocompiler.cli") for d in deps)]
    assert not users, f"modules importing the CLI: {users}"
    assert "slocompiler.cli" in mods


def test_modules_are_small():
    big = {str(p.relative_to(PACKAGE.parent)): n for p in PACKAGE.rglob("*.py")
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not big, f"modules over {MAX_LINES} lines: {big}"


def test_nothing_in_the_package_looks_like_a_test():
    bad = [str(p.relative_to(PACKAGE.parent)) for p in PACKAGE.rglob("test_*.py")]
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bad += [f"{path.relative_to(PACKAGE.parent)}:{n.lineno}: {n.name}" for n in ast.walk(tree)
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name.startswith(("test_", "Test"))]
    assert not bad, f"test look-alikes inside the package: {bad}"


# Names of the output contract: spelled only in conventions.py (and in prose: docstrings, comments).
CONTRACT = re.compile(r"""["'](slo:[a-z_]+:[a-z_]+|sloth-slo-[a-z-]+|sloth_(?:id|service|slo|window|severity)|sloth_slo_info)""")


def test_contract_names_live_in_conventions():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "conventions.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                      and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                if CONTRACT.search(repr(node.value)) or CONTRACT.search(f'"{node.value}'):
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {node.value[:60]!r}")
    assert not found, "contract names spelled outside conventions.py:\n" + "\n".join(found)

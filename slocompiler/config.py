"""The config file: `slocompiler.yaml`, or `[tool.slocompiler]` in `pyproject.toml`,
found upward from the working directory. Command-line options override it.

Paths in the file are relative to the folder that holds it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from slocompiler.conventions import CONFIG_NAMES, OUTPUTS, RULE_FILES_PREFIX, Target
from slocompiler.diagnostics import Diagnostic
from slocompiler.load import load_file
from slocompiler.records import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Union

    from slocompiler.config_model import ConfigModel


@dataclass(frozen=True)
class NoConfig:
    """The values of an empty config (what `ConfigModel()` holds), without importing pydantic:
    most runs have no config file. `tests/test_native_plain.py` holds the two equal."""

    specs: tuple[str, ...] = ()
    output: Optional[str] = None
    outputs: tuple[str, ...] = OUTPUTS
    labels: Mapping[str, str] = field(default_factory=dict)
    period: Optional[str] = None
    templates: tuple[str, ...] = ()
    windows: tuple[str, ...] = ()
    target: str = Target.PROMETHEUS.value
    rule_files_prefix: str = RULE_FILES_PREFIX
    policies: tuple[str, ...] = ()
    strict: bool = False
    windows_for_other_periods: str = "scaled"
    prometheus_version: Optional[str] = None
    kubernetes: None = None
    routing: None = None
    prometheus: None = None


@dataclass
class Config:
    """A loaded config: its values with paths made absolute, and where it came from."""

    path: Optional[str] = None
    model: Union[ConfigModel, NoConfig] = field(default_factory=NoConfig)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def root(self) -> str:
        return os.path.dirname(self.path) if self.path else os.getcwd()

    def resolve(self, p: str) -> str:
        return os.path.normpath(os.path.join(self.root, p))

    def defaults(self) -> dict:
        """click default_map entries shared by validate/build/explain/test."""
        m = self.model
        d: dict = {}
        if m.period:
            d["default_period"] = m.period
        if m.labels:
            d["labels"] = [f"{k}={v}" for k, v in sorted(m.labels.items())]
        if m.templates:
            d["template_dirs"] = [self.resolve(p) for p in m.templates]
        if m.windows:
            d["windows_dirs"] = [self.resolve(p) for p in m.windows]
        if m.strict:
            d["strict"] = True
        if m.prometheus_version:
            d["prometheus_version"] = m.prometheus_version
        if m.windows_for_other_periods != "scaled":
            d["other_periods"] = m.windows_for_other_periods
        return d

    def delivery(self) -> dict:
        """The Options fields of the `kubernetes:` and `routing:` sections (`build` only)."""
        return {"kubernetes": self.model.kubernetes, "routing": self.model.routing}


def find(start: str | None = None) -> Optional[str]:
    """The nearest config file from `start` upward: slocompiler.yaml, else a pyproject.toml with
    a [tool.slocompiler] table."""
    here = os.path.abspath(start or os.getcwd())
    while True:
        for name in CONFIG_NAMES:
            candidate = os.path.join(here, name)
            if os.path.isfile(candidate):
                return candidate
        pyproject = os.path.join(here, "pyproject.toml")
        if os.path.isfile(pyproject) and _pyproject_table(pyproject) is not None:
            return pyproject
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _pyproject_table(path: str):
    """The [tool.slocompiler] table of the pyproject.toml at PATH, else None. A file that spells
    neither the name nor a `\\u`/`\\U` escape (a quoted key could spell it so) has none: then
    tomllib (~3 ms to import; the pre-commit case in a Python repository) is not needed."""
    raw = _read(path)
    if raw is None or (b"slocompiler" not in raw and b"\\u" not in raw and b"\\U" not in raw):
        return None
    return _tool_table(raw)


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def _tool_table(raw: bytes):
    """The [tool.slocompiler] table of a pyproject.toml's bytes RAW (as tomllib.load reads them)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            return None
    try:
        data = tomllib.loads(raw.decode())
    except ValueError:  # a TOML error, or bytes that are not UTF-8
        return None
    return data.get("tool", {}).get("slocompiler")


def load(path: Optional[str]) -> Config:
    """Load and check a config file; problems are diagnostics at their position."""
    if path is None:
        return Config()
    from slocompiler.formats.native_plain import accept_config

    doc, problems = None, []
    if path.endswith("pyproject.toml"):
        data = _pyproject_table(path) or {}
    else:
        loaded = load_file(path, os.path.relpath(path))
        doc = loaded.documents[0] if loaded.documents and not loaded.diagnostics else None
        data = (doc.data if doc.data is not None else {}) if doc is not None else None
        problems = loaded.diagnostics
    plain = accept_config(data) if data is not None else None  # valid and plain: no pydantic (~80 ms)
    if plain is not None:
        return Config(path, plain)  # type: ignore[arg-type]
    from pydantic import ValidationError

    from slocompiler.config_model import ConfigModel

    if data is None:
        return Config(path, ConfigModel(), problems)
    try:
        return Config(path, ConfigModel.model_validate(data))
    except ValidationError as exc:
        if doc is not None:
            from slocompiler.formats.errors import validation_diagnostics

            return Config(path, ConfigModel(), validation_diagnostics(exc, doc, ConfigModel))
        from slocompiler.diagnostics import Position

        return Config(path, ConfigModel(), [Position(os.path.relpath(path)).diag(
            "SLC104", f"[tool.slocompiler]: {'.'.join(map(str, e['loc']))}: {e['msg']}")
            for e in exc.errors(include_url=False)])

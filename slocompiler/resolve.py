"""Resolve stage context: build-wide settings and the windows catalogs SLOs draw from."""

from __future__ import annotations

import datetime as _dt

from slocompiler.diagnostics import Diagnostic
from slocompiler.durations import format_duration
from slocompiler.model import WindowCatalog
from slocompiler.records import dataclass, field
from slocompiler.windows import BASE_PERIOD_MS, builtin_catalog, other_period


@dataclass
class Context:
    """What every format's resolver may consult."""

    default_period_ms: int = BASE_PERIOD_MS  # 30d, as Sloth
    today: _dt.date = field(default_factory=_dt.date.today)
    by_period: dict[int, WindowCatalog] = field(default_factory=dict)
    by_name: dict[str, WindowCatalog] = field(default_factory=dict)
    replace_builtin: bool = False
    other_periods: str = "scaled"  # windows of periods without a catalog: "scaled" | "derived"
    template_dirs: tuple[str, ...] = ()
    openslo: dict = field(default_factory=dict)  # OpenSLO named objects of the build, (kind, name) -> object
    _templates: object = None
    dated: bool = False  # a resolve compared a date with today (incremental builds key such files by the date)

    def has_passed(self, day: _dt.date) -> bool:
        self.dated = True
        return day < self.today

    @property
    def templates(self):
        """The SLI template registry, loaded on first use (shipped + user folders)."""
        if self._templates is None:
            from slocompiler.templating import Registry

            self._templates = Registry(self.template_dirs)
        return self._templates

    def add_catalog(self, cat: WindowCatalog, named: bool) -> list[Diagnostic]:
        """Register an AlertWindows entry; a different entry under the same key is an error."""
        other = self.by_name.setdefault(cat.name, cat) if named else self.by_period.setdefault(cat.period_ms, cat)
        if other is cat or other.same_windows(cat):  # new, or the same windows again
            return []
        label = cat.name if named else format_duration(cat.period_ms)
        return [c.source.diag("SLC213", f"AlertWindows {label!r} is defined twice with different windows")
                for c in (other, cat) if c.source is not None]

    def windows_for(self, period_ms: int) -> WindowCatalog:
        """The tree's catalog for this period, else the built-in one, else the 30d one scaled to the
        period (or, under `windows_for_other_periods: derived`, its windows with factors rescaled)."""
        if period_ms in self.by_period:
            return self.by_period[period_ms]
        builtin = None if self.replace_builtin else builtin_catalog(period_ms)
        if builtin is not None:
            return builtin
        return other_period(period_ms, self.other_periods)

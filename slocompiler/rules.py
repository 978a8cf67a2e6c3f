"""Prometheus rule files as plain data: what generators produce and emitters write."""

from __future__ import annotations

from slocompiler.records import dataclass, field


@dataclass(frozen=True)
class Rule:
    """A recording rule (`record`) or an alerting rule (`alert`)."""

    expr: str
    record: str | None = None
    alert: str | None = None
    for_: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Group:
    """A rule group: its rules run in order at one timestamp."""

    name: str
    rules: tuple[Rule, ...]
    interval: str | None = None
    extra: tuple[tuple[str, str], ...] = ()  # engine fields such as partial_response_strategy


@dataclass
class RuleFile:
    """The groups compiled from one spec file."""

    source: str
    groups: list[Group] = field(default_factory=list)

    def rules(self):
        for g in self.groups:
            yield from g.rules

"""Prometheus rule files as plain data: what generators produce and emitters write."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass(frozen=True)
class Rule:
    """A recording rule (`record`) or an alerting rule (`alert`)."""

    expr: str
    record: Optional[str] = None
    alert: Optional[str] = None
    for_: Optional[str] = None
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Group:
    name: str
    rules: tuple[Rule, ...]
    interval: Optional[str] = None
    extra: tuple[tuple[str, str], ...] = ()  # engine fields such as partial_response_strategy


@dataclass
class RuleFile:
    """The groups compiled from one spec file."""

    source: str
    groups: list[Group] = field(default_factory=list)

    def rules(self):
        for g in self.groups:
            yield from g.rules

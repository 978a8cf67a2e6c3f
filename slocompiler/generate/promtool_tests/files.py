"""Test files: every SLO's scenarios of one rule file, written as promtool test YAML.

The page-tier, min_events and no-data tests go to `tests/<relpath>` (evaluated every minute),
the ticket-tier tests to `tests/<stem>.ticket.<ext>` at a coarser interval (`coarse_step`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from slocompiler import __version__
from slocompiler.conventions import GROUP_ORDER, group_name
from slocompiler.generate.promtool_tests.scenarios import Scenarios, Test
from slocompiler.generate.promtool_tests.series import MIN, minutes
from slocompiler.generate.promtool_tests.shapes import Skip, shape_of
from slocompiler.model import SLO, ThresholdSLI
from slocompiler.numbers import clean
from slocompiler.rules import RuleFile

# promtool evaluates groups in this order: time slices before the SLI recordings before the alerts
GROUP_RANK = tuple(group_name(part, "") for part in GROUP_ORDER)


def group_eval_order(rules: RuleFile) -> list[str]:
    def rank(name: str) -> int:
        return next((i for i, p in enumerate(GROUP_RANK) if name.startswith(p)), len(GROUP_RANK))

    ranked = sorted((rank(g.name), i, g.name) for i, g in enumerate(rules.groups))
    return [name for _, _, name in ranked]


def coarse_step(slos: Sequence[SLO]) -> int:
    """Evaluation interval (minutes) of the ticket-tier file: 15m when every ticket window and
    time slice allows it. Ticket tests need days of data; promtool's cost grows with the number
    of evaluations times the rules in the file, so a 1m interval would take minutes per test."""
    for step in (15, 5, 1):
        ok = True
        for slo in slos:
            wins = [ms for p in (slo.windows.ticket_quick, slo.windows.ticket_slow) for ms in (p.short_ms, p.long_ms)]
            if isinstance(slo.sli, ThresholdSLI):
                wins.append(step * MIN * (slo.sli.slice_ms // MIN) if slo.sli.slice_ms % MIN == 0 else 1)
                if (step * MIN) % slo.sli.slice_ms:
                    ok = False
            if any(ms % (step * MIN) for ms in wins):
                ok = False
        if ok:
            return step
    return 1


def collect_tests(slos: Sequence[SLO], rules: RuleFile) -> tuple[list[Test], list[Test], list[str], int]:
    """(fine tests, ticket tests, skip notes, ticket evaluation minutes) for one rule file."""
    fine: list[Test] = []
    coarse: list[Test] = []
    notes: list[str] = []
    step = coarse_step(slos)
    for slo in slos:
        try:
            if any(ms % MIN for p in slo.windows.pairs() for ms in (p.short_ms, p.long_ms)):
                raise Skip("alert windows are not whole minutes")
            shape = shape_of(slo)
            b = Scenarios(slo, shape, rules.groups, step)
            b.build()
        except Skip as exc:
            notes.append(f"{slo.id} ({slo.kind}): skipped: {exc}")
            continue
        fine += b.fine_tests
        coarse += b.coarse_tests
        notes += b.notes
    return fine, coarse, notes, step


def ticket_name(relpath: str) -> str:
    """`serving/a.yaml` -> `serving/a.ticket.yaml`: the ticket-tier tests, next to the others."""
    stem, dot, ext = relpath.rpartition(".")
    return f"{stem}.ticket.{ext}" if dot else f"{relpath}.ticket"


def promtool_test_files(rule_file_name: str, slos: Sequence[SLO], rules: RuleFile) -> dict[str, bytes]:
    """{relpath under tests/: bytes}: the page/no-data file and, when there are ticket tests, the
    ticket file (evaluated at a coarser interval)."""
    fine, coarse, notes, step = collect_tests(slos, rules)
    out = {}
    main = _render(rule_file_name, rules, fine, notes, 1, "page-tier, min_events and no-data")
    if main is not None:
        out[rule_file_name] = main
    if coarse:
        ticket = _render(rule_file_name, rules, coarse, [], step, "ticket-tier")
        if ticket is not None:  # always: there are tests
            out[ticket_name(rule_file_name)] = ticket
    return out


def promtool_test_file(rule_file_name: str, slos: Sequence[SLO], rules: RuleFile) -> bytes | None:
    """The main promtool test file for one rule file (`tests/<relpath>` next to `prometheus/<relpath>`);
    `promtool_test_files` also gives the ticket-tier file."""
    return promtool_test_files(rule_file_name, slos, rules).get(rule_file_name)


_PLAIN_OK = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:/ +-]*$")
_YAML_WORDS = {"y", "yes", "n", "no", "true", "false", "on", "off", "null", "~"}


def _scalar(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return clean(v)
    text = str(v)
    if _PLAIN_OK.match(text) and text.lower() not in _YAML_WORDS and not text.endswith(" ") and ": " not in text:
        return text
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def _dump(data: dict[str, Any] | list[Any], indent: str = "") -> str:
    """Block YAML for the plain dicts/lists/scalars of a test file (PyYAML is too slow for 10k SLOs);
    a test parses the output back and runs it through promtool."""
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            if isinstance(v, (dict, list)) and v:
                out.append(f"{indent}{k}:\n{_dump(v, indent + '  ')}")
            elif isinstance(v, (dict, list)):
                out.append(f"{indent}{k}: {'{}' if isinstance(v, dict) else '[]'}\n")
            else:
                out.append(f"{indent}{k}: {_scalar(v)}\n")
    else:
        for item in data:
            if isinstance(item, dict) and item:
                body = _dump(item, indent + "  ")
                out.append(f"{indent}- {body[len(indent) + 2:]}")
            else:
                out.append(f"{indent}- {_scalar(item)}\n")
    return "".join(out)


def _render(rule_file_name: str, rules: RuleFile, tests: list[Test], notes: list[str], step: int,
            what: str) -> bytes | None:
    depth = rule_file_name.count("/")
    head = [f"# Code generated by slocompiler {__version__} from {rule_file_name}. DO NOT EDIT.",
            f"# promtool unit tests ({what}) of the alerts in prometheus/{rule_file_name}, evaluated every "
            f"{minutes(step)}; run `slocompiler test` or `promtool test rules <this file>`."]
    head += [f"# skipped: {n}" for n in notes]
    if not tests and not notes:
        return None
    body = {"rule_files": ["../" * depth + f"../prometheus/{rule_file_name}"],
            "evaluation_interval": minutes(step),
            "group_eval_order": group_eval_order(rules)}
    parts = [_dump(body), "tests:\n" if tests else "tests: []\n"]
    for t in tests:  # each test's explanation as a comment above it
        parts.append(f"  # {t['comment']}\n")
        parts.append(_dump([{k: v for k, v in t.items() if k != "comment"}]))
    text = "".join(parts)
    return ("\n".join(head) + "\n" + text).encode("utf-8")

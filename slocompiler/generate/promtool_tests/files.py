"""Test files: every SLO's scenarios of one rule file, written as promtool test YAML.

The page-tier, min_events and no-data tests go to `tests/<relpath>` (evaluated every minute),
the ticket-tier tests to `tests/<stem>.ticket.<ext>` at a coarser interval (`coarse_step`).
"""

from __future__ import annotations

from collections.abc import Sequence

from slocompiler import __version__
from slocompiler.conventions import ALERT_GROUP, GROUP_ORDER, SLI_GROUP, group_name
from slocompiler.emit.yaml import dump, promtool_test
from slocompiler.generate.promtool_tests.exclusion_tests import WINDOW_STEP
from slocompiler.generate.promtool_tests.quality import quality_tests
from slocompiler.generate.promtool_tests.scenarios import Scenarios, Test
from slocompiler.generate.promtool_tests.series import MIN, minutes
from slocompiler.generate.promtool_tests.shapes import Skip, shape_of
from slocompiler.generate.promtool_tests.templates import Written
from slocompiler.model import SLO, QualitySLI, ThresholdSLI
from slocompiler.rules import RuleFile

# promtool evaluates groups in this order: time slices before the SLI recordings before the alerts
GROUP_RANK = tuple(group_name(part, "") for part in GROUP_ORDER)


def group_eval_order(rules: RuleFile) -> list[str]:
    ranked: list[list[str]] = [[] for _ in range(len(GROUP_RANK) + 1)]
    for g in rules.groups:
        ranked[next((i for i, p in enumerate(GROUP_RANK) if g.name.startswith(p)), len(GROUP_RANK))].append(g.name)
    return [name for names in ranked for name in names]


def coarse_step(slos: Sequence[SLO]) -> int:
    """Evaluation interval (minutes) of the ticket-tier file: 15m when every ticket window and
    time slice allows it. Ticket tests need days of data; promtool's cost grows with the number
    of evaluations times the rules in the file, so a 1m interval would take minutes per test. Ticket
    windows longer than 4 days (periods over a month: a quarter's 9d) allow 60m or 30m."""
    longest = max((p.long_ms for slo in slos for p in (slo.windows.ticket_quick, slo.windows.ticket_slow)), default=0)
    for step in ((60, 30, 15, 5, 1) if longest > 4 * 24 * 60 * MIN else (15, 5, 1)):
        ok = True
        for slo in slos:
            wins = [ms for p in (slo.windows.ticket_quick, slo.windows.ticket_slow) for ms in (p.short_ms, p.long_ms)]
            wins += [r for r in (getattr(slo.sli, "fixed_range_ms", None),) if r]  # samples every step must feed it
            if isinstance(slo.sli, ThresholdSLI):
                wins.append(step * MIN * (slo.sli.slice_ms // MIN) if slo.sli.slice_ms % MIN == 0 else 1)
                if (step * MIN) % slo.sli.slice_ms:
                    ok = False
            if any(ms % (step * MIN) for ms in wins):
                ok = False
        if ok:
            return step
    return 1


UNTESTED = "untested"   # `# untested: <id> (<kind>): <reason>`: an SLO without any test (`slocompiler test` lists them)
SKIPPED = "skipped"     # `# skipped: …`: a tier or scenario left out of an SLO's tests


def collect_tests(slos: Sequence[SLO], rules: RuleFile, windows: list[Test] | None = None,
                  written: bool = False) -> tuple[list[Test | str], list[Test | str], list[str], int]:
    """(fine tests, ticket tests, notes, ticket evaluation minutes) for one rule file. A note is
    `untested: <id> (<kind>): <reason>` for an SLO without any test, else `skipped: <what>`.
    WRITTEN: the tests of SLOs of a shape seen before come as their text (`templates`), the
    others as data."""
    fine: list[Test | str] = []
    coarse: list[Test | str] = []
    notes: list[str] = []
    step = coarse_step(slos)
    by_name = {g.name: g for g in rules.groups}   # one lookup per SLO, not a scan of every group
    for slo in slos:
        sid = slo.id
        own = [by_name[n] for n in (group_name(SLI_GROUP, sid), group_name(ALERT_GROUP, sid)) if n in by_name]
        try:
            if any(ms % MIN for p in slo.windows.pairs() for ms in (p.short_ms, p.long_ms)):
                raise Skip("alert windows are not whole minutes")
            if isinstance(slo.sli, QualitySLI):   # delayed labels: scenarios of their own (docs/ml-quality.md)
                tests, quality_notes = quality_tests(slo, own)
                fine += tests
                notes += [f"{SKIPPED}: {n}" for n in quality_notes]
                continue
            shape = shape_of(slo)
            b = (Written if written else Scenarios)(slo, shape, own, step)
            b.build()
        except Skip as exc:
            notes.append(f"{UNTESTED}: {sid} ({slo.kind}): {exc}")
            continue
        if not b.fine_tests and not b.coarse_tests and not b.window_tests:
            notes.append(f"{UNTESTED}: {sid} ({slo.kind}): " + ("; ".join(b.notes) or "no alert to test"))
            continue
        fine += b.fine_tests
        coarse += b.coarse_tests
        if windows is not None:
            windows += b.window_tests
        notes += [f"{SKIPPED}: {n}" for n in b.notes]
    return fine, coarse, notes, step


def ticket_name(relpath: str) -> str:
    """`serving/a.yaml` -> `serving/a.ticket.yaml`: the ticket-tier tests, next to the others."""
    stem, dot, ext = relpath.rpartition(".")
    return f"{stem}.ticket.{ext}" if dot else f"{relpath}.ticket"


def promtool_test_files(rule_file_name: str, slos: Sequence[SLO], rules: RuleFile,
                        templates: bool = True) -> dict[str, bytes]:
    """{relpath under tests/: bytes}: the page/no-data file and, when there are ticket tests, the
    ticket file (evaluated at a coarser interval). TEMPLATES: SLOs of a shape seen before are
    written from its template (`templates`), the same text as without."""
    windows: list[Test] = []
    fine, coarse, notes, step = collect_tests(slos, rules, windows, written=templates)
    out = {}
    main = _render(rule_file_name, rules, fine, notes, 1, "page-tier, min_events and no-data")
    if main is not None:
        out[rule_file_name] = main
    if coarse:
        ticket = _render(rule_file_name, rules, coarse, [], step, "ticket-tier")
        if ticket is not None:  # always: there are tests
            out[ticket_name(rule_file_name)] = ticket
    if windows:
        extra = _render(rule_file_name, rules, windows, [], WINDOW_STEP, "exclusion-window")
        if extra is not None:
            out[ticket_name(rule_file_name).replace(".ticket", ".exclusions", 1)] = extra
    return out


def promtool_test_file(rule_file_name: str, slos: Sequence[SLO], rules: RuleFile) -> bytes | None:
    """The main promtool test file for one rule file (`tests/<relpath>` next to `prometheus/<relpath>`);
    `promtool_test_files` also gives the ticket-tier file."""
    return promtool_test_files(rule_file_name, slos, rules).get(rule_file_name)


def _render(rule_file_name: str, rules: RuleFile, tests: Sequence[Test | str], notes: list[str], step: int,
            what: str) -> bytes | None:
    depth = rule_file_name.count("/")
    head = [f"# Code generated by slocompiler {__version__} from {rule_file_name}. DO NOT EDIT.",
            f"# promtool unit tests ({what}) of the alerts in prometheus/{rule_file_name}, evaluated every "
            f"{minutes(step)}; run `slocompiler test` or `promtool test rules <this file>`."]
    head += [f"# {n}" for n in notes]
    if not tests and not notes:
        return None
    body = {"rule_files": ["../" * depth + f"../prometheus/{rule_file_name}"],
            "evaluation_interval": minutes(step),
            "group_eval_order": group_eval_order(rules)}
    parts = [dump(body), "tests:\n" if tests else "tests: []\n"]
    for t in tests:  # each test's explanation as a comment above it (tests already written as they are)
        if isinstance(t, str):
            parts.append(t)
            continue
        parts.append(f"  # {t['comment']}\n")
        parts.append(promtool_test({k: v for k, v in t.items() if k != "comment"}))
    text = "".join(parts)
    return ("\n".join(head) + "\n" + text).encode("utf-8")

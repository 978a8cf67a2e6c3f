"""Per service: its dashboards and catalog page, from its SLOs in tree order.

A service is usually defined in one spec file: the worker that compiled the file makes that
service's outputs at once (`made_with`), and the whole-tree stage takes them when the file turns
out to be the service's only one (`tree.all_service_outputs`), instead of reading the file's units
back and making them in a second round of workers.
"""

from __future__ import annotations

from collections.abc import Callable

from slocompiler import __version__
from slocompiler.conventions import Output
from slocompiler.diagnostics import has_errors
from slocompiler.model import SLO
from slocompiler.pipeline.results import FileResult
from slocompiler.spool import Artifacts

ServiceEntries = list[tuple[SLO, str]]  # a service's (SLO, spec file) pairs in tree order


def service_outputs(wanted: set[str], keeps: Callable[[str], bool], service: str,
                    entries: ServiceEntries) -> tuple[Artifacts, dict]:
    """The dashboards and catalog page of one service (those WANTED and that KEEPS keeps), from
    its (SLO, spec file) ENTRIES, and the summary of them the fleet overview and the index need."""
    files: dict[str, bytes] = {}
    summary: dict = {}
    if Output.GRAFANA in wanted:
        from slocompiler.generate.grafana import service_boards

        boards, summary[Output.GRAFANA.value] = service_boards(service, entries, __version__)
        files.update(boards)
    if Output.DOCS in wanted:
        from slocompiler.generate.docs import service_page

        page, summary[Output.DOCS.value] = service_page(service, entries, __version__)
        files.update(page)
    return Artifacts({k: v for k, v in files.items() if keeps(k)}), summary


def service_entries(service: str, results: list[FileResult]) -> ServiceEntries:
    """SERVICE's (SLO, spec file) pairs in tree order, from the files (RESULTS) that define it."""
    return [(slo, unit.relpath) for res in results for unit in res.all_units() for slo in unit.slos
            if slo.service == service]


def made_with(res: FileResult, wanted: set[str], keeps: Callable[[str], bool]) -> FileResult:
    """RES with the outputs of each service it defines made from its SLOs alone (`FileResult.made`):
    what the tree stage takes for a service no other file defines. None when the file has errors
    (the build then writes no service's outputs)."""
    if not has_errors(res.diagnostics):
        services = sorted({slo.service for unit in res.units for slo in unit.slos})
        res.made = {s: service_outputs(wanted, keeps, s, service_entries(s, [res])) for s in services}
    return res


def take_made(service: str, results: list[FileResult]) -> tuple[Artifacts, dict] | None:
    """SERVICE's outputs as the worker of its only file made them, if it did."""
    if len(results) == 1 and results[0].made is not None:
        return results[0].made.get(service)
    return None

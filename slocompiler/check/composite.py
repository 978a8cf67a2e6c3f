"""Checks of composite (journey) SLOs across the whole tree (docs/composite.md): every component
is an SLO of the build, no composite reaches itself, and each component records the series the
composite reads.

A file's record keeps, for every SLO, what a composite may read of it (`offer`) and, for a
composite, its references (`references`), so the check runs on remembered records as on fresh
ones and a composite's file never depends on its components' files.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable
from functools import lru_cache

from slocompiler.diagnostics import Diagnostic, Position, Severity
from slocompiler.durations import format_duration
from slocompiler.model import SLO, CompositeSLI, EventsSLI

_OFFER_SEP = "|"

TYPE_CHECKING = False
if TYPE_CHECKING:  # (typing, ~3 ms of a cold start, is not imported at run time)
    from typing import NamedTuple

    class _Offer(NamedTuple):
        windows: tuple[str, ...]
        rates: str
        grouped: bool
else:
    _Offer = namedtuple("_Offer", "windows rates grouped")


class Offer(_Offer):
    """What an SLO records that a composite may read: its `slo:sli_error:ratio_rate<w>` windows
    (the period's included), the window of its `slo:sli_errors:rate`/`slo:sli_total:rate`
    recordings ("" when it has none), and whether its SLI has several series (`by` groups)."""

    __slots__ = ()

    def encode(self) -> str:
        return _OFFER_SEP.join((" ".join(self.windows), self.rates, "g" if self.grouped else ""))

    @classmethod
    def decode(cls, text: str) -> Offer:
        parts = text.split(_OFFER_SEP)
        if len(parts) != 3:
            return cls((), "", False)
        return cls(tuple(parts[0].split()), parts[1], parts[2] == "g")


def offer(slo: SLO) -> str:
    """The encoded `Offer` of SLO (kept in its file's record)."""
    from slocompiler.generate.sli import grouping, kind_of
    from slocompiler.windows import sli_windows

    if "sli" not in slo.dialect.groups:
        return Offer((), "", False).encode()
    windows = _durations((*sli_windows(slo.windows), slo.period_ms))
    composite_traffic = isinstance(slo.sli, CompositeSLI) and slo.sli.weighting == "traffic"
    fixed_events = isinstance(slo.sli, EventsSLI) and bool(slo.sli.fixed_range_ms)
    rates = ""
    if composite_traffic or fixed_events or (slo.has_denominator and slo.dialect.period_ratio == "traffic"):
        rates = kind_of(slo).fixed_range or _durations((slo.windows.page_quick.short_ms,))[0]
    return Offer(windows, rates, bool(grouping(slo))).encode()


@lru_cache(maxsize=256)
def _durations(ms: tuple[int, ...]) -> tuple[str, ...]:
    return tuple(format_duration(m) for m in ms)


def references(slo: SLO) -> tuple:
    """A composite's components: (id, where the composite names it, key path); () for other SLOs."""
    if not isinstance(slo.sli, CompositeSLI):
        return ()
    return tuple((c.id, c.source, tuple(c.path)) for c in slo.sli.components)


def check_composites(slos: Iterable, files: list[str]) -> list[Diagnostic]:
    """Missing and cyclic references (positioned at each end), and components that do not record
    what their composite reads. SLOS: every `SLORef` of the tree; FILES: the spec files searched."""
    slos = list(slos)
    composites = {ref.id: ref for ref in slos if ref.refs}
    if not composites:
        return []
    by_id: dict[str, list] = {}
    for ref in slos:
        by_id.setdefault(ref.id, []).append(ref)
    out: list[Diagnostic] = []
    for ref in composites.values():
        for cid, pos, path in ref.refs:
            if cid not in by_id:
                out += _missing(cid, pos or Position("?"), path, sorted(by_id), files)
    cyclic = _cycles(composites, by_id)
    out += cyclic
    in_cycle = {(d.file, d.line, d.column) for d in cyclic}
    for ref in composites.values():
        own = Offer.decode(ref.offer)
        for cid, pos, path in ref.refs:
            found = by_id.get(cid)
            if not found or len(found) > 1 or pos is None or (pos.file, pos.line, pos.column) in in_cycle:
                continue  # missing, cyclic or duplicate ids are reported already
            out += _fits(ref.id, own, cid, Offer.decode(found[0].offer), found[0].source, pos, path)
    return out


def _missing(cid: str, pos: Position, path: tuple, known: list[str], files: list[str]) -> list[Diagnostic]:
    from slocompiler.formats.errors import did_you_mean

    shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
    return [pos.diag("SLC262", f"composite component {cid!r} is not an SLO of this build", path=path,
                     hint=did_you_mean(cid, known) or "an SLO id is `<service>-<name>`"),
            pos.diag("SLC620", f"SLO ids are looked up among the {len(known)} SLOs of the spec files of this build "
                     f"({shown}); an id is `<service>-<name>` of an SLO in one of them", path=path,
                     severity=Severity.NOTE)]


def _cycles(composites: dict, by_id: dict) -> list[Diagnostic]:
    """Every reference that lies on a cycle of composites, each with the cycle it closes."""
    out = []
    for ref in composites.values():
        for cid, pos, path in ref.refs:
            if cid not in composites or len(by_id.get(cid, ())) > 1:
                continue
            back = _path_to(cid, ref.id, composites)
            if back is None:
                continue
            cycle = " -> ".join((ref.id, *back))
            where = "; ".join(f"{c} at {_at(composites[c].source)}" for c in dict.fromkeys(back[:-1]) if c != ref.id)
            out.append((pos or Position("?")).diag(
                "SLC263", f"composite {ref.id!r} reaches itself through its components: {cycle}", path=path,
                hint=("the other composites of the cycle: " + where) if where else "a composite cannot be its own component"))
    return out


def _path_to(start: str, goal: str, composites: dict) -> tuple[str, ...] | None:
    """The ids from START to GOAL along component references (breadth first), or None."""
    seen = {start}
    queue: list[tuple[str, tuple[str, ...]]] = [(start, (start,))]
    while queue:
        node, trail = queue.pop(0)
        if node == goal:
            return trail
        ref = composites.get(node)
        for cid, _, _ in (ref.refs if ref else ()):
            if cid not in seen:
                seen.add(cid)
                queue.append((cid, (*trail, cid)))
    return None


def _at(pos: Position | None) -> str:
    return f"{pos.file}:{pos.line}" if pos else "?"


def _fits(comp_id: str, own: Offer, cid: str, theirs: Offer, source: Position | None, pos: Position,
          path: tuple) -> list[Diagnostic]:
    out = []
    missing = [w for w in own.windows if w not in theirs.windows]
    if missing:
        out.append(pos.diag(
            "SLC264", f"component {cid!r} ({_at(source)}) records no error ratio over "
                      f"{', '.join(missing)}, which composite {comp_id!r} reads",
            path=path, hint=f"it records {', '.join(theirs.windows) or 'no SLI series'}: give the composite "
                            "and its components the same period and alert windows"))
    if own.rates and theirs.rates != own.rates:
        why = (f"its event rates are recorded over {theirs.rates}, the composite's over {own.rates}" if theirs.rates
               else "it records no event rates (an SLI without a denominator, or `compatibility: sloth`)")
        out.append(pos.diag("SLC265", f"component {cid!r} ({_at(source)}) cannot be traffic-weighted: {why}",
                            path=path, hint="use `weighting: weights`, or components with events, ratio or "
                                            "latency SLIs and the same alert windows"))
    elif not own.rates and theirs.grouped:
        out.append(pos.diag("SLC266", f"component {cid!r} ({_at(source)}) has one SLI series per `by` group; "
                            f"`weighting: weights` needs one error ratio per component",
                            path=path, hint="use `weighting: traffic`, which sums the groups by their traffic, "
                                            "or a component without `by`"))
    return out

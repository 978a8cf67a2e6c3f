"""The library API: what the CLI calls, callable from Python too.

`validate`, `build`, `explain`, `run_tests` and `schema` compose the pipeline's stages; the
other commands call their stage module directly (`convert.sloth`, `convert.openslo`, `fmt`,
`scaffold`, `templating`).
"""

from __future__ import annotations

from collections.abc import Sequence

from slocompiler.diagnostics import Position, fails
from slocompiler.options import Options
from slocompiler.pipeline import Compilation, compile_paths, output_dir_excludes
from slocompiler.records import dataclass, field
from slocompiler.spool import spooling

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from slocompiler import outputs
    from slocompiler.explain import SLOInfo
    from slocompiler.live.gate import Limits
    from slocompiler.live.run import Backtest, Gate, LiveRun, Report
    from slocompiler.live.settings import Settings
    from slocompiler.promtool import Result

__all__ = ["BuildResult", "Explanation", "PromtoolRun", "backtest_live", "build", "check_live", "explain",
           "gate_live", "report_live", "run_tests", "schema", "schema_text", "validate"]


def validate(paths: Sequence[str], options: Options | None = None, *, units: bool = True) -> Compilation:
    """Check every spec under `paths` (every stage that can find a problem; nothing written).
    `units=False`: the SLO objects are not needed (a large tree's are then left out of `units`)."""
    return compile_paths(paths, options, extras=False, units=units)


def check_live(paths: Sequence[str], options: Options | None, settings: Settings, *, lookback_s: float = 3600,
               verbose: bool = False, progress: bool = True) -> LiveRun:
    """Check every spec under `paths`, then each SLO against the live Prometheus (SLC7xx; docs/live.md)."""
    from slocompiler.live import run

    return run.check(paths, options, settings, lookback_s=lookback_s, verbose=verbose, progress=progress)


def report_live(paths: Sequence[str], options: Options | None, settings: Settings, *, start: str | None = None,
                end: str | None = None, calendar: str | None = None, at: str | None = None,
                compare: str | None = None, progress: bool = True, plot_points: int = 0) -> Report:
    """Attainment of every SLO under `paths` from the live Prometheus's raw metrics (docs/live.md);
    `plot_points`: also each group's burn rate over the range in that many steps (HTML plots)."""
    from slocompiler.live import run

    return run.report(paths, options, settings, start=start, end=end, calendar=calendar, at=at, compare=compare,
                      progress=progress, plot_points=plot_points)


def gate_live(paths: Sequence[str], options: Options | None, settings: Settings, slo_ids: Sequence[str],
              limits: Limits, *, start: str | None = None, end: str | None = None) -> Gate:
    """Verdicts for the named SLOs (all when none is named) against budget and burn LIMITS (docs/live.md)."""
    from slocompiler.live import run

    return run.gate(paths, options, settings, slo_ids, limits, start=start, end=end)


def backtest_live(paths: Sequence[str], options: Options | None, settings: Settings, *, start: str | None = None,
                  end: str | None = None, days: float | None = None, step: int = 60,
                  against: Sequence[str] | None = None, progress: bool = True) -> Backtest:
    """Replay every SLO's alert conditions over the live server's history (docs/live.md)."""
    from slocompiler.live import run

    return run.backtest(paths, options, settings, start=start, end=end, days=days, step=step, against=against,
                        progress=progress)


@dataclass
class BuildResult:
    """What `build` compiled and the outputs it planned."""

    compilation: Compilation
    plan: outputs.Plan | None
    written: bool


def build(paths: Sequence[str], out_dir: str, options: Options | None = None, *, check: bool = False,
          dry_run: bool = False, strict: bool = False, cache_dir: str | None = None) -> BuildResult:
    """Compile `paths` into `out_dir`. With errors (or, if `strict`, warnings) nothing is written;
    `check` only compares. With `cache_dir`, only what changed since the last build is recompiled
    (incremental.py; the prometheus and victoriametrics targets, whose files are the same).
    The output folder is locked meanwhile: two builds into it run one after the other."""
    from slocompiler import outputs  # a build's: not imported by a validate

    options = options or Options()
    options.exclude = tuple(options.exclude) + output_dir_excludes(paths, out_dir)
    try:
        with outputs.locked(out_dir, exclusive=not (check or dry_run)), spooling(out_dir) as spool:
            try:
                result = _build(paths, out_dir, options, check, dry_run, strict, cache_dir)
                if result.plan is not None and dry_run:
                    result.plan.diff()  # while the new bytes are still in their temporary files
                return result
            finally:  # what was not renamed over its target (failed, --check, --diff)
                spool.discard()
    except outputs.Busy as exc:
        comp = Compilation()
        comp.diagnostics.append(Position(out_dir.rstrip("/") or out_dir).diag(
            "SLC406", f"output folder is locked by another build: {exc.strerror}",
            hint="wait for it, or raise SLOCOMPILER_LOCK_TIMEOUT"))
        return BuildResult(comp, None, False)


def _build(paths: Sequence[str], out_dir: str, options: Options, check: bool, dry_run: bool, strict: bool,
           cache_dir: str | None) -> BuildResult:
    from slocompiler import outputs  # a build's: not imported by a validate

    cache = None
    if cache_dir is not None and options.target in ("prometheus", "victoriametrics"):  # same files
        from slocompiler.incremental import Cache

        cache = Cache(out_dir, cache_dir)
    comp = cache.compile(paths, options) if cache else compile_paths(paths, options)
    inside = outputs.overlapping_specs(out_dir, [f.path for f in comp.files])
    if inside:
        comp.diagnostics.append(Position(out_dir.rstrip("/") or out_dir).diag(
            "SLC404", f"output folder holds {len(inside)} of the spec files it is built from "
                      f"({inside[0]}{', …' if len(inside) > 1 else ''}): outputs could overwrite or remove them",
            hint="write the outputs to a folder of their own, e.g. -o generated"))
    elif comp.ok:
        hit = outputs.overwritten_specs(out_dir, paths, comp.artifacts.keys() | comp.verified)
        if hit:
            comp.diagnostics.append(Position(out_dir.rstrip("/") or out_dir).diag(
                "SLC404", f"output folder holds {len(hit)} spec file(s) its outputs would overwrite "
                          f"({hit[0]}{', …' if len(hit) > 1 else ''}); specs in the output folder are not built",
                hint="write the outputs to a folder of their own, e.g. -o generated"))
    result = _write(comp, out_dir, check, dry_run, strict)
    if cache:
        cache.save(result.plan, result.written)
    return result


def _write(comp: Compilation, out_dir: str, check: bool, dry_run: bool, strict: bool) -> BuildResult:
    from slocompiler import outputs  # a build's: not imported by a validate

    if fails(comp.diagnostics, strict):
        return BuildResult(comp, None, False)
    plan = outputs.plan(out_dir, comp.artifacts, comp.verified)
    if plan.symlinks:
        for sub in plan.symlinks:
            comp.diagnostics.append(Position(f"{out_dir.rstrip('/')}/{sub}").diag(
                "SLC405", "output folder is a symlink: outputs are never written through one",
                hint="make it a real folder (or name its target with -o)"))
        return BuildResult(comp, None, False)
    if check:
        for rel in sorted(plan.writes):
            what = "out of date" if rel in plan.existing else "missing"
            comp.diagnostics.append(Position(f"{out_dir.rstrip('/')}/{rel}").diag(
                "SLC402", f"generated file is {what}", hint="run `slocompiler build` and commit the result"))
        for rel in plan.stale:
            comp.diagnostics.append(Position(f"{out_dir.rstrip('/')}/{rel}").diag(
                "SLC402", "generated file is stale: its spec is gone", hint="run `slocompiler build` to remove it"))
        return BuildResult(comp, plan, False)
    if dry_run:
        return BuildResult(comp, plan, False)
    try:
        outputs.apply(plan)
    except OSError as exc:
        comp.diagnostics.append(Position(out_dir).diag("SLC403", f"cannot write outputs: {exc}"))
        return BuildResult(comp, plan, False)
    return BuildResult(comp, plan, True)


@dataclass
class Explanation:
    """What `explain` reports per SLO and alert tier."""

    compilation: Compilation
    slos: list[SLOInfo]  # per SLO and alert tier (empty when the specs have errors)


def explain(paths: Sequence[str], options: Options | None = None) -> Explanation:
    """Compile `paths` (no rule files emitted) and work out each SLO's alert arithmetic."""
    from slocompiler import explain as ex

    comp = compile_paths(paths, options, emit=False, extras=False)
    infos = [ex.explain_slo(slo, unit.file) for unit in comp.units for slo in unit.slos] if comp.ok else []
    return Explanation(comp, infos)


@dataclass
class PromtoolRun:
    """`run_tests`: the build into the test folder, then each promtool test group's result."""

    build: BuildResult
    files: list[str] = field(default_factory=list)      # generated test files that were run
    results: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)      # scenarios the generator skipped, and why

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if not r.passed]


def run_tests(paths: Sequence[str], promtool: str, options: Options | None = None, *, out_dir: str | None = None,
              jobs: int = 0, strict: bool = False) -> PromtoolRun:
    """Build `paths` with the promtool tests of every alert into `out_dir` (default: a temporary
    folder, removed afterwards) and run them, `jobs` test groups at a time (0: one per CPU).
    Nothing is run when the specs do not build (`.build.written` is False)."""
    from slocompiler import promtool as pt

    options = options or Options()
    options.outputs = ("prometheus", "tests")
    import shutil
    import tempfile

    tmp = tempfile.mkdtemp(prefix="slocompiler-test-") if out_dir is None else None
    try:
        result = build(paths, tmp or str(out_dir), options, strict=strict)
        if not result.written:
            return PromtoolRun(result)
        files = pt.find_tests(tmp or str(out_dir))
        results, notes = pt.run_files(promtool, files, jobs)
        return PromtoolRun(result, files, results, notes)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def schema() -> dict[str, Any]:
    """The JSON Schema of the native format (kept in specs/slocompiler-v1.schema.json)."""
    from slocompiler.formats.native_spec import ServiceSpec

    doc = _label_maps(ServiceSpec.model_json_schema(by_alias=True, mode="validation"))
    doc = {"$schema": "https://json-schema.org/draft/2020-12/schema",
           "$id": "https://slocompiler.dev/schemas/slocompiler-v1.schema.json",
           "title": "slocompiler/v1 service spec", **doc}
    return doc


def _label_maps(node: Any) -> Any:
    """Pydantic writes constrained keys as patternProperties, which lets other keys through;
    editors should reject them, so say it with propertyNames."""
    if isinstance(node, dict):
        pats = node.get("patternProperties")
        if isinstance(pats, dict) and len(pats) == 1:
            (pattern, value), = pats.items()
            node = {k: v for k, v in node.items() if k != "patternProperties"}
            node["propertyNames"] = {"pattern": pattern}
            node["additionalProperties"] = value
        return {k: _label_maps(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_label_maps(v) for v in node]
    return node


def schema_text() -> str:
    import json

    return json.dumps(schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

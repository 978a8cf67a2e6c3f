"""Per spec unit: generate its rules, check them, emit them in the target's layout (and its
promtool tests); on every core for large trees."""

from __future__ import annotations

from slocompiler.check import check_generated
from slocompiler.conventions import Output, Target
from slocompiler.engines import version_for
from slocompiler.generate.prometheus import rule_file
from slocompiler.model import SpecUnit
from slocompiler.options import Options
from slocompiler.pipeline.parallel import fork_map
from slocompiler.pipeline.results import UnitOutput
from slocompiler.spool import Artifacts


def unit_output(unit: SpecUnit, opts: Options, wanted: set[str], target: Target) -> UnitOutput:
    """Generate, check and emit one spec unit's outputs in TARGET's layout, those WANTED (runs in a
    worker for large trees)."""
    rf = rule_file(unit.relpath, unit.slos, opts)
    diags = check_generated(rf, unit, version_for(target.value, opts.prometheus_version))
    artifacts = Artifacts()  # spooled to disk as they are set, in a build
    kubernetes = unit.target == Output.KUBERNETES
    rules_key = Output.KUBERNETES.value if target == Target.KUBERNETES else unit.target
    if rules_key in wanted and opts.keeps(f"{rules_key}/{unit.relpath}"):  # validate: the rules are checked, not written
        objects = [(meta, rule_file(unit.relpath, slos, opts)) for meta, slos in unit.objects] if kubernetes else []
        if target == Target.KUBERNETES and not kubernetes:  # native, OpenSLO, prometheus/v1: objects from the config
            from slocompiler.emit.kubernetes import rule_objects

            objects = [(meta, rf if slos == unit.slos else rule_file(unit.relpath, slos, opts))
                       for meta, slos in rule_objects(unit, opts.kubernetes)]
        from slocompiler.emit.targets import unit_outputs  # (the emitters are not loaded for a validate)

        artifacts.update(unit_outputs(unit, rf, objects, target))
    if not kubernetes and Output.TESTS in wanted and opts.keeps(Output.TESTS.value):
        from slocompiler.emit.targets import with_promtool_tests

        tests = with_promtool_tests(target)
    else:
        tests = False
    if tests:  # promtool unit tests of its alerts (and a .ticket file)
        from slocompiler.generate.promtool_tests import promtool_test_files

        for rel, data in promtool_test_files(unit.relpath, unit.slos, rf).items():
            artifacts[f"{Output.TESTS.value}/{rel}"] = data
    rules = sum(len(g.rules) for g in rf.groups)
    keep = target == Target.MIMIR and unit.target in wanted and opts.keeps(unit.out_path)  # mimir's files are emitted per tree
    return UnitOutput(diags, rules, artifacts, rf if keep else None)


def generate_units(units: list[SpecUnit], opts: Options, wanted: set[str],
                   target: Target) -> list[tuple[SpecUnit, UnitOutput]]:
    """Per spec unit outputs, in order (large trees on every core)."""
    results = fork_map(lambda u: unit_output(u, opts, wanted, target), units, sum(len(u.slos) for u in units))
    return list(zip(units, results))

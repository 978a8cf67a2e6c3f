"""Rule files for the engine that evaluates them: `--target prometheus|thanos|mimir|victoriametrics`.

The generators always produce Prometheus rule groups; the target, chosen before anything is
emitted, only changes how they are packaged (see docs/deployment.md):

- `prometheus`: `OUT/prometheus/<spec path>`.
- `victoriametrics`: the same files. vmalert reads Prometheus rule files as they are (checked
  with `vmalert -dryRun` in the tests); no vmalert-only key is needed.
- `thanos`: `OUT/thanos/<spec path>`, Thanos Ruler rule files whose every group has
  `partial_response_strategy: abort` (a budget computed from half the data is wrong, not
  approximate: an SLO rule must fail loudly instead). PrometheusRule objects under
  `OUT/kubernetes/` (for prometheus-operator's ThanosRuler) get the same group key.
- `kubernetes`: `OUT/kubernetes/<spec path>`, prometheus-operator PrometheusRule objects for
  every input format (emit/kubernetes.py), dashboard ConfigMaps and a `kustomization.yaml`.
- `mimir`: `OUT/mimir/<namespace>.yaml`, one flat folder of files for `mimirtool rules
  load|sync` (`namespace:` plus `groups:`); the namespace is the spec path without its
  extension, `/` spelled `.` (`payments/api.yaml` → `payments.api`). Two spec files may share a
  namespace, so these files are emitted for the whole tree (`mimir_files`). The tenant is not in
  the files: `mimirtool rules sync --rule-dirs OUT/mimir --id <tenant>`.

promtool test files (`OUT/tests/`) load `../prometheus/<spec path>`, which promtool cannot read
in the thanos and mimir layouts (promtool rejects their extra keys), so those targets have none
(`with_promtool_tests`): run `slocompiler test` (which always builds the Prometheus layout) instead.
The writers (emit/rules.py, emit/yaml.py) are imported where used: a `validate` reads the target
names here and writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from slocompiler import __version__
from slocompiler.conventions import Output, Target
from slocompiler.model import SpecUnit
from slocompiler.records import replace
from slocompiler.rules import Group, RuleFile

THANOS_EXTRA = (("partial_response_strategy", "abort"),)


def with_promtool_tests(target: str) -> bool:
    """Whether the target's layout has the `prometheus/` files promtool tests load."""
    return target in (Target.PROMETHEUS, Target.VICTORIAMETRICS)


def mimir_namespace(relpath: str) -> str:
    """The Mimir/Cortex ruler namespace of a spec file: its path without extension, `/` → `.`."""
    stem = re.sub(r"\.ya?ml$", "", relpath, flags=re.IGNORECASE)
    return stem.replace("/", ".") or "slocompiler"


def _thanos_group(group: Group) -> Group:
    extra = tuple((k, v) for k, v in group.extra if k != "partial_response_strategy")
    return replace(group, extra=extra + THANOS_EXTRA)


def _for_target(rf: RuleFile, target: str) -> RuleFile:
    if target != Target.THANOS:
        return rf
    return RuleFile(rf.source, [_thanos_group(g) for g in rf.groups])


def unit_output_path(unit: SpecUnit, target: str) -> str:
    """Where a spec unit's rules go in TARGET's layout (Mimir's: per tree)."""
    if target == Target.KUBERNETES or unit.target == Output.KUBERNETES:
        return f"{Output.KUBERNETES.value}/{unit.relpath}"
    if target == Target.THANOS:
        return f"{Target.THANOS.value}/{unit.relpath}"
    return unit.out_path


def unit_outputs(unit: SpecUnit, rf: RuleFile, objects: list[tuple[dict, RuleFile]], target: str) -> dict[str, bytes]:
    """The rule files of one spec unit in TARGET's layout (OBJECTS: the unit's PrometheusRule
    objects with their rule files, for a Kubernetes unit or target). Mimir's are emitted per tree."""
    from slocompiler.emit.rules import emit_prometheus_rule_documents, emit_prometheus_rules, emit_rule_file

    if unit.target == Output.KUBERNETES:
        packed = [(meta, _for_target(orf, target)) for meta, orf in objects]
        return {unit.out_path: emit_prometheus_rules(unit.relpath, packed, __version__)}
    if target == Target.KUBERNETES:
        return {unit_output_path(unit, target): emit_prometheus_rule_documents(unit.relpath, objects, __version__)}
    if target == Target.MIMIR:
        return {}
    if target == Target.THANOS:
        return {unit_output_path(unit, target): emit_rule_file(_for_target(rf, target), __version__)}
    return {unit.out_path: emit_rule_file(rf, __version__)}


def emit_mimir_file(namespace: str, sources: list[str], groups: list[Group], version: str) -> bytes:
    """A `mimirtool rules load|sync` file: header comment, `namespace:`, `groups:`."""
    from slocompiler.emit.rules import emit_group
    from slocompiler.emit.yaml import header, scalar

    out = [header(", ".join(sources), version, "slocompiler build --target mimir"),
           f"namespace: {scalar(namespace)}\n"]
    if not groups:
        out.append("groups: []\n")
    else:
        out.append("groups:\n")
        for group in groups:
            emit_group(group, out)
    return "".join(out).encode("utf-8")


def mimir_files(rule_files: Iterable[tuple[str, RuleFile]]) -> dict[str, bytes]:
    """`mimir/<namespace>.yaml` from every (output path, rule file) of the tree, in tree order."""
    by_ns: dict[str, tuple[list[str], list[Group]]] = {}
    for out_path, rf in rule_files:
        sources, groups = by_ns.setdefault(mimir_namespace(out_path.split("/", 1)[1]), ([], []))
        if rf.source not in sources:
            sources.append(rf.source)
        groups.extend(rf.groups)
    return {f"{Target.MIMIR.value}/{ns}.yaml": emit_mimir_file(ns, sources, groups, __version__)
            for ns, (sources, groups) in sorted(by_ns.items())}

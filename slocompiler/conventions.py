"""Names the output contract fixes: series, groups, labels, placeholders, targets and outputs.

Sloth's names (`rule-contract.md`), so Sloth's dashboards and alert routes keep working. Every
other module takes them from here; a name spelled twice is a name that can drift.
"""

from __future__ import annotations

import re
from enum import Enum


class _Names(str, Enum):
    """A closed set of names whose values are the strings users write and read."""

    def __str__(self) -> str:
        return self.value


class Severity(_Names):
    """The two alert tiers of a multi-window multi-burn-rate alert (Sloth's `sloth_severity`)."""

    PAGE = "page"
    TICKET = "ticket"


class Speed(_Names):
    """The two window pairs of a tier: the quick (short) and the slow (long) one."""

    QUICK = "quick"
    SLOW = "slow"


class Target(_Names):
    """Rule engine layouts `build --target` writes (docs/deployment.md)."""

    PROMETHEUS = "prometheus"
    THANOS = "thanos"
    MIMIR = "mimir"
    VICTORIAMETRICS = "victoriametrics"
    KUBERNETES = "kubernetes"   # PrometheusRule objects for every input format (docs/deployment.md)


class Output(_Names):
    """Output kinds: each is a top-level folder of the output directory."""

    PROMETHEUS = "prometheus"
    KUBERNETES = "kubernetes"
    GRAFANA = "grafana"
    TESTS = "tests"
    DOCS = "docs"
    ALERTMANAGER = "alertmanager"   # route subtree and inhibit rules, from the config's `routing:` (docs/routing.md)


# the `rule_files` of prometheus.yml for the build (emit/rule_list.py; docs/deployment.md), beside
# the output folders, and where OUT/prometheus/ is deployed relative to prometheus.yml by default
RULE_FILES_LIST = "prometheus-rule-files.yaml"
RULE_FILES_PREFIX = "slo"

TARGETS: tuple[str, ...] = tuple(t.value for t in Target)
OUTPUTS: tuple[str, ...] = tuple(o.value for o in Output)
RULE_OUTPUTS = (Output.PROMETHEUS.value, Output.KUBERNETES.value)  # where a spec file's own rules go

# -- the `{{.window}}` placeholder of Sloth's query templates --------------------------------------
WINDOW_RE = re.compile(r"\{\{\s*\.window\s*\}\}")
WINDOW_PLACEHOLDER = "{{.window}}"

# -- labels -----------------------------------------------------------------------------------------
RESERVED_PREFIXES = ("sloth_", "__")  # label names users may not set: the generated series own them
ID_LABEL = "sloth_id"
SERVICE_LABEL = "sloth_service"
SLO_LABEL = "sloth_slo"
WINDOW_LABEL = "sloth_window"
SEVERITY_LABEL = "sloth_severity"
VERSION_LABEL = "sloth_version"
MODE_LABEL = "sloth_mode"
SPEC_LABEL = "sloth_spec"
OBJECTIVE_LABEL = "sloth_objective"
OWNER_LABEL = "sloth_owner"
TIER_LABEL = "sloth_tier"
NO_DATA_LABEL = "slo_alert"          # value "no_data" on the no-data alert
ID_LABELS = (ID_LABEL, SERVICE_LABEL, SLO_LABEL)

# -- routing labels on alerts (docs/routing.md): native and OpenSLO inputs only, never Sloth's --------
# The tier is Sloth's own `sloth_severity` (page|ticket); the SLO id is `sloth_id`, team-like SLO
# labels come with the SLI series. Added: the routing severity (overridable per tier), the owner,
# the SLO's tier of criticality, and the window pair of a tier that alerts on one pair only.
TIER_ALERT_LABEL = SEVERITY_LABEL    # page|ticket: what routes and inhibit rules match
ROUTING_SEVERITY_LABEL = "severity"  # critical|warning by default (kube-prometheus-stack's values)
WINDOW_PAIR_LABEL = "sloth_window_pair"  # quick|slow, where a tier alerts on one pair only
DEFAULT_ROUTING_SEVERITY = {"page": "critical", "ticket": "warning"}
NO_DATA_VALUE = "no_data"            # value of NO_DATA_LABEL on the no-data alert

# -- Kubernetes objects ----------------------------------------------------------------------------
KUSTOMIZATION = "kustomization.yaml"
DASHBOARD_SIDECAR_LABEL = ("grafana_dashboard", "1")   # kube-prometheus-stack's Grafana sidecar
DASHBOARDS_DIR = "dashboards"                          # OUT/kubernetes/dashboards/: ConfigMaps
ALERTMANAGER_CONFIG = "alertmanager.yaml"              # OUT/alertmanager/: a complete, checkable config
ALERTMANAGER_ROUTES = "routes.yaml"                    # OUT/alertmanager/: the subtree and inhibit rules to paste

# -- recorded series --------------------------------------------------------------------------------
SLI_ERROR = "slo:sli_error:ratio_rate"           # + window: the SLI's error ratio over that window
ERRORS_RATE = "slo:sli_errors:rate"              # + short window: bad events per second (period ratio)
TOTAL_RATE = "slo:sli_total:rate"                # + short window: all events per second
TIME_SLICE = "slo:time_slice_error:bool"         # 1 for a bad slice, 0 for a good one
OBJECTIVE = "slo:objective:ratio"
ERROR_BUDGET = "slo:error_budget:ratio"
TIME_PERIOD_DAYS = "slo:time_period:days"
CURRENT_BURN = "slo:current_burn_rate:ratio"
PERIOD_BURN = "slo:period_burn_rate:ratio"
BUDGET_REMAINING = "slo:period_error_budget_remaining:ratio"
NUMERATOR_CORRECTION = "slo:numerator_correction:ratio"  # + window (Sloth contrib)
INFO = "sloth_slo_info"

# -- rule groups ------------------------------------------------------------------------------------
GROUP_PREFIX = "sloth-slo-"
SLICE_GROUP = "time-slices"          # the recorded 0/1 of each slice (time-slice SLIs)
SLI_GROUP = "sli-recordings"         # error ratios per window and the period ratio
META_GROUP = "meta-recordings"       # objective, budget, burn rates, info
ALERT_GROUP = "alerts"               # burn-rate, no-data and budget alerts
GROUP_ORDER = (SLICE_GROUP, SLI_GROUP, META_GROUP, ALERT_GROUP)  # the order rules depend on each other


def sli_error(window: str) -> str:
    """`slo:sli_error:ratio_rate<window>`."""
    return SLI_ERROR + window


def group_name(part: str, slo_id: str) -> str:
    """Rule group of one SLO: `part` is one of GROUP_ORDER."""
    return f"{GROUP_PREFIX}{part}-{slo_id}"


def is_reserved(label: str) -> bool:
    return label.startswith(RESERVED_PREFIXES)


def alert_name(service: str, name: str) -> str:
    """Default alert name: service and SLO in CamelCase (`fraud-scoring` → `FraudScoring`)."""
    words = re.split(r"[-_.]+", f"{service}-{name}")
    text = "".join(w[:1].upper() + w[1:] for w in words if w)
    return text if text[:1].isalpha() else "Slo" + text

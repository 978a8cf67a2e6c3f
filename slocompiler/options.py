"""The options of one compilation: what the command line and the config file ask for."""

from __future__ import annotations

import datetime as _dt

from slocompiler import __version__
from slocompiler.conventions import OUTPUTS, RULE_FILES_PREFIX, Target
from slocompiler.records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from slocompiler.delivery import KubernetesConfig, RoutingConfig


@dataclass
class Options:
    """Build-wide options; the CLI fills them from flags."""

    default_period: str = "30d"
    extra_labels: tuple[tuple[str, str], ...] = ()
    disable_alerts: bool = False
    disable_recordings: bool = False
    exclude: tuple[str, ...] = ()
    today: _dt.date | None = None
    windows_dirs: tuple[str, ...] = ()   # replace the built-in catalogs (Sloth's --slo-period-windows-path)
    exclude_re: str | None = None        # Sloth's --fs-exclude
    include_re: str | None = None        # Sloth's --fs-include
    sloth_version: str | None = None     # value of sloth_version (Sloth's goldens use "dev")
    ignore_duplicates: bool = False
    template_dirs: tuple[str, ...] = ()  # user SLI template folders (override shipped ones by name)
    outputs: tuple[str, ...] = OUTPUTS    # what build writes
    policies: tuple[str, ...] = ()       # JSON Schema files every spec document must satisfy
    target: str = Target.PROMETHEUS.value  # rule engine layout (targets.py)
    rule_files_prefix: str = RULE_FILES_PREFIX  # where prometheus.yml finds OUT/prometheus/ (rule_list.py)
    tree_catalogs: tuple[str, ...] = ()  # files of the configured tree whose AlertWindows a path subset uses
    prometheus_version: str | None = None  # PromQL function set of the engine (engines.py); None: the target's
    kubernetes: KubernetesConfig | None = None  # object metadata (`kubernetes:` in the config)
    routing: RoutingConfig | None = None        # Alertmanager routes (`routing:` in the config)
    other_periods: str = "scaled"  # burn-rate windows of periods without a catalog: "scaled" | "derived"

    def keeps(self, rel: str) -> bool:
        """Whether an artifact (path under the output folder) is one of the outputs asked for."""
        return rel.split("/", 1)[0] in self.outputs

    @property
    def version_label(self) -> str:
        """Value of the `sloth_version` label of every generated series."""
        return self.sloth_version or f"slocompiler-{__version__}"

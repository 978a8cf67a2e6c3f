"""What each target engine's PromQL can run: the function set per Prometheus version.

The PromQL parser (promql-parser) knows every function of the newest Prometheus; the engine that
loads the rules may be older. `FUNCTIONS` says, for each function (and aggregation) a query may
call, the Prometheus version that introduced it, whether it is experimental there (Prometheus
refuses it unless started with `--enable-feature=promql-experimental-functions`), and the version
that removed it. The default, `DEFAULT_VERSION`, is Prometheus 2.42 as Debian and Ubuntu ship it
(its `promtool` is what the test suite checks every build against). Thanos, Mimir and
VictoriaMetrics read PromQL with the function set of a Prometheus version (`TARGET_VERSIONS`):
`--prometheus-version` names the one their release embeds.
"""

from __future__ import annotations

from functools import lru_cache

from slocompiler import lazyre
from slocompiler.records import dataclass

DEFAULT_VERSION = "2.42"
# The Prometheus function-set version each target assumes unless `--prometheus-version` says otherwise:
# the oldest still commonly deployed, so a build that passes runs everywhere.
TARGET_VERSIONS = {"prometheus": DEFAULT_VERSION, "thanos": DEFAULT_VERSION, "mimir": DEFAULT_VERSION,
                   "victoriametrics": DEFAULT_VERSION}
KNOWN_VERSIONS = ("2.42", "2.45", "2.49", "2.50", "2.53", "2.54", "3.0", "3.5", "3.7")
_VERSION = lazyre.compile(r"^v?(\d+)\.(\d+)(?:\.\d+)?$")


@dataclass(frozen=True)
class Function:
    """A PromQL function as an engine version knows it."""

    since: str = "2.0"                  # Prometheus version that introduced it
    experimental: str | None = None     # version from which it is experimental (feature flag), if any
    stable: str | None = None           # version from which it no longer needs the flag
    removed: str | None = None          # version that removed it


_BASE_NAMES = (
    "abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil changes clamp clamp_max "
    "clamp_min cos cosh count_over_time day_of_month day_of_week day_of_year days_in_month deg delta deriv exp "
    "floor histogram_quantile hour idelta increase irate label_join label_replace last_over_time ln log10 log2 "
    "max_over_time min_over_time minute month pi predict_linear present_over_time quantile_over_time rad rate "
    "resets round scalar sgn sin sinh sort sort_desc sqrt stddev_over_time stdvar_over_time sum_over_time tan "
    "tanh time timestamp vector year "
    # aggregations
    "sum min max avg group stddev stdvar count count_values bottomk topk quantile"
)
_BASE = _BASE_NAMES.split()

FUNCTIONS: dict[str, Function] = dict.fromkeys(_BASE, Function())  # (one shared frozen record: ~80 fewer made at import)
FUNCTIONS.update({
    "holt_winters": Function(removed="3.0"),
    "histogram_count": Function(since="2.40"),
    "histogram_sum": Function(since="2.40"),
    "histogram_fraction": Function(since="2.40"),
    "histogram_stddev": Function(since="2.50"),
    "histogram_stdvar": Function(since="2.50"),
    "histogram_avg": Function(since="2.53"),
    "sort_by_label": Function(since="2.49", experimental="2.49"),
    "sort_by_label_desc": Function(since="2.49", experimental="2.49"),
    "mad_over_time": Function(since="2.54", experimental="2.54"),
    "limitk": Function(since="2.54", experimental="2.54"),
    "limit_ratio": Function(since="2.54", experimental="2.54"),
    "double_exponential_smoothing": Function(since="3.0", experimental="3.0"),
    "info": Function(since="3.0", experimental="3.0"),
    "ts_of_min_over_time": Function(since="3.5", experimental="3.5"),
    "ts_of_max_over_time": Function(since="3.5", experimental="3.5"),
    "ts_of_last_over_time": Function(since="3.5", experimental="3.5"),
    "first_over_time": Function(since="3.7", experimental="3.7"),
    "ts_of_first_over_time": Function(since="3.7", experimental="3.7"),
})


@lru_cache(maxsize=256)  # a run asks for a handful of versions, once per generated expression
def parse_version(text: str) -> tuple[int, int] | None:
    """`2.42`, `v2.53.1` -> (2, 42); None when it is not a Prometheus version."""
    m = _VERSION.match(text.strip()) if isinstance(text, str) else None
    return (int(m.group(1)), int(m.group(2))) if m and int(m.group(1)) >= 2 else None


def _v(text: str) -> tuple[int, int]:
    v = parse_version(text)
    assert v is not None, text
    return v


def version_for(target: str, version: str | None) -> str:
    """The Prometheus function-set version of a build: the option's, else the target's default."""
    return version or TARGET_VERSIONS.get(target, DEFAULT_VERSION)


def function_problem(name: str, version: str) -> tuple[str, str] | None:
    """(code, message) when Prometheus VERSION cannot run function (or aggregation) NAME: SLC306 when
    it does not have it, SLC308 (a warning) when it is experimental there."""
    v = parse_version(version) or _v(DEFAULT_VERSION)
    spelled = f"Prometheus {v[0]}.{v[1]}"
    f = FUNCTIONS.get(name)
    if f is None:
        return "SLC306", f"{name}() is not a function of any Prometheus version this compiler knows"
    if v < _v(f.since):
        return "SLC306", f"{name}() is not a function of {spelled} (it appeared in Prometheus {f.since})"
    if f.removed and v >= _v(f.removed):
        return "SLC306", f"{name}() was removed in Prometheus {f.removed}"
    if f.experimental and v >= _v(f.experimental) and not (f.stable and v >= _v(f.stable)):
        return "SLC308", (f"{name}() is experimental in {spelled}: the engine refuses it unless started with "
                          "--enable-feature=promql-experimental-functions")
    return None

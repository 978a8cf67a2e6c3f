"""The native `slocompiler/v1` schema without pydantic: a fast acceptor for documents that are
valid, so that a pre-commit `validate` of a correct file never imports pydantic (~90 ms of a
cold start).

`accept(data)` answers only when it is sure: the document is valid under the pydantic models of
`native_spec` and here is what they would have built (plain `Record`s with the same attributes,
`model_fields_set` and the `kind` of an SLI). For anything it is unsure of — any error, any value
outside the plain cases (a non-finite number, a string with a newline under a pattern, a
`kubernetes:` block) — it answers None and the caller validates with pydantic, which then
reports exactly what it always did. `tests/test_native_plain.py` holds the two to each other:
the same fields and defaults, and the same result on the corpus and on mutated documents.
"""

from __future__ import annotations

import datetime as _dt
import math
import re

from slocompiler.conventions import OUTPUTS, RULE_FILES_PREFIX, TARGETS, Target
from slocompiler.durations import out_of_range, parse_duration

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME_PATTERN = r"^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$"
LABEL_NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
# alert names: what Sloth and Prometheus accept (any text), less control characters
ALERT_NAME_PATTERN = r"^[^\x00-\x1f\x7f]+$"
SLI_KINDS = ("events", "raw", "ratio", "latency", "threshold", "quality", "template", "composite")


def duration_ms(value: str) -> int:
    """Milliseconds of a `Duration` the schema has checked."""
    ms = parse_duration(value)
    if ms is None:
        raise ValueError(f"invalid duration {value!r}")
    return ms


class Unsure(Exception):
    """The value is not one the fast acceptor vouches for: let pydantic decide."""


class Record:
    """A validated object: its fields as attributes, and which were given (`model_fields_set`)."""

    def __init__(self, values: dict[str, Any], given: set[str]) -> None:
        self.__dict__.update(values)
        self.model_fields_set = given

    def __repr__(self) -> str:
        return f"Record({self.__dict__!r})"


# ---------------------------------------------------------------------------------- value kinds
# A kind is a callable value -> the value pydantic would hold, raising Unsure otherwise.


def _str(v: Any) -> str:
    if type(v) is not str:
        raise Unsure
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: pydantic's business
        raise Unsure from None
    return v


def _text(min_length: int = 0, pattern: str | None = None, max_length: int | None = None):
    rx = re.compile(pattern) if pattern else None

    def check(v: Any) -> str:
        v = _str(v)
        if len(v) < min_length or (max_length is not None and len(v) > max_length):
            raise Unsure
        if rx is not None and ("\n" in v or not rx.search(v)):  # `$` differs before a final newline
            raise Unsure
        return v
    return check


def _num(gt: float | None = None, lt: float | None = None, ge: float | None = None, le: float | None = None):
    def check(v: Any) -> float:
        if type(v) is int:
            if abs(v) > 2 ** 53:
                raise Unsure
            v = float(v)
        elif type(v) is not float or not math.isfinite(v):
            raise Unsure
        if ((gt is not None and not v > gt) or (lt is not None and not v < lt)
                or (ge is not None and not v >= ge) or (le is not None and not v <= le)):
            raise Unsure
        return v
    return check


def _int(v: Any) -> int:
    if type(v) is not int:
        raise Unsure
    return v


def _bool(v: Any) -> bool:
    if type(v) is not bool:
        raise Unsure
    return v


def _any(v: Any) -> Any:
    return v


def _literal(*values: str):
    def check(v: Any) -> str:
        if type(v) is not str or v not in values:
            raise Unsure
        return v
    return check


def _duration(v: Any) -> str:
    v = _str(v)
    if out_of_range(v) or parse_duration(v) is None:
        raise Unsure
    return v


def _date(v: Any) -> _dt.date:
    if type(v) is _dt.date:
        return v
    if type(v) is str and len(v) == 10 and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        try:
            return _dt.date.fromisoformat(v)
        except ValueError:
            raise Unsure from None
    raise Unsure


def _str_or_int(v: Any) -> str | int:
    if type(v) is int:
        return v
    return _str(v)


def _optional(kind):
    def check(v: Any) -> Any:
        return None if v is None else kind(v)
    return check


def _list(kind, min_length: int = 0):
    def check(v: Any) -> list:
        if type(v) is not list or len(v) < min_length:
            raise Unsure
        return [kind(x) for x in v]
    return check


def _dict(key, value):
    def check(v: Any) -> dict:
        if type(v) is not dict:
            raise Unsure
        return {key(k): value(x) for k, x in v.items()}
    return check


_name = _text(pattern=NAME_PATTERN)
_label_name = _text(pattern=LABEL_NAME_PATTERN)
_labels = _dict(_label_name, _str)

# ---------------------------------------------------------------------------------- models
# A model: {key in the document: (attribute, kind, default factory or None when required)}.


def _none() -> None:
    return None


def _model(fields: dict[str, tuple], rule=None):
    keys = fields.keys()
    required = frozenset(key for key, (_, _, default) in fields.items() if default is None)
    kinds = {key: (attr, kind) for key, (attr, kind, _) in fields.items()}
    blank = {attr: None for attr, _, _ in fields.values()}  # in field order; `_none` defaults stay
    made = tuple((key, attr, default) for key, (attr, _, default) in fields.items()
                 if default is not None and default is not _none)

    def check(v: Any) -> Record:
        if type(v) is not dict or not v.keys() <= keys or not required <= v.keys():
            raise Unsure
        values = blank.copy()
        for key, x in v.items():
            attr, kind = kinds[key]
            values[attr] = kind(x)
        for key, attr, default in made:
            if key not in v:
                values[attr] = default()
        record = Record(values, {kinds[key][0] for key in v})
        if rule is not None and not rule(record):
            raise Unsure
        return record
    check.fields = fields  # type: ignore[attr-defined]
    return check


def _f(kind, default=_none, attr: str | None = None) -> tuple:
    return (attr, kind, default)


def _fields(**spec: tuple) -> dict[str, tuple]:
    return {key.rstrip("_") if key.endswith("__") else key: (attr or key, kind, default)
            for key, (attr, kind, default) in spec.items()}


REQUIRED = None
_plugin_ref = _model(_fields(id=_f(_text(min_length=1), REQUIRED), config=_f(_any), priority=_f(_int, lambda: 0)))
_plugin_chain = _model(_fields(overridePrevious=_f(_bool, lambda: False), chain=_f(_list(_plugin_ref), list)))
_sli_plugin = _model(_fields(id=_f(_str, REQUIRED), options=_f(_dict(_str, _str), dict)))
_fixed_range = _f(_bool, lambda: False)
_events = _model(_fields(error_query=_f(_str, REQUIRED), total_query=_f(_str, REQUIRED), fixed_range=_fixed_range))
_raw = _model(_fields(error_ratio_query=_f(_str, REQUIRED), fixed_range=_fixed_range))
_by = _f(_list(_label_name), list)
_ratio = _model(_fields(total=_f(_str, REQUIRED), errors=_f(_optional(_str)), good=_f(_optional(_str)), by=_by),
                lambda r: (r.errors is None) != (r.good is None))
_latency = _model(_fields(histogram=_f(_str, REQUIRED), threshold=_f(_num(gt=0), REQUIRED),
                          selector=_f(_optional(_str)), buckets=_f(_optional(_list(_num()))),
                          native=_f(_bool, lambda: False), by=_by))
_threshold = _model(_fields(query=_f(_str, REQUIRED), at_least=_f(_optional(_num())), at_most=_f(_optional(_num())),
                            slice=_f(_duration, lambda: "1m"), no_data=_f(_literal("bad", "good", "skip"), lambda: "bad"),
                            by=_by, warm_up=_f(_num(ge=0, le=1), lambda: 0.5)),
                    lambda r: r.at_least is not None or r.at_most is not None)
def _delay(v: Any) -> str | dict:
    return _str(v) if type(v) is str else _dict(_str, _str)(v)


_quality = _model(_fields(predictions=_f(_optional(_str)), total=_f(_optional(_str)), good=_f(_optional(_str)),
                          bad=_f(_optional(_str)), labelled=_f(_optional(_str)), label_delay=_f(_optional(_delay)),
                          min_coverage=_f(_num(), lambda: 0.8),
                          counted_at=_f(_literal("prediction", "label"), lambda: "prediction"), by=_by))
_template = _model(_fields(name=_f(_str, REQUIRED), params=_f(_dict(_str, _any), dict)))
_component = _model(_fields(slo=_f(_name, REQUIRED), weight=_f(_optional(_num(gt=0)))))


def _components_ok(r: Record) -> bool:
    components = r.__dict__["components"]
    ids = [c.slo for c in components]
    return len(set(ids)) == len(ids) and (r.__dict__["weighting"] == "weights"
                                          or all(c.weight is None for c in components))


_composite = _model(_fields(components=_f(_list(_component, min_length=1), REQUIRED),
                            weighting=_f(_literal("weights", "traffic"), lambda: "weights")), _components_ok)
_SLI_FIELDS = _fields(events=_f(_optional(_events)), raw=_f(_optional(_raw)), ratio=_f(_optional(_ratio)),
                      latency=_f(_optional(_latency)), threshold=_f(_optional(_threshold)),
                      quality=_f(_optional(_quality)), template=_f(_optional(_template)), composite=_f(_optional(_composite)),
                      plugin=_f(_optional(_sli_plugin)))
# one kind given, and not as null (a null beside it, or alone: unsure, pydantic decides)
_sli_record = _model(_SLI_FIELDS, lambda r: len(r.model_fields_set) == 1)


def _sli(v: Any) -> Record:
    record = _sli_record(v)
    (kind,) = record.model_fields_set
    if getattr(record, kind) is None:
        raise Unsure
    record.kind = kind
    return record


_sli.fields = _SLI_FIELDS  # type: ignore[attr-defined]
_TIER_FIELDS = _fields(disable=_f(_bool, lambda: False), labels=_f(_labels, dict), annotations=_f(_labels, dict),
                       for__=_f(_optional(_duration), attr="for_"), severity=_f(_optional(_text(min_length=1))),
                       disable_pair=_f(_optional(_literal("quick", "slow"))))
_tier = _model(_TIER_FIELDS)


def _default_tier() -> Record:
    return _tier({})


_alerting = _model(_fields(name=_f(_optional(_text(pattern=ALERT_NAME_PATTERN))), labels=_f(_labels, dict),
                           annotations=_f(_labels, dict), page_alert=_f(_tier, _default_tier),
                           ticket_alert=_f(_tier, _default_tier), windows=_f(_optional(_str)),
                           min_events=_f(_optional(_num(gt=0))), no_data=_f(_optional(_bool))))
_exclusion = _model(_fields(every=_f(_optional(_str)), start=_f(_optional(_str)), end=_f(_optional(_str)),
                            duration=_f(_optional(_duration)), reason=_f(_optional(_str))))
_exclusions = _f(_list(_exclusion), list)
slo = _model(_fields(name=_f(_name, REQUIRED), description=_f(_optional(_str)), objective=_f(_num(gt=0, lt=100), REQUIRED),
                     period=_f(_optional(_duration)), labels=_f(_labels, dict), sli=_f(_sli, REQUIRED),
                     alerting=_f(_alerting, lambda: _alerting({})), plugins=_f(_optional(_plugin_chain)),
                     owner=_f(_optional(_str)), runbook_url=_f(_optional(_str)), dashboard_url=_f(_optional(_str)),
                     tier=_f(_optional(_str_or_int)), rationale=_f(_optional(_str)), review_date=_f(_optional(_date)),
                     exclusions=_exclusions))
# `kubernetes:` is left to pydantic (its metadata is dumped with model_dump)
header = _model(_fields(version=_f(_literal("slocompiler/v1"), REQUIRED), service=_f(_name, REQUIRED),
                        description=_f(_optional(_str)), owner=_f(_optional(_str)), labels=_f(_labels, dict),
                        period=_f(_optional(_duration)), compatibility=_f(_literal("native", "sloth"), lambda: "native"),
                        slo_plugins=_f(_optional(_plugin_chain)), exclusions=_exclusions, slos=_f(_list(_any, min_length=1), REQUIRED)))
MODELS = {"PluginRef": _plugin_ref, "PluginChain": _plugin_chain, "SLIPlugin": _sli_plugin, "EventsSLI": _events,
          "RawSLI": _raw, "RatioSLI": _ratio, "LatencySLI": _latency, "ThresholdSLI": _threshold, "QualitySLI": _quality,
          "TemplateSLI": _template, "CompositeComponent": _component, "CompositeSLI": _composite,
          "SLI": _sli, "AlertTier": _tier, "Alerting": _alerting, "Exclusion": _exclusion, "SLO": slo,
          "ServiceHeader": header}


def accept(data: Any) -> tuple[Record, list[Record]] | None:
    """The header and SLOs of a valid native document, as pydantic would build them; None when
    the document is not certainly valid (then validate it with pydantic)."""
    try:
        return header(data), [slo(item) for item in data["slos"]]
    except Unsure:
        return None


# the config file (config_model.ConfigModel); `kubernetes:`, `routing:` and `prometheus:` are left to pydantic
_config_model: list = []


def config_model():
    """The acceptor of config files (made on first use: a validate without one does not compile its pattern)."""
    if not _config_model:
        _config_model.append(_model(_fields(
            specs=_f(_list(_str), list), output=_f(_optional(_str)),
            outputs=_f(_list(_literal(*OUTPUTS)), lambda: list(OUTPUTS)), labels=_f(_labels, dict),
            period=_f(_optional(_duration)), templates=_f(_list(_str), list), windows=_f(_list(_str), list),
            target=_f(_literal(*TARGETS), lambda: Target.PROMETHEUS.value),
            rule_files_prefix=_f(_text(min_length=1), lambda: RULE_FILES_PREFIX),
            policies=_f(_list(_str), list), strict=_f(_bool, lambda: False),
            windows_for_other_periods=_f(_literal("scaled", "derived"), lambda: "scaled"),
            prometheus_version=_f(_optional(_text(pattern=r"^v?[2-9]\.\d+(\.\d+)?$"))))))
    return _config_model[0]


def accept_config(data: Any) -> Record | None:
    """A valid config file's values as `ConfigModel` would hold them (with `kubernetes`,
    `routing` and `prometheus` None); None when it is not certainly valid (then pydantic)."""
    try:
        record = config_model()(data)
    except Unsure:
        return None
    record.kubernetes = record.routing = record.prometheus = None
    return record

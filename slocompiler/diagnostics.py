"""Diagnostics as data: every problem a stage finds, with a stable code and a position."""

from __future__ import annotations

from enum import Enum

from slocompiler.records import dataclass, field


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"  # for information (e.g. a file skipped): never fails a build, not even under --strict


# Stable codes, grouped by the stage that raises them (documented in docs/diagnostics.md).
CODES: dict[str, str] = {
    # load (SLC0xx)
    "SLC001": "file cannot be read or is not UTF-8 text",
    "SLC002": "YAML syntax error",
    "SLC003": "duplicate key in a mapping",
    "SLC004": "YAML tag or node type that specs never use",
    "SLC005": "document too large, too deep or expands too many aliases",
    "SLC006": "document of an unknown kind",
    "SLC007": "file or path holds no spec document",
    "SLC008": "value does not fit its explicit YAML tag",
    "SLC009": "file skipped: not a regular file (FIFO, socket, device or dangling symlink)",
    # schema (SLC1xx)
    "SLC101": "unknown key",
    "SLC102": "wrong type",
    "SLC103": "missing required key",
    "SLC104": "invalid value",
    "SLC105": "an SLI needs exactly one kind",
    # semantics (SLC2xx)
    "SLC201": "duplicate SLO id",
    "SLC202": "objective outside (0, 100)",
    "SLC203": "invalid name",
    "SLC204": "invalid or reserved label name",
    "SLC205": "query template lacks {{.window}}",
    "SLC206": "invalid period or alert windows",
    "SLC207": "alert tier can never fire",
    "SLC208": "alert tier fires while the SLO is on track",
    "SLC209": "review date has passed",
    "SLC210": "unknown windows catalog",
    "SLC211": "option does not apply to this SLI kind",
    "SLC212": "latency threshold is not a bucket boundary",
    "SLC213": "conflicting AlertWindows catalogs",
    "SLC214": "invalid duration",
    "SLC215": "Sloth SLI plugin (Go code) cannot be run",
    "SLC216": "Sloth SLO plugin not supported",
    "SLC217": "Sloth SLO plugin has no effect",
    "SLC218": "unknown SLI template",
    "SLC219": "invalid SLI template param",
    "SLC220": "invalid SLI template file",
    "SLC221": "invalid policy file",
    "SLC222": "organisation policy violated",
    "SLC223": "unclosed template action in a label or annotation",
    "SLC230": "label or annotation is not a template Prometheus can parse",
    "SLC231": "value longer than its size limit",
    # quality SLIs with delayed ground truth (SLC24x, docs/ml-quality.md)
    "SLC240": "quality SLI `label_delay` is not a duration",
    "SLC241": "quality SLI `label_delay` not shorter than the SLO period",
    "SLC242": "quality SLI `min_coverage` outside (0, 1]",
    "SLC243": "quality SLI coverage counter missing",
    "SLC244": "quality SLI needs two of `good`, `bad` and `total`",
    "SLC245": "quality SLI `label_delay` names a window the SLO does not have",
    # exclusion windows (SLC25x; docs/exclusions.md)
    "SLC250": "malformed recurring exclusion window",
    "SLC251": "malformed one-off exclusion window",
    "SLC252": "exclusion window time zone that is not UTC or a fixed offset",
    "SLC253": "exclusion windows overlap",
    "SLC254": "exclusion that is neither recurring nor one-off",
    "SLC260": "histogram name ends in _bucket",
    "SLC261": "ratio SLI counts the same series as errors (or good) and total",
    "SLC262": "composite component is not an SLO of the build",
    "SLC263": "composite reaches itself through its components",
    "SLC264": "composite component does not record a window the composite reads",
    "SLC265": "composite component cannot be traffic-weighted",
    "SLC266": "composite component has several SLI series under `weighting: weights`",
    "SLC267": "invalid composite component list",
    # Kubernetes delivery (SLC27x, `build --target kubernetes`)
    "SLC270": "Kubernetes object too large for client-side kubectl apply",
    "SLC271": "Kubernetes object too large for the API server",
    # fixed-range queries (SLC28x)
    "SLC280": "fixed-range query longer than the shortest alert window",
    "SLC281": "`fixed_range: true` query without a range of its own",
    # calendar periods (SLC28x)
    "SLC285": "unknown calendar period unit",
    "SLC286": "unknown time zone",
    "SLC290": "threshold query keeps labels its `by:` does not list",
    # PromQL (SLC3xx)
    "SLC301": "PromQL syntax error",
    "SLC302": "expected a PromQL vector selector",
    "SLC303": "generated expression does not parse (compiler bug)",
    "SLC304": "regular expression the target engine refuses",
    "SLC305": "number or duration outside the target engine's range",
    "SLC306": "PromQL function the target engine does not have",
    "SLC307": "PromQL the target engine refuses",
    "SLC308": "PromQL function that is experimental in the target engine",
    # outputs (SLC4xx)
    "SLC401": "two specs map to the same output file",
    "SLC402": "output is stale or would change",
    "SLC403": "output cannot be written",
    "SLC404": "output folder holds the specs it is built from",
    "SLC405": "output folder is a symlink",
    "SLC406": "output folder is locked by another build",
    # convert (SLC5xx)
    "SLC501": "construct with no native equivalent",
    # OpenSLO (SLC6xx)
    "SLC602": "OpenSLO reference to an object that does not exist",
    "SLC603": "OpenSLO data source is not Prometheus",
    "SLC604": "OpenSLO construct that does not map to the model",
    "SLC605": "OpenSLO object defined twice with different content",
    "SLC606": "OpenSLO query with a fixed range: windows derived from its recording (note)",
    "SLC608": "OpenSLO calendar time window that is not one week, month or quarter",
    "SLC609": "OpenSLO calendar startTime invalid or not on a calendar boundary",
    # quality SLIs (SLC61x, docs/ml-quality.md)
    "SLC610": "quality SLI coverage counts the same series as predictions",
    "SLC611": "quality SLI counts the same series as good (or bad) and total",
    "SLC615": "exclusion windows cannot keep excluded time out of a period ratio queried over the period",
    "SLC616": "budget adjustment that does not map to an exclusion window (note)",
    "SLC617": "exclusion windows and their alert holds cover the whole day or week",
    # live checks (SLC7xx, `slocompiler check --prometheus`; docs/live.md)
    "SLC701": "selector matches no series on the live server",
    "SLC702": "label matcher value never occurs on the live server",
    "SLC620": "where composite component ids are looked up",
    "SLC703": "`by` label absent from the live series",
    "SLC704": "latency threshold is not a bucket bound of the live histogram",
    "SLC705": "native histogram SLI on a classic histogram, or the reverse",
    "SLC706": "counter read as a gauge, or the reverse",
    "SLC707": "threshold gauge has no sample in some slices",
    "SLC708": "SLO reads more series than its cardinality budget",
    "SLC709": "current SLI value and event rate (--verbose)",
    "SLC710": "the live server cannot be queried or refuses a query",
    "SLC711": "report figures differ from the deployed recording rules",
}


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem found in a spec, positioned at a file, line and column (1-based)."""

    file: str
    line: int
    column: int
    code: str
    message: str
    severity: Severity = Severity.ERROR
    path: tuple = field(default=(), compare=False)
    hint: str | None = field(default=None, compare=False)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def is_note(self) -> bool:
        return self.severity is Severity.NOTE

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "path": [str(p) for p in self.path],
            "hint": self.hint,
        }


@dataclass(frozen=True)
class Position:
    """A 1-based line and column in a file."""

    file: str
    line: int = 1
    column: int = 1

    def diag(self, code: str, message: str, *, path: tuple = (), hint: str | None = None,
             severity: Severity = Severity.ERROR) -> Diagnostic:
        return Diagnostic(self.file, self.line, self.column, code, message, severity, path, hint)


def has_errors(diags) -> bool:
    return any(d.is_error for d in diags)


def fails(diags, strict: bool = False) -> bool:
    """Whether DIAGS fail a run: any error, or under STRICT any warning (notes never do)."""
    return any(d.is_error or (strict and not d.is_note) for d in diags)

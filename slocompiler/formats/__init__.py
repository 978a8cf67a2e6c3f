"""Input formats: each recognises its documents by parsed keys and resolves them to the model.

`FORMATS` is a plain registry; a format is an object with `parse(doc, ctx)` (structure,
returns a parsed spec or None plus diagnostics) and `resolve(parsed, doc, ctx)` (the model).
"""

from __future__ import annotations

from slocompiler.load import Document

VERSIONS = ("slocompiler/v1", "prometheus/v1")  # documents recognised by their `version:`
API_KINDS = {  # documents recognised by `apiVersion:` and `kind:`
    "sloth.slok.dev/v1": ("AlertWindows", "PrometheusServiceLevel"),
    "openslo/v1alpha": ("SLO",),
    "openslo/v1": ("Service", "SLO", "SLI", "DataSource", "AlertPolicy", "AlertCondition", "AlertNotificationTarget"),
}


def detect(doc: Document) -> str | None:
    """The format key of a document, from its keys (never from a regex over text)."""
    data = doc.data
    if isinstance(data, list) and data and isinstance(data[0], dict) and data[0].get("apiVersion") == "openslo/v1":
        return "openslo/v1"  # OpenSLO allows a list of objects in one document
    if not isinstance(data, dict):
        return None
    version, api, kind = data.get("version"), data.get("apiVersion"), data.get("kind")
    if version in VERSIONS:
        return version
    if api == "sloth.slok.dev/v1" and kind in API_KINDS[api]:
        return kind
    if api == "openslo/v1alpha" and kind == "SLO":
        return "openslo/v1alpha"
    if api == "openslo/v1" or (api == "n9/v1alpha" and kind == "BudgetAdjustment"):
        return "openslo/v1"   # Nobl9 budget adjustments are read with OpenSLO inputs (formats/budget_adjustment.py)
    return None


_FORMATS = {"slocompiler/v1": ("native", "FORMAT"), "AlertWindows": ("alert_windows", "FORMAT"),
            "prometheus/v1": ("sloth", "PROMETHEUS_V1"), "PrometheusServiceLevel": ("sloth", "CRD"),
            "openslo/v1alpha": ("sloth", "OPENSLO_V1ALPHA"), "openslo/v1": ("openslo", "FORMAT")}


class _Registry(dict):
    """Format key -> adapter; an adapter's module is imported the first time a document needs it
    (a native-only tree never pays for the Sloth and OpenSLO models)."""

    def __missing__(self, key):
        module, attr = _FORMATS[key]
        # (`__import__`, not importlib.import_module: importlib and warnings are not loaded for it)
        value = self[key] = getattr(__import__(f"slocompiler.formats.{module}", fromlist=[attr]), attr)
        return value


def registry() -> dict:
    return _Registry()

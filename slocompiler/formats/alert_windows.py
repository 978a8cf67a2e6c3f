"""Sloth's `AlertWindows` documents: burn-rate window catalogs in the spec tree."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from slocompiler.formats.errors import validation_diagnostics
from slocompiler.formats.native_spec import Duration, Name, duration_ms
from slocompiler.load import Document
from slocompiler.windows import catalog_from_spec


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Window(_Strict):
    errorBudgetPercent: float = Field(gt=0, le=100)
    shortWindow: Duration
    longWindow: Duration

    @model_validator(mode="after")
    def _order(self):
        if duration_ms(self.shortWindow) >= duration_ms(self.longWindow):
            raise PydanticCustomError("SLC206", "shortWindow must be shorter than longWindow")
        return self


class Pair(_Strict):
    quick: Window
    slow: Window


class Spec(_Strict):
    sloPeriod: Duration
    page: Pair
    ticket: Pair


class Metadata(_Strict):
    name: Name


class AlertWindowsDoc(_Strict):
    apiVersion: Literal["sloth.slok.dev/v1"]
    kind: Literal["AlertWindows"]
    metadata: Optional[Metadata] = None
    spec: Spec


class _Format:
    name = "AlertWindows"

    def parse(self, doc: Document, ctx):
        try:
            parsed = AlertWindowsDoc.model_validate(doc.data)
        except ValidationError as exc:
            return None, validation_diagnostics(exc, doc, AlertWindowsDoc)
        spec = parsed.spec.model_dump()
        name = parsed.metadata.name if parsed.metadata else None
        catalog = catalog_from_spec(spec, name, source=doc.position(("spec", "sloPeriod")))
        return (catalog, name is not None), []


FORMAT = _Format()

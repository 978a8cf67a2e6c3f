"""Where the live Prometheus is and how to talk to it: the config file's `prometheus:` section,
environment variables and command-line flags, merged in that order (later wins)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field

URL_ENV = "SLOCOMPILER_PROMETHEUS_URL"
TOKEN_ENV = "SLOCOMPILER_PROMETHEUS_TOKEN"
TENANT_ENV = "SLOCOMPILER_PROMETHEUS_TENANT"
TENANT_HEADER = "X-Scope-OrgID"


class PrometheusConfig(BaseModel):
    """The config file's `prometheus:` section (docs/live.md)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    url: Optional[str] = Field(default=None, description="base URL, with any path prefix (Thanos, Grafana Cloud)")
    headers: dict[str, str] = Field(default_factory=dict, description="extra HTTP headers on every request")
    bearer_token_file: Optional[str] = Field(default=None, description="file holding a bearer token")
    bearer_token_env: Optional[str] = Field(default=None, description="environment variable holding a bearer token")
    tenant: Optional[str] = Field(default=None, description="Mimir/Cortex tenant (X-Scope-OrgID header)")
    timeout: float = Field(default=30.0, gt=0, description="seconds per request")
    retries: int = Field(default=2, ge=0, le=10, description="retries of a failed request (5xx, 429, network)")
    concurrency: int = Field(default=4, ge=1, le=64, description="requests in flight at most")
    max_points: int = Field(default=11000, ge=10, le=11000, description="points per series of a range query")
    max_series_per_slo: int = Field(default=10000, ge=1, description="cardinality budget of an SLO (`check`)")


@dataclass(frozen=True)
class Settings:
    """How to reach the server; `headers` already holds the token and tenant headers."""

    url: str
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)   # may carry a token
    timeout: float = 30.0
    retries: int = 2
    concurrency: int = 4
    max_points: int = 11000
    max_series_per_slo: int = 10000
    backoff: float = 0.5
    secrets: tuple[str, ...] = field(default=(), repr=False)   # header values never printed


class SettingsError(ValueError):
    """The settings are incomplete or unreadable (a usage error)."""


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise SettingsError(f"expected 'Name: value', got {text!r}")
    return name.strip(), value.strip()


def resolve(config: PrometheusConfig | None, *, root: str = ".", url: str | None = None,
            headers: tuple[str, ...] = (), bearer_token_file: str | None = None, tenant: str | None = None,
            timeout: float | None = None, retries: int | None = None, concurrency: int | None = None,
            env: dict[str, str] | None = None) -> Settings:
    """The run's settings: the config section, then the environment, then the flags."""
    env = dict(os.environ) if env is None else env
    c = config or PrometheusConfig()
    base = url or env.get(URL_ENV) or c.url
    if not base:
        raise SettingsError(f"no Prometheus URL: pass --prometheus URL, set {URL_ENV}, or `prometheus.url` in "
                            "slocompiler.yaml")
    if not base.startswith(("http://", "https://")):
        raise SettingsError(f"the Prometheus URL must start with http:// or https://: {base!r}")
    merged: dict[str, str] = dict(c.headers)
    for h in headers:
        k, v = parse_header(h)
        merged[k] = v
    secrets = []
    token = _token(c, root, bearer_token_file, env)
    if token:
        merged["Authorization"] = f"Bearer {token}"
        secrets.append(token)
    org = tenant or env.get(TENANT_ENV) or c.tenant
    if org:
        merged[TENANT_HEADER] = org
    return Settings(url=base.rstrip("/"), headers=tuple(sorted(merged.items())),
                    timeout=timeout if timeout is not None else c.timeout,
                    retries=retries if retries is not None else c.retries,
                    concurrency=concurrency if concurrency is not None else c.concurrency,
                    max_points=c.max_points, max_series_per_slo=c.max_series_per_slo, secrets=tuple(secrets))


def _token(c: PrometheusConfig, root: str, flag_file: str | None, env: dict[str, str]) -> str | None:
    path = flag_file or (os.path.join(root, c.bearer_token_file) if c.bearer_token_file else None)
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.read().strip()
        except OSError as exc:
            raise SettingsError(f"cannot read the bearer token file {path}: {exc.strerror}") from None
    if c.bearer_token_env:
        if c.bearer_token_env not in env:
            raise SettingsError(f"`prometheus.bearer_token_env` names {c.bearer_token_env}, which is not set")
        return env[c.bearer_token_env].strip()
    return env.get(TOKEN_ENV, "").strip() or None

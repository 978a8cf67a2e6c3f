"""The options of the commands that query a live Prometheus (check, report): where it is, how to
authenticate, and how hard to push it; turned into `live.settings.Settings`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from slocompiler.live.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def live_options(f: F) -> F:
    f = click.option("--prometheus", "prometheus_url", metavar="URL", default=None,
                     help="Base URL of the Prometheus HTTP API, with any path prefix (Thanos, Grafana Cloud); "
                          "default: $SLOCOMPILER_PROMETHEUS_URL, else the config's `prometheus.url`.")(f)
    f = click.option("-H", "--header", "headers", multiple=True, metavar="'NAME: VALUE'",
                     help="Extra HTTP header on every request (repeatable).")(f)
    f = click.option("--bearer-token-file", type=click.Path(dir_okay=False), default=None,
                     help="File holding a bearer token (else $SLOCOMPILER_PROMETHEUS_TOKEN or the config).")(f)
    f = click.option("--tenant", default=None, metavar="ID", help="Mimir/Cortex tenant (X-Scope-OrgID header).")(f)
    f = click.option("--timeout", type=click.FloatRange(min=0.1), default=None, help="Seconds per request (30).")(f)
    f = click.option("--retries", type=click.IntRange(0, 10), default=None,
                     help="Retries of a request that failed with 5xx, 429 or a network error (2).")(f)
    f = click.option("--concurrency", type=click.IntRange(1, 64), default=None,
                     help="Requests in flight at most (4).")(f)
    f = click.option("--progress/--no-progress", default=True, show_default=True,
                     help="Progress on stderr (a bar on a terminal, plain lines otherwise).")(f)
    return f


def live_settings(prometheus_url: str | None, headers: tuple[str, ...], bearer_token_file: str | None,
                  tenant: str | None, timeout: float | None, retries: int | None,
                  concurrency: int | None) -> Settings:
    from slocompiler.cli.options import current_config
    from slocompiler.live.settings import SettingsError, resolve

    config = current_config()
    try:
        return resolve(config.model.prometheus, root=config.root, url=prometheus_url, headers=headers,
                       bearer_token_file=bearer_token_file, tenant=tenant, timeout=timeout, retries=retries,
                       concurrency=concurrency)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None


LIVE_KEYS = ("prometheus_url", "headers", "bearer_token_file", "tenant", "timeout", "retries", "concurrency")


def pop_live(kw: dict[str, Any]) -> Settings:
    """Take the live options out of KW (what is left goes to `build_options`)."""
    return live_settings(**{k: kw.pop(k) for k in LIVE_KEYS})


def own_formats(command: click.Command, choices: tuple[str, ...], help: str) -> None:
    """Give COMMAND's shared `--format` option (common_options) its own choices."""
    for param in command.params:
        if param.name == "fmt" and isinstance(param, click.Option):
            param.type = click.Choice(choices)
            param.help = help


def write_diagnostics(run: Any) -> None:
    """The specs' diagnostics on stderr, and why nothing was measured when they have errors
    (only the clock was asked)."""
    from slocompiler.report import render

    if run.compilation.diagnostics:
        click.echo(render(run.compilation.diagnostics, "text"), err=True, nl=False)
    if run.now is not None and not run.compilation.ok:
        click.echo("slocompiler: the specs have errors (above): fix them first; nothing was measured", err=True)

"""`slocompiler backtest`: how often each SLO's alerts would have fired over real history."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
from typing import Any

import click

from slocompiler.cli.exit_codes import ExitCode
from slocompiler.cli.live_options import live_options, own_formats, pop_live, write_diagnostics
from slocompiler.cli.options import build_options, common_options, spec_paths


def _interval(ctx: click.Context, param: click.Parameter, value: str) -> int:
    from slocompiler.durations import parse_duration

    ms = parse_duration(value)
    if not ms or ms % 1000:
        raise click.BadParameter(f"a whole number of seconds as a Prometheus duration: {value!r}")
    return ms // 1000


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--from", "start", default=None, metavar="TIME", help="Replay from (Unix seconds or RFC 3339).")
@click.option("--to", "end", default=None, metavar="TIME", help="Replay up to (default: now).")
@click.option("--days", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Replay the last N days (default 7 when no --from is given).")
@click.option("--interval", "step", default="1m", show_default=True, callback=_interval,
              help="Rule evaluation interval of the replay.")
@click.option("--against", metavar="REF", default=None,
              help="A second spec folder, or a git revision of PATHS, replayed the same way: the difference.")
@live_options
@common_options
def backtest(paths: tuple[str, ...], fmt: str | None, strict: bool, start: str | None, end: str | None,
             days: float | None, step: int, against: str | None, progress: bool, **kw: Any) -> None:
    """Replay every SLO's alert conditions (each tier and window pair, with `for`, `min_events` and the
    no-data alert) over the server's history from the raw metrics: when each would have fired."""
    from slocompiler import api
    from slocompiler.diagnostics import fails
    from slocompiler.live.ranges import RangeError, iso

    settings = pop_live(kw)
    roots = spec_paths(paths)
    with tempfile.TemporaryDirectory(prefix="slocompiler-against-") as tmp:
        other = None if against is None else _against(against, roots, tmp)
        try:
            result = api.backtest_live(roots, build_options(**kw), settings, start=start, end=end, days=days,
                                       step=step, against=other, progress=progress)
        except RangeError as exc:
            raise click.UsageError(str(exc)) from None
    diags = result.run.compilation.diagnostics
    write_diagnostics(result.run)
    if result.range is not None:
        rng = {"from": iso(result.range.start), "to": iso(result.range.end)}
        if fmt == "json":
            doc: dict = {"range": rng, "slos": [r.as_json() for r in result.slos]}
            if result.against is not None:
                doc["against"] = {"ref": against, "slos": [r.as_json() for r in result.against]}
            sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        else:
            from slocompiler.live.replay_text import text

            sys.stdout.write(text(result.slos, result.against, rng, against, step))
    sys.exit(ExitCode.PROBLEMS if fails(diags, strict) else ExitCode.OK)


def _against(ref: str, roots: list[str], tmp: str) -> list[str]:
    """REF as spec paths: a folder as it is, else a git revision of ROOTS checked out under TMP."""
    if os.path.isdir(ref):
        return [ref]
    top = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(roots[0])) or ".", "rev-parse",
                          "--show-toplevel"], capture_output=True, text=True, check=False)
    if top.returncode != 0:
        raise click.BadParameter(f"{ref!r} is not a folder, and the specs are not in a git repository",
                                 param_hint="--against")
    repo = top.stdout.strip()
    rels = [os.path.relpath(os.path.abspath(p), repo) for p in roots]
    archive = os.path.join(tmp, "against.tar")
    with open(archive, "wb") as fh:
        done = subprocess.run(["git", "-C", repo, "archive", "--format=tar", ref, "--", *rels], stdout=fh,
                              stderr=subprocess.PIPE, check=False)
    if done.returncode != 0:
        raise click.BadParameter(f"git archive {ref}: {done.stderr.decode(errors='replace').strip()}",
                                 param_hint="--against")
    out = os.path.join(tmp, "tree")
    with tarfile.open(archive) as tar:
        tar.extractall(out, filter="data")
    return [os.path.join(out, r) for r in rels]


own_formats(backtest, ("text", "json"), "text: a table per SLO and tier; json: {range, slos: [...]} (docs/live.md).")

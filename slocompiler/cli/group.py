"""The click group and the command line's usual path: the config file, the flags, one command.

`slocompiler.cli.main` comes here for every command line except the plain `validate
[--report-only-passed] FILE...` with no config file or a plain one (cli/fast.py). A command's
module is imported only when the command runs.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, NoReturn

import click

from slocompiler import __version__
from slocompiler.cli.exit_codes import ExitCode, internal_error

if TYPE_CHECKING:
    from slocompiler.config import Config

__all__ = ["LazyGroup", "cli", "load_config", "run"]


class LazyGroup(click.Group):
    """Commands whose modules are imported only when used: a pre-commit `validate` of one file
    should not pay for ruamel.yaml, the scaffold or promtool plumbing."""

    lazy = {"validate": "slocompiler.cli.validate:validate", "build": "slocompiler.cli.build:build",
            "explain": "slocompiler.cli.explain:explain", "templates": "slocompiler.cli.templates:templates",
            "schema": "slocompiler.cli.schema:schema", "convert": "slocompiler.cli.convert:convert",
            "fmt": "slocompiler.cli.fmt:fmt_command", "init": "slocompiler.cli.init:init",
            "test": "slocompiler.cli.test:promtool_tests", "check": "slocompiler.cli.check:check",
            "report": "slocompiler.cli.report:report", "gate": "slocompiler.cli.gate:gate",
            "backtest": "slocompiler.cli.backtest:backtest"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, attr = self.lazy[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="slocompiler")
def cli() -> None:
    """Compile SLI/SLO specs into Prometheus rules with multi-window multi-burn-rate alerts."""


def load_config(argv: list[str]) -> tuple[Config, list[str]]:
    """`--config FILE` / `--no-config` anywhere on the line, else the nearest config file upward;
    (the config, the other arguments)."""
    from slocompiler import config as cfg

    path: str | None = None
    rest: list[str] = []
    skip = explicit = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg == "--no-config":
            explicit, path = True, None
        elif arg == "--config" and i + 1 < len(argv):
            explicit, path, skip = True, argv[i + 1], True
        elif arg.startswith("--config="):
            explicit, path = True, arg.split("=", 1)[1]
        else:
            rest.append(arg)
    if explicit and path is not None and not os.path.isfile(path):
        raise click.UsageError(f"config file {path!r} does not exist")
    found = path if explicit else cfg.find()
    return cfg.load(found), rest


def run(args: list[str]) -> NoReturn:
    """ARGS through the config file and click: usage errors exit 2, bugs exit 3 with a short report."""
    try:
        config, args = load_config(args)
        if config.diagnostics:
            from slocompiler.report import render

            sys.stderr.write(render(config.diagnostics, "text"))
            sys.stderr.write(f"slocompiler: the config file {config.path} has errors\n")
            sys.exit(ExitCode.PROBLEMS)
        shared = config.defaults()
        default_map = {name: dict(shared) for name in ("validate", "build", "explain", "test", "check", "report", "gate", "backtest")}
        cli.main(args=args, prog_name="slocompiler", standalone_mode=False, obj=config, default_map=default_map)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitCode.USAGE)
    except click.exceptions.Abort:
        sys.exit(ExitCode.USAGE)
    except SystemExit:
        raise
    except BaseException as exc:  # a bug: say so, exit 3
        internal_error(exc)
    sys.exit(ExitCode.OK)

"""`exerciser` command line. Each area registers its commands from its own module."""

from __future__ import annotations

import importlib
import sys

import click

from exerciser import __version__
from exerciser.device.contract import DeviceLost
from exerciser.errors import UserError, write_crash_log

# Modules that define `register(cli: click.Group) -> None`.
COMMAND_MODULES = (
    "exerciser.cli.sim_cmd",  # exerciser sim screenshot|walk|profiles
    "exerciser.cli.serve_cmd",  # exerciser sim serve (adb front of the virtual device)
    "exerciser.cli.classify_cmd",  # exerciser classify
    "exerciser.cli.run_cmd",  # exerciser run
    "exerciser.cli.evidence_cmd",  # exerciser replay|compare|verify|report
    "exerciser.cli.devices_cmd",  # exerciser devices
    "exerciser.cli.check_cmd",  # exerciser check
    "exerciser.cli.cluster_cmd",  # exerciser submit|worker|status|collect
)


class BoundaryGroup(click.Group):
    """The one error boundary of every command: a failure ends in one line and exit 2 (1 means
    "violation found" or "tampered", and only the commands themselves say that)."""

    def invoke(self, ctx: click.Context):  # noqa: ANN201 - click's signature
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except DeviceLost as exc:
            raise UserError(f"device lost: {exc}") from None
        except OSError as exc:  # the environment: a full disk, a read-only or missing folder, a port
            where = f": {exc.filename}" if exc.filename else ""
            raise UserError(f"{exc.strerror or exc}{where}") from None
        except Exception as exc:  # a tool bug or an input no check caught: one line, the trace in a log
            log = write_crash_log(exc)
            msg = str(exc).splitlines()[0][:200] if str(exc) else ""
            tail = f" (trace in {log})" if log else ""
            raise UserError(f"{type(exc).__name__}: {msg}{tail}") from None


@click.group(cls=BoundaryGroup)
@click.version_option(__version__, prog_name="exerciser")
def cli() -> None:
    """Measure how Android apps harass users about consent and permissions, with evidence."""


for _name in COMMAND_MODULES:
    try:
        _mod = importlib.import_module(_name)
    except ModuleNotFoundError as exc:
        if exc.name != _name:
            raise
        continue
    _mod.register(cli)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code if not isinstance(exc, click.UsageError) else 2)

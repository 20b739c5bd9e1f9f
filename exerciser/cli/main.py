"""`exerciser` command line. Each area registers its commands from its own module."""

from __future__ import annotations

import importlib
import sys

import click

from exerciser import __version__
from exerciser.device.contract import DeviceLost
from exerciser.errors import UserError

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


@click.group()
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
    except DeviceLost as exc:
        click.echo(f"error: device lost: {exc}", err=True)
        sys.exit(2)
    except (FileNotFoundError, IsADirectoryError) as exc:
        click.echo(f"error: {exc.strerror}: {exc.filename}", err=True)
        sys.exit(2)
    except SystemExit:
        raise
    except UserError as exc:  # pragma: no cover - ClickException subclass, kept for clarity
        exc.show()
        sys.exit(2)

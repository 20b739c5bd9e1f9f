"""`exerciser devices`: the devices adb has attached, with model, API level and state."""

from __future__ import annotations

import json

import click


@click.command("devices")
@click.option(
    "--adb-port", type=int, default=None, help="adb server port (default: ANDROID_ADB_SERVER_PORT or 5037)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def devices(adb_port: int | None, as_json: bool) -> None:
    """List attached devices (phones, emulators, served virtual devices)."""
    from exerciser.rack.discover import list_devices

    found = list_devices(adb_port)
    if as_json:
        click.echo(json.dumps([d.to_json() for d in found], indent=1))
        return
    if not found:
        click.echo("no devices attached")
        return
    rows = [("SERIAL", "STATE", "MODEL", "API", "ANDROID")]
    for d in found:
        rows.append(
            (
                d.serial,
                d.state,
                d.model or "-",
                str(d.api_level or "-"),
                d.release or "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def register(cli: click.Group) -> None:
    cli.add_command(devices)

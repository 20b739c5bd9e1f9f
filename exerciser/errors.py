"""Errors the command line turns into one clear line and exit status 2."""

from __future__ import annotations

import click


class UserError(click.ClickException):
    """Bad input from the user: a broken file, an unknown serial, a file that is not an APK."""

    exit_code = 2

    def format_message(self) -> str:
        return self.message

"""The `moderation` entry point: a Flask command group over create_app() whose --help lists only the service's commands."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup


def _create_app() -> Flask:
    from .app import create_app
    from .config import ConfigError

    try:
        return create_app()
    except ConfigError as error:  # a setting to fix, not a bug: no traceback, even under --help
        click.echo(f"Error: {error}", err=True)
        raise SystemExit(1) from None


# Commands our libraries add that are for their developers, not for people running the service:
# unlisted in --help, still there for whoever knows them (`moderation db migrate` writes a
# migration; `moderation limiter` shows rate limits).
UNLISTED_COMMANDS = frozenset({"limiter"})
# Of Flask-Migrate's `db` group, what operators run: the contract's `db upgrade`, and `db current`
# to see which revision a database is at.
LISTED_DB_COMMANDS = ("upgrade", "current")


class _OperatorDatabaseCommands(click.Group):
    """Flask-Migrate's `db` group (same options and commands), listing only LISTED_DB_COMMANDS."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in super().list_commands(ctx) if name in LISTED_DB_COMMANDS]


class _ModerationGroup(FlaskGroup):
    """FlaskGroup whose --help lists the service's commands only."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in super().list_commands(ctx) if name not in UNLISTED_COMMANDS]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if name == "db" and isinstance(command, click.Group):
            return _OperatorDatabaseCommands(
                name="db", commands=command.commands, callback=command.callback, params=command.params,
                short_help="Apply the database migrations (db upgrade).",
                help="Apply the database migrations: `moderation db upgrade`, after every update.")
        return command


@click.group(cls=_ModerationGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False, set_debug_flag=False)
def main() -> None:
    """Moderation service for article comment sections."""


# The app is always ours, so Flask's --app, --env-file and --debug options only confuse here.
main.params = [param for param in main.params if param.name not in {"app", "env_file", "debug"}]


if __name__ == "__main__":
    main()

"""The `thiduabot` command line's arguments, with argparse speaking Vietnamese: its own words
(usage, group titles, errors) are looked up in `cli/argparse.yaml`, every help in `cli/help/`."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn

from messages import render_text, words
from storage.models import Role


@contextmanager
def _vietnamese() -> Iterator[None]:
    """argparse's gettext hooks, pointed at our words while argparse formats a text."""
    table: dict[str, str] = words("cli/argparse")["messages"]
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._ = lambda text: table.get(text, text)  # type: ignore[attr-defined]
    argparse.ngettext = lambda one, many, n: table.get(one if n == 1 else many, many)
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


class VietnameseParser(argparse.ArgumentParser):
    """An ArgumentParser whose help and errors are Vietnamese; an error is one line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        with _vietnamese():
            super().__init__(*args, **kwargs)

    def parse_args(self, *args: Any, **kwargs: Any) -> Any:
        with _vietnamese():
            return super().parse_args(*args, **kwargs)

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        with _vietnamese():
            return super().parse_known_args(*args, **kwargs)

    def format_usage(self) -> str:
        with _vietnamese():
            return super().format_usage()

    def format_help(self) -> str:
        with _vietnamese():
            return super().format_help()

    def error(self, message: str) -> NoReturn:
        self.exit(2, render_text("cli/argument_error", prog=self.prog, message=message) + "\n")


def _help(name: str) -> str:
    # argparse formats help with %: a literal percent sign must be doubled.
    return render_text(f"cli/help/{name}").replace("%", "%%")


def _metavar(name: str) -> str:
    metavars = words("cli/argparse")["metavars"] | words("cli/history")["metavars"]
    metavar: str = metavars[name]
    return metavar


def build_parser() -> argparse.ArgumentParser:
    """Every command, argument and option, each with its help."""
    parser = VietnameseParser(
        prog="thiduabot", description=_help("program"), epilog=_help("epilog")
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar=_metavar("command"), help=_help("command")
    )

    def command(name: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=_help(name), description=_help(name))

    run = command("run")
    run.add_argument("--webhook", metavar=_metavar("url"), help=_help("webhook"))
    run.add_argument(
        "--listen", default="127.0.0.1", metavar=_metavar("address"), help=_help("listen")
    )
    run.add_argument(
        "--port", type=_port, default=8443, metavar=_metavar("port"), help=_help("port")
    )
    run.add_argument("--zalo-webhook", metavar=_metavar("url"), help=_help("zalo_webhook"))
    run.add_argument(
        "--zalo-port", type=_port, default=8444, metavar=_metavar("port"), help=_help("zalo_port")
    )

    load = command("load")
    load.add_argument("files", nargs="+", type=Path, metavar=_metavar("file"), help=_help("files"))
    load.add_argument("--replace", action="store_true", help=_help("replace"))

    invite = command("invite")
    invite.add_argument("unit", nargs="?", metavar=_metavar("unit"), help=_help("unit"))
    invite.add_argument("--all", action="store_true", help=_help("invite_all"))
    invite.add_argument(
        "--role", required=True, choices=[r.value for r in Role], help=_help("role")
    )
    invite.add_argument("--json", action="store_true", help=_help("json"))
    invite.add_argument("--org", metavar=_metavar("org"), help=_help("org"))

    backup = command("backup")
    backup.add_argument(
        "--out", required=True, type=Path, metavar=_metavar("archive"), help=_help("backup_out")
    )
    restore = command("restore")
    restore.add_argument("archive", type=Path, metavar=_metavar("archive"), help=_help("archive"))
    restore.add_argument("--force", action="store_true", help=_help("force"))

    due = command("due")
    due.add_argument("--at", metavar=_metavar("instant"), type=_local_minute, help=_help("at"))
    due.add_argument(
        "--from", dest="first", metavar=_metavar("date"), type=_local_date, help=_help("from")
    )
    due.add_argument(
        "--to", dest="last", metavar=_metavar("date"), type=_local_date, help=_help("to")
    )
    due.add_argument("--json", action="store_true", help=_help("json"))

    export = command("export")
    export.add_argument("--campaign", metavar=_metavar("campaign"), help=_help("campaign"))
    export.add_argument(
        "--out", required=True, type=Path, metavar=_metavar("workbook"), help=_help("export_out")
    )
    export.add_argument("--org", metavar=_metavar("org"), help=_help("org"))

    calendar = command("calendar")
    # Checked by the command itself, so that a bad year is its one line.
    calendar.add_argument("year", metavar=_metavar("year"), help=_help("year"))

    history = command("history")
    history.add_argument(
        "file", nargs="?", type=Path, metavar=_metavar("workbook"), help=_help("history_file")
    )
    history.add_argument(
        "--template", type=Path, metavar=_metavar("workbook"), help=_help("history_template")
    )
    history.add_argument("--org", metavar=_metavar("org"), help=_help("org"))

    people = command("people").add_subparsers(
        dest="people_command",
        required=True,
        metavar=_metavar("people_command"),
        help=_help("people_command"),
    )
    merge = people.add_parser(
        "merge", help=_help("people_merge"), description=_help("people_merge")
    )
    merge.add_argument("unit", metavar=_metavar("unit"), help=_help("merge_unit"))
    merge.add_argument("spelling", metavar=_metavar("spelling"), help=_help("merge_spelling"))
    merge.add_argument("into", metavar=_metavar("into"), help=_help("merge_into"))
    merge.add_argument("--org", metavar=_metavar("org"), help=_help("org"))

    command("demo")
    return parser


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments; a mistake is one Vietnamese line and exit code 2."""
    return build_parser().parse_args(argv)


def _local_minute(text: str) -> datetime:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise argparse.ArgumentTypeError(render_text("cli/bad_instant", text=text)) from None


def _local_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(render_text("cli/bad_date", text=text)) from None


def _port(text: str) -> int:
    port = int(text) if text.strip().isdigit() else 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(render_text("cli/bad_port", text=text))
    return port

"""The `thiduabot` command line (PRODUCT §4)."""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot
from telegram.error import InvalidToken, TelegramError

from bot.cli_checks import (
    CliError,
    check_archive,
    check_out,
    check_port,
    port_error,
    read_only_database,
    reason,
    write_out,
)
from bot.cli_load import load_command, sqlite_file
from bot.cli_parser import parse
from bot.config import ConfigError, Settings, load_settings
from bot.reach import bot_connection
from messages import render_text
from storage.db import Database, one_line
from storage.invites import create_invite
from storage.models import Role
from storage.organizations import all_organizations
from storage.state import BOT_USERNAME, get_state, set_state
from storage.summary import OfficeSummary, UnknownCampaign, office_summary
from storage.units import unit_by_code, units_without_active_focal


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `thiduabot` and `python -m bot`; returns the exit code."""
    args = parse(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL, and the URL holds the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # aiosqlite's debug lines quote every statement's parameters (names, Telegram ids).
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    # python-telegram-bot's and httpcore's debug lines quote every update and request body,
    # a council member's pressed vote among them (PRODUCT §11: the ballot is secret).
    logging.getLogger("telegram").setLevel(logging.INFO)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    try:
        settings = load_settings()
        if args.command == "run":
            return _run(settings, args)
        if args.command == "load":
            return asyncio.run(load_command(settings, args.files, args.replace))
        if args.command == "invite":
            return asyncio.run(_invite(settings, args))
        if args.command in ("backup", "restore"):
            return _backup_or_restore(settings, args)
        if args.command == "due":
            return asyncio.run(_due(settings, args))
        if args.command == "export":
            check_out(args.out)
            workbook, summary = asyncio.run(_export(settings, args.campaign, args.org))
            write_out(args.out, workbook)
            print(render_text("cli/export_done", path=args.out, summary=summary))
            return 0
        if args.command == "calendar":
            return asyncio.run(_calendar(settings, args.year))
        if args.command == "history":
            return asyncio.run(_history(settings, args))
        if args.command == "people":
            return asyncio.run(_people_merge(settings, args))
        if args.command == "demo":
            from bot.demo import run_demo

            return asyncio.run(run_demo())
    except BrokenPipeError:  # `thiduabot due … | head`: the reader left; nothing is wrong
        sys.stderr.close()
        return 0
    except (ConfigError, CliError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.filename is None:  # no path: the database server could not be reached
            print(render_text("cli/database_error", detail=one_line(exc)), file=sys.stderr)
            return 1
        print(render_text("cli/path_error", path=exc.filename, reason=reason(exc)), file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(render_text("cli/database_error", detail=one_line(exc)), file=sys.stderr)
        return 1
    return 0


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import build_application

    # Check settings, port, token and network first: a mistake is one line, not a traceback.
    settings.require_token()
    if args.webhook:
        settings.require_webhook_secret()
        check_port(args.listen, args.port)
    if args.zalo_webhook:
        settings.require_zalo_webhook()
        check_port(args.listen, args.zalo_port)
    asyncio.run(_preflight(settings))
    if settings.zalo:
        asyncio.run(_zalo_preflight(settings))
    db = Database(settings.database_url)
    app = build_application(settings, db, dedupe=bool(args.webhook))
    if args.zalo_webhook:
        app.bot_data.zalo_webhook = (args.zalo_webhook, args.listen, args.zalo_port)
        app.bot_data.zalo_secret = settings.require_zalo_webhook()
    stop = (signal.SIGINT, signal.SIGTERM)
    try:
        if args.webhook:  # our listener (bot/webhook.py), not PTB's: see there why
            from bot.webhook import run_webhook

            run_webhook(
                app,
                listen=args.listen,
                port=args.port,
                url=args.webhook,
                secret=settings.require_webhook_secret(),
                stop_signals=stop,
            )
        else:
            app.run_polling(stop_signals=stop, drop_pending_updates=False)
    except InvalidToken:
        raise CliError(render_text("cli/token_rejected")) from None
    except TelegramError as exc:
        raise CliError(render_text("cli/api_unreachable", detail=one_line(exc))) from None
    except OSError as exc:
        binding = (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES)
        if args.webhook and exc.errno in binding and exc.filename is None:
            raise port_error(exc, args.listen, args.port) from None  # taken since the check
        raise
    if app.bot_data.database_lost:  # the watchdog stopped it (bot/app.py)
        print(render_text("cli/database_lost", path=db.file_path), file=sys.stderr)
        return 1
    return 0


def _backup_or_restore(settings: Settings, args: argparse.Namespace) -> int:
    from storage.backup import BackupError, backup_sqlite, restore_sqlite

    db = Database(settings.database_url)
    if not db.is_sqlite or db.url.database is None:
        raise CliError(render_text("cli/backup_postgres"))
    database = Path(db.url.database)
    try:
        if args.command == "backup":
            check_out(args.out)
            summary = backup_sqlite(database, settings.files_dir, args.out)
            created = _local(summary.created_at, settings)
            print(render_text("cli/backup_done", path=args.out, summary=summary, created=created))
        else:
            check_archive(args.archive)
            summary = restore_sqlite(args.archive, database, settings.files_dir, force=args.force)
            created = _local(summary.created_at, settings)
            print(render_text("cli/restore_done", path=database, summary=summary, created=created))
    except BackupError as error:
        raise CliError(
            render_text("cli/backup_error", reason=error.reason, detail=error.detail)
        ) from None
    return 0


def _local(instant: str, settings: Settings) -> str:
    """An archive's time (ISO 8601, UTC) in the bot's time zone, as every time is shown."""
    try:
        return datetime.fromisoformat(instant).astimezone(settings.tz).strftime("%H:%M %d/%m/%Y")
    except ValueError:
        return instant


async def _preflight(settings: Settings) -> str:
    """Ask the Bot API who we are (the username); a bad token or no network is a CliError."""
    try:
        async with Bot(settings.require_token(), **bot_connection(settings)) as bot:
            return bot.username
    except InvalidToken:
        raise CliError(render_text("cli/token_rejected")) from None
    except TelegramError as exc:
        raise CliError(render_text("cli/api_unreachable", detail=one_line(exc))) from None


async def _zalo_preflight(settings: Settings) -> None:
    """Ask the Zalo platform who the Zalo bot is; a bad token or no network is a CliError."""
    from scheduler.delivery.zalo import ZaloClient, ZaloError

    assert settings.zalo_bot_token is not None
    client = ZaloClient(
        settings.zalo_bot_token.get_secret_value(), base_url=settings.zalo_api_base_url
    )
    try:
        await client.get_me()
    except ZaloError as exc:
        rejected = exc.code in (401, 403, 404)
        template = "cli/zalo_token_rejected" if rejected else "cli/zalo_unreachable"
        raise CliError(render_text(template, detail=one_line(exc))) from None
    finally:
        await client.aclose()


async def _due(settings: Settings, args: argparse.Namespace) -> int:
    from scheduler.calendar_sync import install_calendar
    from scheduler.due import due_pushes, planned_pushes
    from scheduler.snapshot import load_snapshot

    if (args.at is None) == (args.first is None or args.last is None) or (
        args.at is not None and (args.first or args.last)
    ):
        raise CliError(render_text("cli/due_usage"))
    database = sqlite_file(settings)
    db = await read_only_database(settings, database)
    if db is None:  # a dry run creates nothing
        raise CliError(render_text("cli/no_database", path=database))
    try:
        async with db.read() as session:
            await install_calendar(session)
            snapshot = await load_snapshot(session, settings.tz)
    finally:
        await db.dispose()
    if args.at is not None:
        pushes = due_pushes(snapshot, args.at.replace(tzinfo=settings.tz))
    else:
        pushes = planned_pushes(snapshot, args.first, args.last)
    if args.json:
        print(json.dumps([p.as_json() for p in pushes], ensure_ascii=False, indent=1))
    else:
        for push in pushes:
            print(render_text("cli/due_line", push=push))
        print(render_text("cli/due_total", count=len(pushes)))
    return 0


async def _calendar(settings: Settings, text: str) -> int:
    """Print a year's days off on weekdays and worked weekend days, with their sources."""
    from scheduler.calendar import year_calendar
    from scheduler.calendar_sync import install_calendar

    year = int(text) if text.strip().isdigit() else 0
    if not 2000 <= year <= 2100:
        raise CliError(render_text("cli/calendar_bad_year", text=text))
    db = await read_only_database(settings, sqlite_file(settings))
    if db is not None:  # without a database: the holidays package alone, nothing created
        try:
            async with db.read() as session:
                await install_calendar(session)
        finally:
            await db.dispose()
    entries = year_calendar(year)
    for entry in entries:
        print(render_text("cli/calendar_line", entry=entry))
    working = sum(e.working for e in entries)
    print(
        render_text(
            "cli/calendar_total", year=year, days_off=len(entries) - working, working=working
        )
    )
    return 0


async def _organization_id(session: AsyncSession, code: str | None) -> int | None:
    """The organisation `--org` names; without it, the only one (None: there is none yet).
    Several and no `--org` is a mistake the operator is told about in one line."""
    organizations = await all_organizations(session)
    known = ", ".join(o.code for o in organizations) or "-"
    if code is not None:
        found = next((o for o in organizations if o.code == code.upper()), None)
        if found is None:
            raise CliError(render_text("cli/unknown_org", code=code, known=known))
        return found.id
    if len(organizations) > 1:
        raise CliError(render_text("cli/org_needed", known=known))
    return organizations[0].id if organizations else None


async def _export(
    settings: Settings, campaign: str | None, org: str | None = None
) -> tuple[bytes, OfficeSummary]:
    """The office summary workbook of an organisation (or of one campaign), and its summary."""
    from messages.exports.summary_workbook import summary_workbook  # openpyxl: only when asked

    db = Database(settings.database_url)
    try:
        await db.migrate()
        async with db.read() as session:
            org_id = await _organization_id(session, org)
            summary = await office_summary(
                session, settings.tz, datetime.now(UTC), campaign, org_id=org_id
            )
    except UnknownCampaign:
        raise CliError(render_text("cli/unknown_campaign", code=campaign)) from None
    finally:
        await db.dispose()
    return summary_workbook(summary), summary


async def _invite(settings: Settings, args: argparse.Namespace) -> int:
    if bool(args.unit) == bool(args.all):
        raise CliError(render_text("cli/invite_usage"))
    role = Role(args.role)
    db = Database(settings.database_url)
    try:
        await db.migrate()
        username = await _bot_username(settings, db)
        now = datetime.now(UTC)
        async with db.write() as session:
            org_id = await _organization_id(session, args.org)
            if args.all:
                units = await units_without_active_focal(session, org_id)
            else:
                unit = await unit_by_code(session, args.unit.upper(), org_id)
                if unit is None:
                    raise CliError(render_text("cli/unknown_unit", code=args.unit))
                units = [unit]
            issued = [(u, await create_invite(session, u, role, now)) for u in units]
    finally:
        await db.dispose()
    for unit, invite in issued:
        link = f"https://t.me/{username}?start={invite.code}"
        expires = invite.expires_at.astimezone(settings.tz)
        if args.json:
            print(
                json.dumps(
                    {
                        "code": invite.code,
                        "link": link,
                        "unit": unit.code,
                        "role": role.value,
                        "expires_at": expires.isoformat(timespec="minutes"),
                    },
                    ensure_ascii=False,
                )
            )
        else:
            print(
                render_text(
                    "cli/invite_line",
                    unit=unit,
                    role=role.value,
                    code=invite.code,
                    link=link,
                    expires=expires.strftime("%H:%M %d/%m/%Y"),
                )
            )
    if not issued and not args.json:
        print(render_text("cli/invite_none"))
    return 0


async def _bot_username(settings: Settings, db: Database) -> str:
    """The bot's username: learnt at the last start, or asked of the Bot API with the token."""
    async with db.read() as session:
        known = await get_state(session, BOT_USERNAME)
    if known:
        return known
    if settings.bot_token is None:
        raise CliError(render_text("cli/username_unknown"))
    username = await _preflight(settings)
    async with db.write() as session:
        await set_state(session, BOT_USERNAME, username)
    return username


async def _history(settings: Settings, args: argparse.Namespace) -> int:
    """Load a workbook of earlier years (exit 1 if a row was bad), or write the template."""
    from bot.history_load import current_database, load_history, read_workbook_file
    from messages.exports.history_workbook import build_history_template

    if (args.file is None) == (args.template is None):
        raise CliError(render_text("cli/history_usage"))
    if args.template is not None:
        check_out(args.template)
        write_out(args.template, build_history_template())
        print(render_text("cli/history_template_done", path=args.template))
        return 0
    reading = await read_workbook_file(args.file, datetime.now(settings.tz).year)
    db = await current_database(settings)
    try:
        async with db.write() as session:
            org_id = await _organization_id(session, args.org)
            if org_id is None:
                raise CliError(render_text("cli/history_no_units"))
            done = await load_history(session, org_id, reading, args.file.name)
    finally:
        await db.dispose()
    for error in done.errors:
        print(error.text(), file=sys.stderr)
    bad = len({e.row for e in done.errors})
    print(render_text("cli/history_done", path=args.file, sheet=reading.sheet, load=done, bad=bad))
    return 1 if bad else 0


async def _people_merge(settings: Settings, args: argparse.Namespace) -> int:
    """Read one spelling of a unit's person as another from now on."""
    from bot.history_load import current_database, merge_spellings

    db = await current_database(settings)
    try:
        async with db.write() as session:
            org_id = await _organization_id(session, args.org)
            if org_id is None:
                raise CliError(render_text("cli/history_no_units"))
            merged = await merge_spellings(
                session, org_id, args.unit, args.spelling, args.into, datetime.now(UTC)
            )
    finally:
        await db.dispose()
    print(
        render_text("cli/people_merge_done", merged=merged, spelling=args.spelling, into=args.into)
    )
    return 0

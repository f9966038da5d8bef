"""Wiring: build the python-telegram-bot Application from the settings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

import handlers
from bot.concurrency import PerChatUpdateProcessor
from bot.config import Settings
from bot.conversations import SharedConversations
from bot.fitting import FittingBot
from bot.reach import bot_connection
from bot.request_guard import RequestGuard
from bot.webhook import WebhookServer
from bot.zalo_bot import ZaloBot
from handlers.dossier.receive import tell_lost_downloads
from handlers.runtime import BotContext, BotData, Runtime
from messages.commands import GUEST_COMMANDS
from messages.organizations import org_words
from scheduler.calendar_sync import install_calendar
from scheduler.delivery import DeliveryWorker
from scheduler.delivery.budget import Budget, SendBudget
from scheduler.delivery.pacing import pacer_for
from scheduler.delivery.rules import Limits
from scheduler.delivery.zalo import SECRET_HEADER as ZALO_SECRET_HEADER
from scheduler.delivery.zalo import ZaloClient, parse_update
from scheduler.tick import Scheduler
from storage.db import Database
from storage.organizations import all_organizations
from storage.outbox import recover_abandoned
from storage.state import BOT_USERNAME, set_state

log = logging.getLogger(__name__)

TICK_JOB = "due-tick"
WATCH_JOB = "database-watch"
WATCH_SECONDS = 1.0  # a stat of the database file: cheap enough every second


@dataclass(slots=True)
class Services(BotData):
    """The running bot's services (its `bot_data`): the runtime handlers use, and what only
    the application drives: the scheduler, the delivery worker and their timers."""

    # False in the sandbox: tests and the demo tick and deliver by hand.
    background: bool = True
    scheduler: Scheduler | None = None
    worker: DeliveryWorker | None = None
    delivery_stop: asyncio.Event | None = None
    delivery_task: asyncio.Task[None] | None = None
    wake: asyncio.TimerHandle | None = None
    # Set when the SQLite file vanished under the running bot (it then stops; `run` says so).
    database_lost: bool = False
    # The one budget every message takes its slot from, replies and pushes alike.
    budget: SendBudget | None = None
    # The Zalo channel, when ZALO_BOT_TOKEN is set; its webhook (url, address, port) if the
    # command line asked for one (long polling otherwise), and the listener of it.
    zalo: ZaloBot | None = None
    zalo_webhook: tuple[str, str, int] | None = None
    zalo_server: WebhookServer | None = None
    zalo_secret: str = ""


BotApplication = Application[Any, BotContext, Any, Any, Services, Any]


def build_application(
    settings: Settings,
    db: Database,
    *,
    clock: Callable[[], datetime] | None = None,
    background: bool = True,
    dedupe: bool = False,
    budget: Budget | None = None,
) -> BotApplication:
    """The bot with every handler registered, talking to settings.bot_api_base_url; every
    message it sends, reply or push, within the one send `budget`."""
    runtime = Runtime(
        db=db,
        tz=settings.tz,
        files_dir=settings.files_dir,
        max_file_bytes=settings.max_file_bytes,
        dedupe=dedupe,
    )
    if clock is not None:
        runtime.clock = clock
    runtime.zalo = settings.zalo
    processor = PerChatUpdateProcessor()
    budget = budget or Budget()
    pace = budget.per_second if budget.paces else Limits().global_per_second
    send_budget = SendBudget(pacer_for(db, Limits(global_per_second=pace)), budget)
    app: BotApplication = (
        ApplicationBuilder()
        .bot(build_bot(settings, send_budget))
        .concurrent_updates(processor)
        .context_types(ContextTypes(context=BotContext, bot_data=Services))
        .post_init(on_startup)
        .post_shutdown(on_shutdown)
        .build()
    )
    app.bot_data.runtime, app.bot_data.background = runtime, background
    app.bot_data.budget = send_budget
    if settings.zalo_bot_token is not None:
        client = ZaloClient(
            settings.zalo_bot_token.get_secret_value(), base_url=settings.zalo_api_base_url
        )
        app.bot_data.zalo = ZaloBot(runtime, client)
    handlers.register(app)
    processor.handle = SharedConversations(handlers.flows_of(app), db).handle
    return app


def build_bot(settings: Settings, budget: SendBudget | None = None) -> FittingBot:
    """The bot every request goes through: HTML by default, texts and captions that always
    fit (bot/fitting.py), every request paced and checked by the guard (bot/request_guard.py)."""
    return FittingBot(
        token=settings.require_token(),
        defaults=Defaults(
            parse_mode=ParseMode.HTML,
            tzinfo=settings.tz,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        ),
        rate_limiter=RequestGuard(budget),
        **bot_connection(settings),
    )


async def on_startup(app: BotApplication) -> None:
    """Migrate the schema, remember the bot's username, set the guest menu."""
    runtime = app.bot_data.runtime
    assert runtime is not None
    await runtime.db.migrate()
    async with runtime.db.write() as session:
        await install_calendar(session)  # loaded calendar documents win over the package
        await set_state(session, BOT_USERNAME, app.bot.username)
        organizations = await all_organizations(session)
    # A stranger is told whose bot this is only when the database serves one body.
    runtime.organization = organizations[0].name if len(organizations) == 1 else ""
    if len(organizations) == 1:
        only = organizations[0]
        runtime.org_words = org_words(only.name, only.office, only.head, only.short)
    await app.bot.set_my_commands([BotCommand(c.name, c.description) for c in GUEST_COMMANDS])
    # A download a crash cut off: its sender is told to send the file again.
    await tell_lost_downloads(runtime, at_start=True)
    if app.bot_data.background:
        await _recover_crashed(runtime)
    _start_delivery(app, runtime)
    await _start_zalo(app)
    log.info("bot @%s ready", app.bot.username)


async def _start_zalo(app: BotApplication) -> None:
    """The Zalo bot: its messages by webhook or polling, its worker with the background.
    A Zalo platform that cannot be reached is logged and tried again; Telegram goes on."""
    services = app.bot_data
    zalo = services.zalo
    if zalo is None:
        return
    webhook = None
    if services.zalo_webhook is not None:
        url, listen, port = services.zalo_webhook
        secret = services.zalo_secret
        server = WebhookServer(
            path=urlsplit(url).path or "/",
            secret=secret,
            bot=None,
            queue=zalo.inbox,
            header=ZALO_SECRET_HEADER,
            parse=parse_update,
        )
        await server.start(listen, port)
        services.zalo_server, webhook = server, (url, secret)
    await zalo.start(webhook=webhook, deliver=services.background)


def _start_delivery(app: BotApplication, runtime: Runtime) -> None:
    """The scheduler and the outbox worker. With background set (the real bot) the worker runs
    and a tick fires at start and every minute; the sandbox drives both by hand instead."""
    worker = DeliveryWorker(runtime.db, app.bot, clock=runtime.clock, budget=app.bot_data.budget)
    zalo = app.bot_data.zalo

    def wake() -> None:
        worker.wake()
        if zalo is not None:
            zalo.worker.wake()

    scheduler = Scheduler(
        runtime.db, runtime.tz, runtime.clock, on_enqueued=wake, zalo=zalo is not None
    )
    app.bot_data.scheduler, app.bot_data.worker = scheduler, worker
    # A handler that enqueued a message itself (a review's notice) pokes: look at the outbox.
    runtime.poke = wake
    if not app.bot_data.background:
        return

    async def tick(_context: object) -> None:
        await scheduler.tick()
        await tell_lost_downloads(runtime, at_start=False)  # another instance's, after a lease
        _wake_at_next_due(app, runtime, scheduler, tick)

    def poke() -> None:
        wake()
        app.create_task(tick(None), name="poke-tick")

    runtime.poke = poke
    stop = asyncio.Event()
    app.bot_data.delivery_stop = stop
    app.bot_data.delivery_task = asyncio.create_task(worker.run(stop), name="delivery-worker")
    assert app.job_queue is not None
    # APScheduler only triggers; what is due lives in the database. A fixed id with
    # replace_existing keeps a single copy of the job whatever happens to the process.
    app.job_queue.run_repeating(
        tick,
        interval=60,
        first=1,
        name=TICK_JOB,
        job_kwargs={
            "id": TICK_JOB,
            "replace_existing": True,
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": 30,
        },
    )
    _watch_database(app, runtime)


def _watch_database(app: BotApplication, runtime: Runtime) -> None:
    """Stop the bot when its SQLite file is deleted or replaced under it (PRODUCT §8): the
    open connections would go on writing into a file no name leads to, and the next start
    would find an empty database, everyone unbound."""
    db = runtime.db
    db.watch_file()
    if db.file_identity() is None:  # PostgreSQL, or a database in memory
        return

    async def check(_context: object) -> None:
        if app.bot_data.database_lost or not db.file_lost():
            return
        log.critical("database file %s deleted or replaced under the bot: stopping", db.file_path)
        app.bot_data.database_lost = True
        app.stop_running()

    assert app.job_queue is not None
    app.job_queue.run_repeating(
        check,
        interval=WATCH_SECONDS,
        first=WATCH_SECONDS,
        name=WATCH_JOB,
        job_kwargs={"id": WATCH_JOB, "replace_existing": True, "coalesce": True},
    )


def _wake_at_next_due(
    app: BotApplication, runtime: Runtime, scheduler: Scheduler, tick: Callable[..., Any]
) -> None:
    """One extra tick exactly when the next push becomes due, so that it leaves within a
    second of its instant rather than at the next minute's tick (which stays as the net for
    data that changed meanwhile). Only the latest wake-up is kept."""
    previous, app.bot_data.wake = app.bot_data.wake, None
    if previous is not None:
        previous.cancel()
    if scheduler.next_at is None:
        return
    delay = max(0.0, (scheduler.next_at - runtime.now()).total_seconds())
    app.bot_data.wake = asyncio.get_running_loop().call_later(
        delay, lambda: app.create_task(tick(None), name="due-wake")
    )


async def _recover_crashed(runtime: Runtime) -> None:
    """On SQLite, before any worker starts, take back every row left "sending" by a crash."""
    if runtime.db.is_sqlite:
        # One instance by design: nothing is in flight yet, so every "sending" row of every
        # channel was cut off by a crash. (PostgreSQL instances wait for the lease: another
        # may still be sending.)
        async with runtime.db.write() as session:
            recovered = await recover_abandoned(session, runtime.now(), timedelta(0), None)
        if recovered:
            log.warning("%s outbox messages were being sent at a crash: sending again", recovered)


async def on_shutdown(app: BotApplication) -> None:
    """Let the worker finish the requests in flight, then close the database pool."""
    services = app.bot_data
    if services.wake is not None:
        services.wake.cancel()
        services.wake = None
    stop, task = services.delivery_stop, services.delivery_task
    if stop is not None and task is not None:
        stop.set()
        await task
    if services.zalo_server is not None:
        await services.zalo_server.stop()
        services.zalo_server = None
    if services.zalo is not None:
        await services.zalo.stop()
    if services.runtime is not None:
        await services.runtime.db.dispose()

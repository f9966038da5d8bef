"""`thiduabot run` (long polling) on the benchmark's clock, as its own process: what
bench/memory.py measures. The clock starts at the seeded province's instant (a Wednesday at
10:00) and follows real time, so campaigns are open and no push waits for quiet hours."""

from __future__ import annotations

import signal

from bench.seed import BenchClock
from bot.app import build_application
from bot.config import load_settings
from storage.db import Database


def main() -> None:
    settings = load_settings()
    app = build_application(settings, Database(settings.database_url), clock=BenchClock())
    app.run_polling(stop_signals=(signal.SIGINT, signal.SIGTERM), drop_pending_updates=False)


if __name__ == "__main__":
    main()

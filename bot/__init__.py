"""The Telegram side of the bot: the application, command line, emulator and demo."""

import os

# Opt in to python-telegram-bot's coming behaviour: time periods such as
# RetryAfter.retry_after are timedeltas. Without it PTB warns on every flood-control error;
# our code reads either form (scheduler.delivery.rules.retry_after_seconds).
os.environ.setdefault("PTB_TIMEDELTA", "1")

"""Flood control: Telegram's limits on sending, per chat and overall, as token buckets."""

from __future__ import annotations

import contextlib
import math
import time

from bot.emulator.scripts import Bucket
from bot.emulator.state import EmulatorState
from bot.emulator.wire import ApiError, Params

# Methods that Telegram rate-limits per chat and globally ("send or edit" traffic).
FLOOD_METHODS = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
    }
)


class FloodControl(EmulatorState):
    """The part of the emulator that answers 429 to a bot sending too fast."""

    def _check_flood(self, params: Params) -> None:
        """Token buckets: global and per chat; 429 with retry_after when either is empty."""
        now = time.monotonic()
        if self._global_bucket is None:  # made full at the first send, like the chat ones
            self._global_bucket = Bucket(self.global_rate, self.global_burst)
        waits = [self._global_bucket.wait_time(now)]
        chat_bucket: Bucket | None = None
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(params.get("chat_id"))
            chat_bucket = self._chat_buckets.get(chat_id)
            if chat_bucket is None:
                chat_bucket = Bucket(self.chat_rate, self.chat_burst)
                self._chat_buckets[chat_id] = chat_bucket
            waits.append(chat_bucket.wait_time(now))
        wait = max(waits)
        if wait > 0:
            self.flood_count += 1
            retry_after = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        self._global_bucket.tokens -= 1
        if chat_bucket is not None:
            chat_bucket.tokens -= 1

"""The updates queue: what users do becomes updates, fetched with getUpdates (long polling)
or pushed to webhooks with their secret token, and redelivered on request."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from typing import Any

import aiohttp

from bot.emulator.records import BotMessage
from bot.emulator.state import REMEMBERED_UPDATES, EmulatorState
from bot.emulator.users import EmulatedUser
from bot.emulator.wire import ApiError, Params, bad

WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


class UpdateQueue(EmulatorState):
    """The part of the emulator that queues updates and hands them to the bot."""

    # ------------------------------------------------------------------ test-side API

    def updates_pending(self) -> int:
        """Updates not yet delivered/acknowledged."""
        return len(self._pending)

    async def wait_fetched(self, update_id: int, timeout: float = 10) -> None:  # noqa: ASYNC109
        """Wait until the bot received this update (getUpdates returned it / webhook took it)."""
        await self.wait_until(lambda: update_id in self._fetched, timeout)

    def redeliver(self, update_id: int) -> None:
        """Queue an update again, same update_id and content, as Telegram does when a webhook
        answer did not reach it in time; with several targets it may land on another one."""
        self._pending.append(dict(self._recent_updates[update_id]))
        self._signal()

    def set_webhook_targets(self, urls: list[str], secret_token: str | None = None) -> None:
        """Deliver updates round-robin to these URLs (overrides setWebhook's URL; [] = off).

        The secret defaults to the one from the last setWebhook call.
        """
        self._webhook_targets = list(urls)
        if secret_token is not None:
            self._webhook_secret = secret_token
        self._signal()

    # ------------------------------------------------------------------ queueing

    def _push_update(self, payload: dict[str, Any]) -> int:
        """Queue an update for getUpdates / webhook delivery."""
        update_id = next(self._update_seq)
        update = {"update_id": update_id, **payload}
        self._pending.append(update)
        self._recent_updates[update_id] = update
        if len(self._recent_updates) > REMEMBERED_UPDATES:
            del self._recent_updates[next(iter(self._recent_updates))]
        self._signal()
        return update_id

    def _push_message(self, user: EmulatedUser, content: dict[str, Any]) -> int:
        """Queue a message update from this user."""
        mid = self._new_message_id(user.id)
        self._user_messages.add((user.id, mid))
        message = {
            "message_id": mid,
            "from": user.to_api(),
            "chat": user.chat_api(),
            "date": int(time.time()),
            **content,
        }
        return self._push_update({"message": message})

    def _push_callback(self, user: EmulatedUser, message: BotMessage, data: str) -> int:
        """Queue a callback_query update for a button on a bot message."""
        query_id = str(8_000_000_000 + next(self._query_seq))
        self._open_queries.add(query_id)
        query = {
            "id": query_id,
            "from": user.to_api(),
            "chat_instance": str(-4_000_000_000 - message.chat_id),
            "data": data,
            "message": self._message_api(message),
        }
        return self._push_update({"callback_query": query})

    # ------------------------------------------------------------------ webhook delivery

    def _delivery_targets(self) -> list[str]:
        """Where updates go now: set_webhook_targets() wins over setWebhook's URL."""
        if self._webhook_targets:
            return self._webhook_targets
        return [self._webhook_url] if self._webhook_url else []

    async def _webhook_loop(self) -> None:
        """Deliver pending updates in order, one at a time, retrying failures."""
        while not self._closing:
            targets = self._delivery_targets()
            if not targets or not self._pending:
                event = self._changed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), 1.0)
                continue
            update = self._pending[0]
            url = targets[self._webhook_rr % len(targets)]
            self._webhook_rr += 1
            if await self._post_update(url, update):
                if self._pending and self._pending[0] is update:
                    self._pending.pop(0)
                self._fetched.add(update["update_id"])
                self.webhook_deliveries.append((update["update_id"], url))
                self._signal()
            else:
                await asyncio.sleep(self.webhook_retry_delay)

    async def _post_update(self, url: str, update: dict[str, Any]) -> bool:
        """POST one update; True on a 2xx answer."""
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if self._webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self._webhook_secret
        try:
            async with self._session.post(
                url,
                data=json.dumps(update, ensure_ascii=False).encode("utf-8"),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=10),
            ) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return True
                message = f"Wrong response from the webhook: {response.status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            message = f"Connection failed: {exc!r}"
        self._webhook_last_error = (int(time.time()), message)
        return False

    # ------------------------------------------------------------------ API methods

    async def _api_get_updates(self, params: Params) -> Any:
        """getUpdates with offset acknowledgement, limit and long polling."""
        if self._delivery_targets():
            raise ApiError(409, WEBHOOK_CONFLICT)
        offset = params.get_int("offset")
        limit = params.get_int("limit") or 100
        limit = max(1, min(limit, 100))
        timeout = max(0, params.get_int("timeout") or 0)
        if offset is not None:
            if offset < 0:
                # Negative offset: keep only the last -offset updates.
                del self._pending[: max(0, len(self._pending) + offset)]
            else:
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
        if not self._pending and timeout:
            await self._wait(
                lambda: bool(self._pending) or bool(self._delivery_targets()), float(timeout)
            )
        if self._delivery_targets():
            raise ApiError(409, WEBHOOK_CONFLICT)
        batch = self._pending[:limit]
        self._fetched.update(u["update_id"] for u in batch)
        return batch

    async def _api_set_webhook(self, params: Params) -> Any:
        """setWebhook (an empty url removes it). Plain http is allowed on loopback."""
        url = params.get_str("url") or ""
        secret = params.get_str("secret_token") or None
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad("secret token contains unallowed characters")
        if url and not url.startswith(("http://", "https://")):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get_bool("drop_pending_updates"):
            self._pending.clear()
        self._webhook_url = url
        self._webhook_secret = secret
        self._webhook_last_error = None
        self._signal()
        return True, ("Webhook was set" if url else "Webhook was deleted")

    async def _api_delete_webhook(self, params: Params) -> Any:
        """deleteWebhook (set_webhook_targets() targets stay until cleared by the test)."""
        if params.get_bool("drop_pending_updates"):
            self._pending.clear()
        was_set = bool(self._webhook_url)
        self._webhook_url = ""
        self._signal()
        return True, ("Webhook was deleted" if was_set else "Webhook is already deleted")

    async def _api_get_webhook_info(self, params: Params) -> Any:
        """getWebhookInfo."""
        targets = self._delivery_targets()
        info: dict[str, Any] = {
            "url": targets[0] if targets else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if targets:
            info["max_connections"] = 40
            info["ip_address"] = self.host
        if self._webhook_last_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        return info

"""The Bot API methods on the bot itself: getMe, its commands, and those accepted as is."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.emulator.state import EmulatorState
from bot.emulator.wire import Params, bad


class BotMethods(EmulatorState):
    """The part of the emulator that answers about the bot and keeps its commands."""

    async def _api_true(self, params: Params) -> Any:
        """Methods the emulator accepts without modelling them."""
        return True

    async def _api_get_me(self, params: Params) -> Any:
        """getMe."""
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @staticmethod
    def _commands_key(params: Params) -> str:
        """Commands are stored per (scope, language_code)."""
        scope = params.get_json("scope", "can't parse BotCommandScope JSON object")
        scope = scope or {"type": "default"}
        return json.dumps([scope, params.get_str("language_code") or ""], sort_keys=True)

    async def _api_set_my_commands(self, params: Params) -> Any:
        """setMyCommands."""
        commands = params.get_json("commands", "can't parse commands JSON object")
        if not isinstance(commands, list):
            raise bad("can't parse commands JSON object")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(name)):
                raise bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad("command description must be non-empty")
        self.commands[self._commands_key(params)] = commands
        return True

    async def _api_get_my_commands(self, params: Params) -> Any:
        """getMyCommands."""
        return self.commands.get(self._commands_key(params), [])

    async def _api_delete_my_commands(self, params: Params) -> Any:
        """deleteMyCommands."""
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _api_get_chat_menu_button(self, params: Params) -> Any:
        """getChatMenuButton."""
        return {"type": "commands"}

"""Fault injection: scripted failures (error answers, dropped connections, slow answers)."""

from __future__ import annotations

from bot.emulator.scripts import Fault
from bot.emulator.state import EmulatorState


class FaultInjection(EmulatorState):
    """The part of the emulator that fails calls on a test's request."""

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str = "",
        retry_after: int | None = None,
        times: int = 1,
        delay: float = 0.0,
    ) -> None:
        """Script faults for the next `times` calls of `method` ("*" = any method).

        status 0 drops the connection without an answer; status 200 with a delay processes
        the call normally but answers only after `delay` seconds (a client read timeout then
        leaves an effect the client does not know about, exactly as with real Telegram).
        """
        self._faults.append(Fault(method, status, description, retry_after, times, delay))

    def _take_fault(self, method: str) -> Fault | None:
        """Consume one scripted fault matching this method, if any."""
        for fault in self._faults:
            if fault.times > 0 and (fault.method == "*" or fault.method.lower() == method.lower()):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

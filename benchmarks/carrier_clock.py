"""The carrier driver, plus Asterisk's own time stamps of the events a latency is measured between."""

from __future__ import annotations

from tests.bench.carrier import Carrier


class TimedCarrier(Carrier):
    """Records, on the carrier's clock: when each caller channel was created (just before its
    INVITE goes to the PBX), when each member phone's INVITE arrived (PhoneRang) and when each
    member phone's channel ended (its Hangup)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.caller_created: dict[str, float] = {}     # caller uniqueid -> carrier time
        self.rang: list[tuple[str, float]] = []        # (member number, carrier time), in order
        self.phone_hung_up: dict[str, float] = {}     # member phone uniqueid -> carrier time
        self.answered_count = 0

    async def _on_event(self, manager, event) -> None:
        name = event.get("Event")
        stamp = event.get("Timestamp")
        if stamp is not None:
            if name == "Newchannel" and event.get("Uniqueid") in self._callers:
                self.caller_created[event["Uniqueid"]] = float(stamp)
            elif name == "UserEvent" and event.get("UserEvent") == "PhoneRang":
                self.rang.append((event.get("Number"), float(stamp)))
            elif name == "Hangup" and event.get("Uniqueid") in self._by_uniqueid:
                # A phone's channel gone: its BYE (or final answer) left the carrier just before.
                self.phone_hung_up[event["Uniqueid"]] = float(stamp)
        if name == "UserEvent" and event.get("UserEvent") == "PhoneAnswered":
            self.answered_count += 1
        await super()._on_event(manager, event)

    def forget(self) -> None:
        """Drop finished records (long runs keep memory flat)."""
        self.caller_created.clear()
        self.rang.clear()
        self.phone_hung_up.clear()
        self._callers.clear()
        self._by_uniqueid.clear()
        self._phone_calls.clear()

"""What a waiting caller is told: their place in the line, and the expected wait when there is one."""

from __future__ import annotations

from teamfoned.domain.prompts import (
    QUEUE_HOLDTIME,
    QUEUE_LESS_THAN,
    QUEUE_MINUTE,
    QUEUE_MINUTES,
    QUEUE_YOU_ARE_CALLER,
    sound,
)


def position_announcement(position: int, expected_minutes: int | None = None) -> str:
    """The media list for "you are caller number N" and, with `expected_minutes`, "the
    estimated hold time is currently M minutes" (0: "less than 1 minute"). Numbers are said by
    Asterisk in the channel's language (`number:`), from the same prompt set."""
    media = [sound(QUEUE_YOU_ARE_CALLER), f"number:{position}"]
    if expected_minutes is not None:
        media.append(sound(QUEUE_HOLDTIME))
        if expected_minutes < 1:
            media += [sound(QUEUE_LESS_THAN), "number:1", sound(QUEUE_MINUTE)]
        else:
            media += [f"number:{expected_minutes}",
                      sound(QUEUE_MINUTE if expected_minutes == 1 else QUEUE_MINUTES)]
    return ",".join(media)

"""Times in a video, as curators type them and as pages show them.

``parse_timecode`` reads "1:02:03", "62:03", "3723", "1h2m3s" (and the full-width
colon and digits of a Chinese input method) as seconds; ``format_timecode`` writes
seconds back as "1:02:03" or "2:03", the form bilibili and YouTube show.
"""

from __future__ import annotations

import re

__all__ = ["MAX_SECONDS", "format_timecode", "parse_timecode"]

MAX_SECONDS = 100 * 3600 - 1  # 99:59:59; no 精读 video is longer
_UNITS = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", re.IGNORECASE)
_COLONS = re.compile(r"\d+(?::\d{1,2}){1,2}")


def parse_timecode(text: str) -> int:
    """Seconds from "H:MM:SS", "M:SS", plain seconds, or "1h2m3s".

    Raises ValueError with a message a curator can act on.
    """
    if not isinstance(text, str):
        raise ValueError(f"a time is text like 1:02:03, not {type(text).__name__}")
    value = text.strip().replace("：", ":")
    if not value:
        raise ValueError("empty time: write it like 1:02:03, 62:03 or 3723")
    if len(value) > 20:
        raise ValueError(f"not a time: {text!r} is too long")
    if value.startswith("-"):
        raise ValueError(f"a time cannot be negative: {text!r}")
    if value.isdecimal():
        seconds = int(value)
    elif _COLONS.fullmatch(value):
        seconds = _from_colons(value, text)
    elif (match := _UNITS.fullmatch(value)) and any(match.groups()):
        hours, minutes, secs = (int(g) if g else 0 for g in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    else:
        raise ValueError(
            f"not a time: {text!r}; write it like 1:02:03, 62:03, 3723 or 1h2m3s"
        )
    if seconds > MAX_SECONDS:
        raise ValueError(f"{text!r} is longer than {format_timecode(MAX_SECONDS)}")
    return seconds


def _from_colons(value: str, text: str) -> int:
    *head, last = (int(part) for part in value.split(":"))
    if last >= 60:
        raise ValueError(f"seconds must be below 60 in {text!r}")
    if len(head) == 2:
        hours, minutes = head
        if minutes >= 60:
            raise ValueError(f"minutes must be below 60 in {text!r} (H:MM:SS)")
    else:
        hours, minutes = 0, head[0]  # "62:03" is 62 minutes, as players write it
    return hours * 3600 + minutes * 60 + last


def format_timecode(seconds: int) -> str:
    """Writes 3723 as "1:02:03", 123 as "2:03" and 0 as "0:00"."""
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise ValueError(f"seconds are a whole number, not {seconds!r}")
    if seconds < 0:
        raise ValueError(f"a time cannot be negative: {seconds}")
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"

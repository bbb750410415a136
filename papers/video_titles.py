"""Pure helpers for video titles: the series a title belongs to, and a slug base.

No ORM here: the README import, the admin and the data migration all use them.
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils.text import slugify

from papers.markup import strip_links

# "Llama 3.1论文精读 · 5. 模型训练过程": a series name, a middle dot, a part number.
_SERIES_RE = re.compile(r"^(?P<series>.+?)\s*[·•]\s*(?P<part>\d{1,3})\s*[.、．]\s*\S")
SLUG_MAX = 80


def series_and_part(title: str) -> tuple[str, int | None]:
    """The series name and part number of a title like "Llama 3.1论文精读 · 1. 导言";
    ("", None) for a title that is not part of a series."""
    match = _SERIES_RE.match(strip_links(title or "").strip())
    if not match:
        return "", None
    return match["series"].strip(), int(match["part"])


def video_slug_base(
    *, title: str, published_on: dt.date | None, bvid: str = "", youtube_id: str = ""
) -> str:
    """An ASCII slug base: the title's Latin words ("gpt-4"), else the platform id, else
    the date. Chinese-only titles have no Latin words; the BV id keeps them stable."""
    words = slugify(strip_links(title or ""))[:SLUG_MAX].strip("-")
    if len(words.replace("-", "")) >= 3:
        return words
    date = published_on.isoformat() if published_on else "video"
    ref = (bvid or youtube_id).lower()
    return f"{date}-{ref}" if ref else date

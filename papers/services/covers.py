"""Self-hosted video covers: download, check, re-encode to web thumbnails.

No page hot-links GitHub or bilibili: every cover is read once (the README import
reads the ``imgs/…`` paths the README names; the nightly video refresh fills a
missing one from bilibili's ``pic``), checked, and re-encoded to two WebP
thumbnails under ``MEDIA_ROOT`` whose sizes are stored on the video, so templates
can set ``width`` and ``height``.

The checks, before anything is stored:
- at most ``COVER_MAX_BYTES``, read as a stream that stops past the cap;
- the type read from the bytes by Pillow (JPEG, PNG, WebP, GIF), never the name;
- at most ``COVER_MAX_PIXELS``, checked from the header before the pixels are
  decoded, with Pillow's own decompression-bomb guard as a second line.

A cover that fails is a warning (with the README line), never an aborted import,
and never removes a cover the video already has. A cover whose source has not
changed since its thumbnails were made is not downloaded again.
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, UnidentifiedImageError

from papers.models import VideoNote
from papers.readme import is_safe_cover

__all__ = [
    "CoverError",
    "CoverReport",
    "cover_fill_from_url",
    "cover_resolve",
    "cover_store",
    "covers_import",
]

logger = logging.getLogger(__name__)

THUMB_WIDTHS = (480, 960)  # cover_small, cover_large
FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
FETCH_TIMEOUT = (5, 20)  # (connect, read) seconds
CHUNK = 64 * 1024
USER_AGENT = "Mozilla/5.0 (compatible; readinglist-covers/1.0)"


class CoverError(Exception):
    """This image cannot be a cover: the message says why."""


@dataclass
class CoverReport:
    stored: int = 0
    unchanged: int = 0
    downloads: int = 0
    skipped: int = 0  # left for the next import: out of time
    warnings: list[str] = field(default_factory=list)

    def line(self) -> str:
        line = (
            f"covers: {self.stored} stored, {self.unchanged} unchanged, "
            f"{len(self.warnings)} failed"
        )
        if self.skipped:
            line += f", {self.skipped} skipped (out of time)"
        return line


def cover_resolve(path: str, *, base: str) -> str:
    """The README's cover path read against the README's own location: its URL, or
    the folder of its file. "" for a path we will not follow."""
    if not path or not is_safe_cover(path):
        return ""
    if urlsplit(path).scheme in ("http", "https"):
        return path
    if base.startswith(("http://", "https://")):
        return urljoin(base, path)
    if urlsplit(path).scheme or path.startswith("/"):
        return ""
    folder = Path(base).resolve().parent
    resolved = (folder / path).resolve()
    # A file README's covers stay in its folder: no ../../etc/passwd.
    if folder not in resolved.parents:
        return ""
    return str(resolved)


def read_source(
    source: str, *, max_bytes: int, session: requests.Session | None = None
) -> bytes:
    """The bytes of an http(s) URL or a file, at most ``max_bytes``."""
    if source.startswith(("http://", "https://")):
        http = session or requests
        try:
            with http.get(
                source,
                stream=True,
                timeout=FETCH_TIMEOUT,
                headers={"User-Agent": USER_AGENT, "Accept": "image/*"},
            ) as response:
                if response.status_code != 200:
                    raise CoverError(f"HTTP {response.status_code}")
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise CoverError(f"larger than {max_bytes} bytes")
                data = bytearray()
                for chunk in response.iter_content(CHUNK):
                    data += chunk
                    if len(data) > max_bytes:
                        raise CoverError(f"larger than {max_bytes} bytes")
                return bytes(data)
        except requests.RequestException as exc:
            raise CoverError(f"cannot fetch: {type(exc).__name__}") from exc
    try:
        with open(source, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise CoverError(f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise CoverError(f"larger than {max_bytes} bytes")
    return data


@dataclass(frozen=True)
class Thumb:
    width: int
    height: int
    webp: bytes


def make_thumbnails(data: bytes, *, max_pixels: int) -> list[Thumb]:
    """Check an image and re-encode it as WebP at each of THUMB_WIDTHS (never wider
    than the original). Raises CoverError."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS:
                raise CoverError(f"not a JPEG, PNG, WebP or GIF image ({image.format})")
            width, height = image.size
            # The header's size, before any pixel is decoded.
            if width * height > max_pixels:
                raise CoverError(f"{width}×{height} is more than {max_pixels} pixels")
            image.seek(0)
            image.load()
    except CoverError:
        raise
    except UnidentifiedImageError as exc:
        raise CoverError("not an image Pillow can read") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard, for a size the header could not tell us.
        raise CoverError(f"more than {max_pixels} pixels") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise CoverError(f"a broken image: {type(exc).__name__}") from exc
    image = image.convert("RGB")
    thumbs = []
    for target in THUMB_WIDTHS:
        w = min(target, width)
        h = max(1, round(height * w / width))
        resized = image if (w, h) == image.size else image.resize((w, h), Image.LANCZOS)
        out = io.BytesIO()
        resized.save(out, "WEBP", quality=80, method=4)
        thumbs.append(Thumb(w, h, out.getvalue()))
    return thumbs


def cover_store(video: VideoNote, *, source: str, data: bytes) -> None:
    """Check ``data`` and make it ``video``'s cover; raises CoverError and then
    leaves the video's current cover as it is."""
    digest = hashlib.sha256(data).hexdigest()
    if digest == video.cover_sha256 and _thumbs_exist(video):
        if video.cover_source != source:
            video.cover_source = source
            video.save(update_fields=["cover_source"])
        return
    small, large = make_thumbnails(data, max_pixels=settings.COVER_MAX_PIXELS)
    old = [f.name for f in (video.cover_small, video.cover_large) if f]
    stem = f"{video.slug or video.pk}-{digest[:12]}"
    video.cover_small.save(f"{stem}-480.webp", ContentFile(small.webp), save=False)
    video.cover_large.save(f"{stem}-960.webp", ContentFile(large.webp), save=False)
    video.cover_small_width, video.cover_small_height = small.width, small.height
    video.cover_large_width, video.cover_large_height = large.width, large.height
    video.cover_source, video.cover_sha256 = source, digest
    # save() sends post_save: the page cache is invalidated (papers/signals.py).
    video.save(
        update_fields=[
            "cover_small",
            "cover_large",
            "cover_small_width",
            "cover_small_height",
            "cover_large_width",
            "cover_large_height",
            "cover_source",
            "cover_sha256",
        ]  # fmt: skip
    )
    for name in old:
        if name not in (video.cover_small.name, video.cover_large.name):
            default_storage.delete(name)


def _thumbs_exist(video: VideoNote) -> bool:
    return all(
        f and default_storage.exists(f.name)
        for f in (video.cover_small, video.cover_large)
    )


def cover_fill_from_url(video: VideoNote, url: str) -> bool:
    """The nightly job: give a video with no cover bilibili's ``pic``. True when
    one was stored; a failure is logged and keeps things as they are."""
    if _thumbs_exist(video):
        return False
    try:
        data = read_source(url, max_bytes=settings.COVER_MAX_BYTES)
        cover_store(video, source=url, data=data)
    except CoverError as exc:
        logger.warning("video #%s: cover %s not stored: %s", video.pk, url, exc)
        return False
    return True


def covers_import(
    *,
    text: str,
    base: str,
    videos: list[VideoNote] | None = None,
    session: requests.Session | None = None,
    deadline: float | None = None,
    clock=None,
) -> CoverReport:
    """Fetch the covers the README ``text`` names, read against ``base`` (its URL or
    file path), for the videos that have a ``cover_path``. Unchanged sources are not
    fetched again. ``deadline`` (a ``clock()`` time) stops early: the rest are left
    for the next import, with one warning."""
    import time

    clock = clock or time.monotonic
    report = CoverReport()
    lines = text.splitlines()
    if videos is None:
        videos = list(VideoNote.objects.exclude(cover_path="").order_by("pk"))
    for index, video in enumerate(videos):
        if deadline is not None and clock() > deadline:
            report.skipped = len(videos) - index
            break
        line = _line_of(lines, video.cover_path)
        where = f"line {line}" if line else "README"
        source = cover_resolve(video.cover_path, base=base)
        if not source:
            report.warnings.append(
                f"{where}: cover {video.cover_path!r} is not a path we follow"
            )
            continue
        if source == video.cover_source and _thumbs_exist(video):
            report.unchanged += 1
            continue
        try:
            report.downloads += 1
            data = read_source(
                source, max_bytes=settings.COVER_MAX_BYTES, session=session
            )
            cover_store(video, source=source, data=data)
        except CoverError as exc:
            report.warnings.append(f"{where}: cover {video.cover_path}: {exc}")
            continue
        report.stored += 1
    return report


def _line_of(lines: list[str], needle: str) -> int | None:
    for number, line in enumerate(lines, start=1):
        if needle in line:
            return number
    return None

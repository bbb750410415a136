"""The locks that keep two runs of a refresh (citations, videos) from overlapping,
across machines.

PostgreSQL: a session-level advisory lock, taken on a connection of its own. It is
not process memory, so it works across workers on several machines, and when a
worker dies its connection closes and the server frees the lock, so a crashed run
never blocks the next night. A connection of its own because advisory locks are
re-entrant within one session (a second ``pg_try_advisory_lock`` on the same
connection would succeed) and because Django may close or replace its own
connection between queries. A session lock needs a real session: behind pgbouncer in
transaction pooling mode, point this job at PostgreSQL directly (or a session pool).
https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS

SQLite (the single-machine development default): an exclusive ``flock`` on a file
under ``var/``; the kernel releases it when the process dies.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

# An arbitrary fixed bigint that names this job's lock; advisory locks are scoped to
# the database, so other databases on the same server do not collide with it.
ADVISORY_LOCK_KEY = 0x2F3B_9C21_6A4D_17E5
LOCK_FILE_NAME = "refresh-citations.lock"
# The video refresh (issue 12) has its own lock: the two refreshes may overlap.
ADVISORY_LOCK_KEYS = {"citations": ADVISORY_LOCK_KEY, "videos": 0x2F3B_9C21_6A4D_17E6}


def lock_file_path(name: str = "citations") -> Path:
    return Path(settings.VAR_DIR) / f"refresh-{name}.lock"


@contextmanager
def refresh_lock(*, using: str = "default", name: str = "citations") -> Iterator[bool]:
    """Try once, without waiting, to take the ``name`` refresh's lock; yield whether
    it was taken. The lock is released on leaving the block."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with _advisory_lock(connection, ADVISORY_LOCK_KEYS[name]) as acquired:
            yield acquired
    else:
        with _file_lock(lock_file_path(name)) as acquired:
            yield acquired


@contextmanager
def _advisory_lock(connection, key: int = ADVISORY_LOCK_KEY) -> Iterator[bool]:
    raw = connection.get_new_connection(connection.get_connection_params())
    try:
        raw.autocommit = True
        with raw.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            acquired = bool(cursor.fetchone()[0])
        try:
            yield acquired
        finally:
            if acquired:
                try:
                    with raw.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
                except Exception:
                    # Closing the connection below frees the lock anyway.
                    logger.warning("could not unlock the refresh lock", exc_info=True)
    finally:
        raw.close()


@contextmanager
def _file_lock(path: Path) -> Iterator[bool]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            acquired = False
        else:
            acquired = True
        try:
            yield acquired
        finally:
            if acquired:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)

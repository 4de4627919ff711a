"""Twilio message ids already received: a captured, validly signed request sent again is
refused. Kept in SQLite (SMS_SEEN_DB, default var/sms_seen.db) for REPLAY_WINDOW_DAYS; in the
production profile, where several Rasa servers share the work, in Redis (REDIS_URL) so that all
of them see every id."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from assistant import paths

REPLAY_WINDOW_DAYS = 30


class SeenMessages:
    def __init__(self) -> None:
        self._redis: Any = None
        self._db = Path(os.environ.get("SMS_SEEN_DB") or paths.VAR / "sms_seen.db")

    def first_time(self, message_id: str) -> bool:
        """Record the id; whether it is new."""
        redis_url = os.environ.get("REDIS_URL")
        if redis_url:
            if self._redis is None:
                import redis

                self._redis = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
            return bool(self._redis.set(f"sms-seen:{message_id}", 1, nx=True, ex=REPLAY_WINDOW_DAYS * 86400))
        self._db.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with sqlite3.connect(self._db, timeout=5) as db:
            db.execute("CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, at REAL NOT NULL)")
            now = time.time()
            new = db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (message_id, now)).rowcount == 1
            if new and now % 100 < 1:  # now and then, forget ids past the window
                db.execute("DELETE FROM seen WHERE at < ?", (now - REPLAY_WINDOW_DAYS * 86400,))
            return new

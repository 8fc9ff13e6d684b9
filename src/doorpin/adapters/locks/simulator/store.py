"""Persistence of the hub: every change is written through to a SQLite file (stdlib `sqlite3`).

The in-memory state in `Hub` answers every read; this file only has to bring it back after a
restart, including one by SIGKILL. WAL with `synchronous=NORMAL` keeps each committed change
through a process crash (not through a power cut, which a simulator does not need).
The file holds PINs in clear, as a lock's memory does: keep it out of doorpin's data directory.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from doorpin.adapters.locks.simulator.model import AccessEvent, Faults, LockConfig, StoredCode, iso, parse_iso

_SCHEMA = """
CREATE TABLE IF NOT EXISTS locks (device_id TEXT PRIMARY KEY, config TEXT NOT NULL, faults TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS codes (
    device_id TEXT NOT NULL, ref TEXT NOT NULL, slot INTEGER NOT NULL, pin TEXT NOT NULL,
    starts_at TEXT, ends_at TEXT, PRIMARY KEY (device_id, ref)
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, device_id TEXT NOT NULL, occurred_at TEXT NOT NULL, result TEXT NOT NULL,
    code_ref TEXT, pin TEXT NOT NULL, reason TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass
class Snapshot:
    locks: dict[str, tuple[LockConfig, Faults]] = field(default_factory=dict)
    codes: list[tuple[str, StoredCode]] = field(default_factory=list)
    events: list[AccessEvent] = field(default_factory=list)
    clock_offset_seconds: float = 0.0


class Store(Protocol):
    def load(self) -> Snapshot: ...
    def save_lock(self, device_id: str, config: LockConfig, faults: Faults) -> None: ...
    def save_code(self, device_id: str, code: StoredCode) -> None: ...
    def delete_code(self, device_id: str, ref: str) -> None: ...
    def append_event(self, event: AccessEvent) -> None: ...
    def save_clock_offset(self, seconds: float) -> None: ...
    def close(self) -> None: ...


class MemoryStore:
    """No persistence: a hub started without `--state` forgets everything when it stops."""

    def load(self) -> Snapshot:
        return Snapshot()

    def save_lock(self, device_id: str, config: LockConfig, faults: Faults) -> None:
        return None

    def save_code(self, device_id: str, code: StoredCode) -> None:
        return None

    def delete_code(self, device_id: str, ref: str) -> None:
        return None

    def append_event(self, event: AccessEvent) -> None:
        return None

    def save_clock_offset(self, seconds: float) -> None:
        return None

    def close(self) -> None:
        return None


class SqliteStore:
    """Write-through store. Callers serialise access (the hub holds its lock around every call)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # autocommit: each statement is its own transaction; the hub thread and the server thread share it
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def load(self) -> Snapshot:
        snapshot = Snapshot()
        for device_id, config, faults in self._db.execute("SELECT device_id, config, faults FROM locks"):
            snapshot.locks[device_id] = (LockConfig.from_dict(json.loads(config)), Faults.from_dict(json.loads(faults)))
        rows = self._db.execute("SELECT device_id, ref, slot, pin, starts_at, ends_at FROM codes ORDER BY slot")
        for device_id, ref, slot, pin, starts_at, ends_at in rows:
            snapshot.codes.append((device_id, StoredCode(ref, slot, pin, parse_iso(starts_at), parse_iso(ends_at))))
        rows = self._db.execute(
            "SELECT seq, device_id, occurred_at, result, code_ref, pin, reason FROM events ORDER BY seq"
        )
        for seq, device_id, occurred_at, result, code_ref, pin, reason in rows:
            occurred = parse_iso(occurred_at)
            assert occurred is not None
            snapshot.events.append(AccessEvent(seq, device_id, occurred, result, code_ref, pin, reason))
        row = self._db.execute("SELECT value FROM meta WHERE key = 'clock_offset_seconds'").fetchone()
        snapshot.clock_offset_seconds = float(row[0]) if row else 0.0
        return snapshot

    def save_lock(self, device_id: str, config: LockConfig, faults: Faults) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO locks (device_id, config, faults) VALUES (?, ?, ?)",
            (device_id, json.dumps(config.to_dict()), json.dumps(faults.to_dict())),
        )

    def save_code(self, device_id: str, code: StoredCode) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO codes (device_id, ref, slot, pin, starts_at, ends_at) VALUES (?, ?, ?, ?, ?, ?)",
            (device_id, code.ref, code.slot, code.pin, iso(code.starts_at), iso(code.ends_at)),
        )

    def delete_code(self, device_id: str, ref: str) -> None:
        self._db.execute("DELETE FROM codes WHERE device_id = ? AND ref = ?", (device_id, ref))

    def append_event(self, event: AccessEvent) -> None:
        self._db.execute(
            "INSERT INTO events (seq, device_id, occurred_at, result, code_ref, pin, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                event.seq,
                event.device_id,
                iso(event.occurred_at),
                event.result,
                event.code_ref,
                event.pin,
                event.reason,
            ),
        )

    def save_clock_offset(self, seconds: float) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('clock_offset_seconds', ?)", (repr(float(seconds)),)
        )

    def close(self) -> None:
        self._db.close()


def open_store(path: str | Path | None) -> Store:
    return MemoryStore() if path is None else SqliteStore(path)

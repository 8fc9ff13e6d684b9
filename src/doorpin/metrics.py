"""Prometheus metrics for background work (HTTP metrics live with the API middleware)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SYNC_COMMANDS = Counter("doorpin_lock_sync_commands_total", "Commands sent to locks", ["provider", "action", "outcome"])
SYNC_QUEUE_DEPTH = Gauge("doorpin_lock_sync_queue_depth", "Lock claims waiting for a command")
SYNC_DRIFT = Counter("doorpin_lock_sync_drift_total", "Differences found by read-back and repaired", ["kind"])
ACTIVATION_LATENESS = Histogram(
    "doorpin_code_activation_lateness_seconds",
    "How late a code reached a lock without native scheduling, after the moment it was due",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
)

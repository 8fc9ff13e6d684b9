"""The webhook job: due outbox rows POSTed, signed, to their subscriptions (being built)."""

from __future__ import annotations

from doorpin.bootstrap import AppServices


def run_webhook_pass(app: AppServices) -> int:
    return 0

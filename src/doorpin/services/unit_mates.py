"""Stays that share a unit's PIN hear of its change, whichever stay's edit caused it.

With `pin_scope: "unit"`, moving one stay's dates (or unit, or booking a new one) can force the
unit's PIN to change when the old one would clash on a shared door: every live stay of the unit
moves to the new code. The use case that edits one stay takes a snapshot of the unit's other
stays first (`before_change`), and afterwards plans the messages of each whose code changed
(`tell_changed`), in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from doorpin.adapters.db.models import Property, Reservation
from doorpin.adapters.pin_vault import PinVault
from doorpin.domain.code_policy import PinScope
from doorpin.services.guest_messages import StaySnapshot, plan_guest_messages, snapshot
from doorpin.services.stay_access import live_stays_of_unit, policy_of

UnitMates = list[tuple[Reservation, StaySnapshot]]


def before_change(session: Session, prop: Property, unit_ids: Iterable[str | None], edited_id: str | None) -> UnitMates:
    """The live stays of these units other than the one being edited, as they are now. Empty where
    PINs belong to stays (`pin_scope: "reservation"`): there, editing one never changes another's."""
    if policy_of(prop).pin_scope != PinScope.UNIT:
        return []
    mates: dict[str, Reservation] = {}
    for unit_id in {u for u in unit_ids if u is not None}:
        for row in live_stays_of_unit(session, prop.account_id, unit_id):
            if row.id != edited_id:
                mates[row.id] = row
    return [(row, snapshot(row)) for _, row in sorted(mates.items())]


def tell_changed(session: Session, vault: PinVault, now: datetime, prop: Property, mates: UnitMates) -> None:
    """Plan the messages of every stay in `mates` whose code changed since its snapshot."""
    for row, before in mates:
        if row.access_code_id != before.access_code_id:
            plan_guest_messages(session, vault, now, row, prop, before)

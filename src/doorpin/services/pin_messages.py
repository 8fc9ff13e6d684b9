"""PUT /v1/reservations/{id}/pin, and the guest messages a new PIN calls for.

Setting a PIN (`pin_setting.set_stay_pin`) may change the PIN of more stays than the one asked
about: with `pin_scope: "unit"` every live stay of the unit moves to the new code. Each stay whose
code changed gets its messages planned in the same transaction (`pin_changed` when its
pre-arrival message already went out; otherwise that scheduled message simply carries the new PIN).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from doorpin.adapters.db.models import Reservation
from doorpin.adapters.pin_vault import PinVault
from doorpin.services import unit_mates
from doorpin.services.clock import Clock
from doorpin.services.guest_messages import snapshot
from doorpin.services.pin_setting import set_stay_pin
from doorpin.services.principal import Principal
from doorpin.services.reservations import property_of


def set_pin_and_notify(
    session: Session, vault: PinVault, clock: Clock, principal: Principal, reservation_id: str, pin: str
) -> Reservation:
    # Looked up quietly: `set_stay_pin` answers for a missing stay, with its own checks in their order.
    stay = session.get(Reservation, (principal.account_id, reservation_id))
    mates: unit_mates.UnitMates = []
    if stay is not None:
        prop = property_of(session, stay)
        mates = [(stay, snapshot(stay)), *unit_mates.before_change(session, prop, [stay.unit_id], stay.id)]
    result = set_stay_pin(session, vault, clock, principal, reservation_id, pin)
    unit_mates.tell_changed(session, vault, clock.now(), property_of(session, result), mates)
    return result

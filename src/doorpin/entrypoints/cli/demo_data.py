"""`doorpin demo`: a small hotel with a common entrance, units with their own doors, and stays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from doorpin.adapters.db.models import Account, Property
from doorpin.bootstrap import AppServices
from doorpin.domain.scopes import Scope, effective_scopes
from doorpin.services import accounts, doors, properties, reservations
from doorpin.services.principal import Principal

DEMO_ACCOUNT = "doorpin demo"
TIMEZONE = "Europe/Lisbon"


@dataclass(frozen=True)
class DemoInfo:
    account_id: str
    property_id: str
    api_key: str
    created: bool


def load_demo(app: AppServices) -> DemoInfo:
    """Create the demo property once; every run issues a fresh admin key for it."""
    with app.db.transaction() as session:
        account = session.scalars(select(Account).where(Account.name == DEMO_ACCOUNT)).first()
        if account is not None:
            prop = session.scalars(select(Property).where(Property.account_id == account.id)).first()
            assert prop is not None
            admin = Principal(account.id, "key_demo", effective_scopes([Scope.ADMIN]), None)
            issued = accounts.create_api_key(session, app.keyring, app.clock, admin, "demo key", [Scope.ADMIN], None)
            return DemoInfo(account.id, prop.id, issued.token, created=False)
        account, issued = accounts.create_account(session, app.keyring, app.clock, DEMO_ACCOUNT)
        admin = Principal(account.id, issued.key.id, effective_scopes([Scope.ADMIN]), None)
        prop = properties.create_property(
            session,
            app.clock,
            admin,
            {"name": "Harbour House", "timezone": TIMEZONE, "door_provider": "keypad"},
        )
        doors.create_lock(session, app.clock, admin, prop.id, {"name": "Main entrance"})
        unit_ids = []
        for number in ("101", "102", "201"):
            # Room keypads keep their own schedule: their codes go out days ahead.
            room_lock = {"name": f"Room {number} door", "capabilities": {"native_scheduling": True}}
            lock = doors.create_lock(session, app.clock, admin, prop.id, room_lock)
            unit = doors.create_unit(session, app.clock, admin, prop.id, f"Room {number}", [lock.id])
            unit_ids.append(unit.id)
        today = app.clock.now().date()
        stays = [
            ("DEMO-1001", unit_ids[0], -1, 2, "IN_HOUSE", "Ana Ferreira", "ana@example.com", "pt"),
            ("DEMO-1002", unit_ids[1], 1, 4, "CONFIRMED", "James Hill", "james@example.com", "en"),
            ("DEMO-1003", unit_ids[2], 7, 10, "CONFIRMED", "Lea Schmidt", "lea@example.com", "de"),
        ]
        for ref, unit_id, start, end, status, name, email, language in stays:
            reservations.create_reservation(
                session,
                app.clock,
                app.vault,
                admin,
                {
                    "property_id": prop.id,
                    "external_ref": ref,
                    "unit_id": unit_id,
                    "status": status,
                    "check_in": today + timedelta(days=start),
                    "check_out": today + timedelta(days=end),
                    "guest": {"name": name, "email": email, "language": language},
                },
            )
        return DemoInfo(account.id, prop.id, issued.token, created=True)

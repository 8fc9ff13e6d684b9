"""The `.ics` attachment of a stay's email: the stay as one calendar event.

It never carries the PIN nor the guest-page link (calendars are synced and shared far more
widely than a mailbox): only the dates, the property and a title.
"""

from __future__ import annotations

from datetime import datetime

import icalendar

from doorpin.adapters.messaging.base import Attachment

PRODID = "-//doorpin//guest messages//EN"


def stay_event(
    *, uid: str, summary: str, location: str, check_in: datetime, check_out: datetime, stamp: datetime
) -> Attachment:
    """A PUBLISH calendar with one event from check-in to check-out (as UTC instants)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", check_in)
    event.add("dtend", check_out)
    event.add("summary", summary)
    event.add("location", location)
    event.add("transp", "TRANSPARENT")
    calendar.add_component(event)
    return Attachment("stay.ics", "text/calendar; method=PUBLISH", calendar.to_ical())

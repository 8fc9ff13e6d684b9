"""A simulated network keypad lock hub: many locks with slots, code lengths, native scheduling,
a keypad with lockout, access events, persistence and fault injection (docs/keypad-simulator.md).

`doorpin simulate-locks` serves it; `start_hub_in_thread` runs one in-process on a free port.
"""

from doorpin.adapters.locks.simulator.app import create_app
from doorpin.adapters.locks.simulator.client import HubClient, HubClientError
from doorpin.adapters.locks.simulator.server import RunningHub, serve_hub, start_hub_in_thread
from doorpin.adapters.locks.simulator.state import Hub

__all__ = ["Hub", "HubClient", "HubClientError", "RunningHub", "create_app", "serve_hub", "start_hub_in_thread"]

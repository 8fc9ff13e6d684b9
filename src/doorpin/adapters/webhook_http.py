"""POSTing one signed webhook body over HTTP, and what came of it.

Redirects are not followed (a 3xx is a failure: the receiver must give its final URL), and the
answer's body is never read beyond a short excerpt for the delivery log.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from doorpin import __version__

TIMEOUT_SECONDS = 10.0
USER_AGENT = f"doorpin-webhooks/{__version__}"
_EXCERPT_BYTES = 160


@dataclass(frozen=True)
class PostResult:
    status_code: int | None  # None: no HTTP answer at all
    error: str | None  # why it counts as a failure; None on a 2xx
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _excerpt(response: httpx.Response) -> str:
    read = b""
    for chunk in response.iter_bytes():
        read += chunk
        if len(read) >= _EXCERPT_BYTES:
            break
    return read[:_EXCERPT_BYTES].decode("utf-8", errors="replace")


def _failure(response: httpx.Response) -> str:
    status = response.status_code
    if 300 <= status < 400:
        return f"the receiver answered {status} (a redirect, which is not followed)"
    excerpt = " ".join(_excerpt(response).split())
    return f"the receiver answered {status}" + (f": {excerpt}" if excerpt else "")


class WebhookPoster:
    """One HTTP client for a pass of the webhook job (connections to a receiver are reused)."""

    def __init__(self, timeout: float = TIMEOUT_SECONDS) -> None:
        self._timeout = timeout
        self._client = httpx.Client(timeout=timeout, follow_redirects=False, headers={"User-Agent": USER_AGENT})

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> PostResult:
        started = time.monotonic()

        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            with self._client.stream("POST", url, content=body, headers=dict(headers)) as response:
                if response.is_success:
                    return PostResult(response.status_code, None, elapsed())
                return PostResult(response.status_code, _failure(response), elapsed())
        except httpx.TimeoutException:
            return PostResult(None, f"no answer within {self._timeout:g} s", elapsed())
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:  # ValueError: IDNA
            # The exception's text may quote the URL (and a token in it): only its kind is kept.
            return PostResult(None, f"could not reach the receiver ({type(exc).__name__})", elapsed())

    def close(self) -> None:
        self._client.close()

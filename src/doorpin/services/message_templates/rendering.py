"""Rendering guest messages: Jinja2 in a sandbox, with strict placeholders and a work budget.

Templates are written by operators, so they run in Jinja's `SandboxedEnvironment` (no access to
Python internals), fail on an unknown placeholder (`StrictUndefined`) instead of sending a blank,
and get a bounded amount of work: a template that loops too long or builds a huge string is
stopped with an error, never left to hang the worker.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import FrameType
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from doorpin.domain.message_dates import format_day, format_moment, format_time

MAX_SOURCE_CHARS = 20_000
MAX_OUTPUT_CHARS = 100_000
MAX_SEQUENCE = 10_000  # longest string or list a template may build with `*`
LINE_BUDGET = 200_000  # template lines executed per render
PLACEHOLDERS = (
    "guest_name",
    "pin",
    "doors",
    "window_start",
    "window_end",
    "window_start_date",
    "window_start_time",
    "window_end_date",
    "window_end_time",
    "timezone",
    "property_name",
    "guest_page_url",
    "reason",
    "language",
)


@dataclass(frozen=True)
class TemplateSet:
    """The parts of one template: email has all three (html optional), SMS/WhatsApp only text."""

    subject: str | None
    text: str
    html: str | None


@dataclass(frozen=True)
class MessageContext:
    guest_name: str
    pin: str
    doors: tuple[str, ...]
    window_start: datetime  # in the property's time zone
    window_end: datetime | None
    timezone: str
    property_name: str
    guest_page_url: str
    reason: str
    language: str  # the template's language: dates are written in it

    def variables(self) -> dict[str, Any]:
        end = self.window_end
        return {
            "guest_name": self.guest_name,
            "pin": self.pin,
            "doors": list(self.doors),
            "window_start": format_moment(self.window_start, self.language),
            "window_end": format_moment(end, self.language) if end else "",
            "window_start_date": format_day(self.window_start, self.language),
            "window_start_time": format_time(self.window_start),
            "window_end_date": format_day(end, self.language) if end else "",
            "window_end_time": format_time(end) if end else "",
            "timezone": self.timezone,
            "property_name": self.property_name,
            "guest_page_url": self.guest_page_url,
            "reason": self.reason,
            "language": self.language,
        }


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


@dataclass(eq=False)
class TemplateRenderError(Exception):
    """A template that cannot be parsed or rendered; `part` is subject, text or html."""

    part: str
    message: str

    def __str__(self) -> str:
        return f"{self.part}: {self.message}"


def _too_big_power(base: Any, exponent: Any) -> bool:
    if not (isinstance(base, int | float) and isinstance(exponent, int | float)):
        return False
    return abs(exponent) > 100 or abs(base) > 10**100


class _Sandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _too_big_power(left, right):
            raise SecurityError("powers with an exponent above 100 or a base above 10**100 are not allowed")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(count, int) and len(seq) * count > MAX_SEQUENCE:
                    raise SecurityError(f"templates may not build strings or lists longer than {MAX_SEQUENCE}")
        return super().call_binop(context, operator, left, right)


def _environment(autoescape: bool) -> _Sandbox:
    env = _Sandbox(autoescape=autoescape, undefined=StrictUndefined, keep_trailing_newline=True)
    env.globals.pop("lipsum", None)  # no use in a message, and it is work on demand
    return env


_TEXT_ENV = _environment(autoescape=False)
_HTML_ENV = _environment(autoescape=True)


def _budgeted(render: Callable[[], str]) -> str:
    """Run `render` counting the template's executed lines (this thread only); stop it past the budget."""
    left = LINE_BUDGET

    def local(frame: FrameType, event: str, _arg: Any) -> Any:
        nonlocal left
        if event == "line":
            left -= 1
            if left < 0:
                raise SecurityError("the template does too much work (a loop too long?)")
        return local

    def tracer(frame: FrameType, _event: str, _arg: Any) -> Any:
        return local if frame.f_code.co_filename == "<template>" else None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        return render()
    finally:
        sys.settrace(previous)


def render_part(part: str, source: str, variables: Mapping[str, Any], *, html_part: bool = False) -> str:
    if len(source) > MAX_SOURCE_CHARS:
        raise TemplateRenderError(part, f"the template is longer than {MAX_SOURCE_CHARS} characters")
    env = _HTML_ENV if html_part else _TEXT_ENV
    try:
        template = env.from_string(source)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        raise TemplateRenderError(part, f"line {line}: {exc.message}" if line else str(exc.message)) from None
    except (RecursionError, MemoryError):
        raise TemplateRenderError(part, "the template is nested too deeply") from None
    try:
        output = _budgeted(lambda: template.render(**variables))
    except Exception as exc:  # operator-written code: whatever it raises is the template's problem
        raise TemplateRenderError(part, f"cannot be rendered: {type(exc).__name__}: {exc}"[:500]) from None
    if len(output) > MAX_OUTPUT_CHARS:
        raise TemplateRenderError(part, f"renders to more than {MAX_OUTPUT_CHARS} characters")
    return output


def text_as_html(text: str, language: str) -> str:
    """The HTML part of an email whose template has none: the text, escaped, line for line."""
    body = "<br>\n".join(html.escape(line) for line in text.splitlines())
    return f'<!doctype html>\n<html lang="{html.escape(language)}"><body><p>{body}</p></body></html>\n'


def render(templates: TemplateSet, context: MessageContext, channel: str) -> Rendered:
    """The message for `channel`: subject, text and HTML for email; text only otherwise."""
    variables = context.variables()
    text = render_part("text", templates.text, variables)
    if channel != "email":
        return Rendered("", text.strip(), None)
    subject = " ".join(render_part("subject", templates.subject or "", variables).split())
    if not subject:
        raise TemplateRenderError("subject", "renders to an empty subject")
    if templates.html is None:
        return Rendered(subject, text, text_as_html(text, context.language))
    return Rendered(subject, text, render_part("html", templates.html, variables, html_part=True))

"""PIN format, strength and generation rules.

Nothing here logs, stores or echoes a PIN: error and warning messages describe the problem, never
the value (a message may end up in a log, an API response or a support ticket).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Final

from doorpin.domain.code_policy import (
    MAX_PIN_LENGTH,
    MIN_PIN_LENGTH,
    CodePolicy,
    WeakPinPolicy,
)
from doorpin.domain.errors import DomainError

PIN_DIGITS: Final = "0123456789"
"""The only characters a PIN may contain. `str.isdigit()` also accepts "١٢٣٤" or "１２３４"."""

GENERATION_ATTEMPTS: Final = 1000
"""How many candidates `generate_pin` draws before giving up with `code_space_exhausted`."""

_COMMON_PINS_BY_SOURCE: Final[dict[str, str]] = {
    # DataGenetics "PIN analysis" (3.4 million leaked 4-digit codes), its top 20 in order.
    "datagenetics top 20": """
        1234 1111 0000 1212 7777 1004 2000 4444 2222 6969 9999 3333 5555 6666 1122 1313
        8888 4321 2001 1010
    """,
    # What leaked-PIN rankings place right after them: keypad shapes (2580, 0852, 1470, 7410,
    # 8520, 3690, 1397), pairs, mirrors, short runs inside the code, 5150, 0007, 1337, ...
    "4-digit, next most common": """
        0909 2580 0007 1818 1230 0070 0987 1000 1231 2468 2323 0123 1123 1233 1357 1221
        1324 2112 2121 5150 1024 1112 1224 1225 1235 1001 7410 1020 1223 1029 1121 1213
        2020 2345 2424 2525 1515 0001 1023 1414 9876 0101 0907 1245 8520 4545 1318 5678
        1011 1124 1211 4200 4567 1007 1012 1025 1120 1125 1214 1236 7942 0420 3535 7890
        1717 1919 5252 0202 3232 0852 1470 0147 0258 0369 3690 1397 1590 3579 8008 0911
        9111 1100 1900 2002 6789 3456 0808 9090 5050 3030 7070 0099 0666 1337 4711
    """,
    "5-digit": "12345 54321 11111 00000 13579 24680 12321 11223 55555 99999 10101 12312",
    # Keypad shapes (159753, 147258, 258369, 741852, ...), runs, mirrors, doubled halves.
    "6-digit": """
        123456 654321 111111 121212 123123 112233 696969 159753 147258 258369 102030
        520520 131313 000000 123321 666666 777777 888888 999999 222222 333333 444444
        555555 987654 456789 147852 159357 789456 741852 852963 963852 123654 101010
        202020 121314 100200 110110 123789 142536 000001 012345 112211 332211 007007
        321321 456456 789789 135790 246810 102938 753951 951753 134679 420420 292929
    """,
    "7-digit": "1234567 7654321 1111111 8675309 0000000 1212121",
    "8-digit": """
        12345678 87654321 11111111 00000000 12121212 11223344 12344321 88888888
        01234567 98765432 12341234 11112222 19871987 20002000 13579246 24682468
    """,
}

COMMON_PINS: Final[frozenset[str]] = frozenset(
    pin for group in _COMMON_PINS_BY_SOURCE.values() for pin in group.split()
)
"""Most common PINs (beyond what the pattern rules catch). 4-digit years 1900–2099 are also common
(see `weakness`); they are matched by rule rather than listed."""

_WEAKNESS_MESSAGES: Final[dict[str, str]] = {
    "repeated_digit": "The PIN is one digit repeated; it is among the first codes anyone tries.",
    # No example PINs in messages: an example could be the very PIN being judged.
    "sequence": "The PIN is a run of consecutive digits, counting up or down; "
    "it is among the first codes anyone tries.",
    "repeated_pattern": "The PIN repeats a shorter block of digits; it is easy to guess.",
    "common": "The PIN is one of the most commonly chosen PINs (or looks like a year); it is easy to guess.",
}


@dataclass(frozen=True)
class AccessWarning:
    """A non-fatal remark about a stay's access, shown in `access.warnings` (e.g. `pin_weak`)."""

    code: str
    message: str


def allowed_pin_lengths(lock_code_lengths: Iterable[Collection[int] | None]) -> frozenset[int]:
    """The PIN lengths that every lock accepts, within `MIN_PIN_LENGTH`..`MAX_PIN_LENGTH`.

    Pass one entry per lock the PIN opens: that lock's `capabilities.code_lengths`, or `None` /
    an empty collection when the lock declares no restriction. No locks → every length 4–8.
    """
    allowed = frozenset(range(MIN_PIN_LENGTH, MAX_PIN_LENGTH + 1))
    for lengths in lock_code_lengths:
        if lengths:
            allowed &= frozenset(lengths)
    return allowed


def validate_pin_format(pin: str, allowed_lengths: Collection[int]) -> None:
    """Check that `pin` is only ASCII digits `0-9` and has an allowed length.

    Spaces (anywhere), signs, letters and non-ASCII digits (Arabic-Indic "١٢٣٤", full-width
    "１２３４", superscript "²³⁴⁵") are refused. Lengths outside 4–8 are never allowed, whatever
    `allowed_lengths` says. Raises `DomainError("pin_invalid_format", ..., field="pin")`; the
    message never contains the PIN.
    """
    if not isinstance(pin, str) or pin == "":
        raise _format_error("A PIN is required: 4 to 8 digits.")
    if not _is_ascii_digits(pin):
        raise _format_error("A PIN may contain only the digits 0-9, with no spaces, signs or other characters.")
    lengths = sorted(n for n in set(allowed_lengths) if MIN_PIN_LENGTH <= n <= MAX_PIN_LENGTH)
    if not lengths:
        raise _format_error("No PIN length is accepted by every door this PIN would open.")
    if len(pin) not in lengths:
        raise _format_error(f"The PIN must be {_describe_lengths(lengths)} digits long.")


def weakness(pin: str) -> str | None:
    """Why `pin` is weak, or None. The first matching rule wins, in this order:

    - `"repeated_digit"`: one digit repeated (`0000`, `777777`).
    - `"sequence"`: every digit is one more than the previous (`1234`, `012345`, `3456`) or one
      less (`987654`, `98765432`). Wrapping around is not a run: `7890` and `8901` are not
      sequences (`7890` is weak anyway, as a common PIN).
    - `"repeated_pattern"`: the whole PIN is a shorter block repeated (`1212`, `121212`,
      `123123`, `12341234`). `1122` is *not* a repetition (blocks `11`, `22` differ); it is weak
      because it is in `COMMON_PINS`.
    - `"common"`: in `COMMON_PINS`, or a 4-digit year `1900`–`2099`.

    `pin` must already have passed `validate_pin_format` (ASCII digits); otherwise ValueError.
    """
    if pin == "" or not _is_ascii_digits(pin):
        raise ValueError("weakness() needs a PIN of ASCII digits; validate the format first")
    if len(set(pin)) == 1:
        return "repeated_digit"
    steps = {int(b) - int(a) for a, b in pairwise(pin)}
    if steps in ({1}, {-1}):
        return "sequence"
    if any(len(pin) % size == 0 and pin == pin[:size] * (len(pin) // size) for size in range(1, len(pin) // 2 + 1)):
        return "repeated_pattern"
    if pin in COMMON_PINS or (len(pin) == 4 and pin[:2] in ("19", "20")):
        return "common"
    return None


def check_strength(pin: str, policy: CodePolicy) -> list[AccessWarning]:
    """Apply the policy's `weak_pins` rule to a custom PIN (format already checked).

    Strong PIN → `[]`. Weak PIN → `DomainError("pin_too_weak", field="pin")` under `reject`, or a
    single `AccessWarning("pin_weak", ...)` under `warn`.
    """
    reason = weakness(pin)
    if reason is None:
        return []
    message = _WEAKNESS_MESSAGES[reason]
    if policy.weak_pins is WeakPinPolicy.REJECT:
        raise DomainError("pin_too_weak", f"{message} Choose a less predictable PIN.", "pin")
    return [AccessWarning("pin_weak", message)]


def generate_pin(
    length: int,
    rng: secrets.SystemRandom | None = None,
    avoid: Callable[[str], bool] | None = None,
) -> str:
    """A new PIN of `length` ASCII digits, uniform over the non-weak ones (leading zeros included).

    Drawn from the operating system's CSPRNG and from nothing else: no reservation data, name,
    date or phone number goes in. Weak candidates, and candidates for which `avoid(pin)` is true
    (e.g. already in use on a shared lock), are discarded and redrawn. After
    `GENERATION_ATTEMPTS` discarded draws it raises `DomainError("code_space_exhausted")` instead
    of looping forever.
    """
    if isinstance(length, bool) or not MIN_PIN_LENGTH <= length <= MAX_PIN_LENGTH:
        raise ValueError(f"PIN length must be between {MIN_PIN_LENGTH} and {MAX_PIN_LENGTH}")
    source = rng if rng is not None else secrets.SystemRandom()
    for _ in range(GENERATION_ATTEMPTS):
        pin = f"{source.randrange(10**length):0{length}d}"
        if weakness(pin) is None and not (avoid is not None and avoid(pin)):
            return pin
    raise DomainError(
        "code_space_exhausted",
        f"No free {length}-digit PIN was found; use longer PINs or fewer active codes.",
    )


def _is_ascii_digits(value: str) -> bool:
    return all(char in PIN_DIGITS for char in value)


def _describe_lengths(lengths: list[int]) -> str:
    if len(lengths) == 1:
        return str(lengths[0])
    if lengths == list(range(lengths[0], lengths[-1] + 1)):
        return f"{lengths[0]} to {lengths[-1]}"
    return ", ".join(str(n) for n in lengths[:-1]) + f" or {lengths[-1]}"


def _format_error(message: str) -> DomainError:
    return DomainError("pin_invalid_format", message, field="pin")

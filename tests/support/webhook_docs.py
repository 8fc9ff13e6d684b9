"""The signature check published in docs/webhooks.md, loaded from the page itself.

Tests verify real deliveries with this code, so the page cannot drift from what doorpin sends.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
MARKER = "<!-- verify-snippet:"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)

Verifier = Callable[..., bool]


def verification_snippet() -> str:
    """The first python block after the marker comment."""
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(MARKER)
    match = _BLOCK.search(text, start)
    assert match is not None, "no python block after the verify-snippet marker"
    return match.group(1)


def snippet_imports(code: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
    return names


def documented_verifier() -> Verifier:
    namespace: dict[str, object] = {}
    exec(compile(verification_snippet(), str(PAGE), "exec"), namespace)
    verify = namespace["verify_signature"]
    assert callable(verify)
    return verify

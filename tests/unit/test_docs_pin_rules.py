"""The examples in docs/pin-rules.md run, and print what the page says they print."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "pin-rules.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def doctest_blocks() -> list[tuple[int, str]]:
    """(line number of the block's first line in the page, block text) for blocks with `>>>`."""
    text = PAGE.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, match.start(1)), match.group(1))
        for match in BLOCK.finditer(text)
        if ">>>" in match.group(1)
    ]


def test_page_has_examples() -> None:
    assert len(doctest_blocks()) >= 4


def test_every_python_block_is_a_doctest() -> None:
    # A block without >>> would silently never run.
    assert all(">>>" in block for block in BLOCK.findall(PAGE.read_text(encoding="utf-8")))


def test_examples_run() -> None:
    # One shared namespace, in page order: later blocks may use names from earlier ones.
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    namespace: dict[str, object] = {}
    for number, (line, block) in enumerate(doctest_blocks(), start=1):
        name = f"pin-rules.md block {number}"
        test = parser.get_doctest(block, namespace, name, str(PAGE), line)
        runner.run(test, clear_globs=False)
        namespace.update(test.globs)
    results = runner.summarize(verbose=False)
    assert results.attempted > 10
    if results.failed:
        pytest.fail(f"{results.failed} example(s) in {PAGE.name} failed; see the output above")

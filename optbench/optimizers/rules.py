"""The update rules as docs/optimizers.md writes them, read from that page at the moment of use.

docs/optimizers.md is the one place the rules are written down: each optimizer's section holds
a code block fenced as ```` ```torch ```` and one as ```` ```keras ````, line by line the
arithmetic of the kernel under each preset. ``optbench explain`` prints those blocks instead
of keeping a second copy here that could drift from the page. Lines that are not written the
same way in both blocks (ignoring spacing) are the lines where the conventions differ.

The page ships beside the package: in a checkout (and an editable install) it is the
repository's ``docs/optimizers.md``; an installed wheel carries it as data under
``share/optbench/docs/``.
"""

from __future__ import annotations

import difflib
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from optbench.errors import OptbenchError

DOC_NAME = "optimizers.md"
CONVENTIONS = ("torch", "keras")

_INDEX_ROW = re.compile(r"^\| `([A-Za-z0-9_-]+)` \|.*\[([^\]]+)\]\(#[\w-]+\) \|\s*$", re.M)
_HEADING = re.compile(r"^## (.+?)\s*$", re.M)
_BLOCK = re.compile(r"^```(torch|keras)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
_DIFFER = re.compile(r"^\*\*How they differ[.:]?\*\*[.:]?[ \t]*(.*?)(?=^\||^Paper|\Z)", re.M | re.S)
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_EMPHASIS = re.compile(r"\*\*|`|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])")


@dataclass(frozen=True)
class RuleLine:
    """One line of a rule, and whether the other convention writes it differently."""

    text: str
    differs: bool


@dataclass(frozen=True)
class Rules:
    """An optimizer's update rule under each convention, from its section of the page."""

    optimizer: str
    section: str
    lines: dict[str, tuple[RuleLine, ...]]
    differences: str = ""
    """The section's "How they differ" text, as plain text (empty where it has none)."""

    @property
    def identical(self) -> bool:
        """True when both conventions compute with the same rule (only defaults differ)."""
        return not any(line.differs for block in self.lines.values() for line in block)


def doc_path() -> Path:
    """Where docs/optimizers.md is: the checkout's, else the copy installed as package data."""
    candidates = [
        Path(__file__).resolve().parents[2] / "docs" / DOC_NAME,
        Path(sys.prefix) / "share" / "optbench" / "docs" / DOC_NAME,
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise OptbenchError(
        f"docs/{DOC_NAME} (the update rules) was not found beside this installation; "
        "reinstall optbench from its source"
    )


def _normalised(line: str) -> str:
    return " ".join(line.split())


def _marked(torch: list[str], keras: list[str]) -> dict[str, tuple[RuleLine, ...]]:
    """Both blocks with each line flagged when it has no equal line in the other (in order)."""
    same_torch, same_keras = set(), set()
    matcher = difflib.SequenceMatcher(
        None, [_normalised(x) for x in torch], [_normalised(x) for x in keras], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            same_torch.update(range(i1, i2))
            same_keras.update(range(j1, j2))
    return {
        "torch": tuple(RuleLine(t, i not in same_torch) for i, t in enumerate(torch)),
        "keras": tuple(RuleLine(k, j not in same_keras) for j, k in enumerate(keras)),
    }


def _plain(markdown: str, width: int = 96) -> str:
    """Markdown prose as wrapped plain text: emphasis, code marks and link targets dropped,
    bullets kept."""
    items: list[list[str]] = []
    for line in markdown.strip().splitlines():
        bullet = line.startswith("* ")
        if not line.strip():
            items.append([])
        elif bullet or not items:
            items.append([line])
        else:
            items[-1].append(line)
    out = []
    for item in filter(None, items):
        text = _EMPHASIS.sub("", _LINK.sub(r"\1", " ".join(part.strip() for part in item)))
        bullet = text.startswith("- ") or item[0].startswith("* ")
        text = text.removeprefix("- ").removeprefix("* ") if bullet else text
        out.append(
            textwrap.fill(
                text,
                width,
                initial_indent="  - " if bullet else "  ",
                subsequent_indent="    " if bullet else "  ",
            )
        )
    return "\n".join(out)


def parse_rules(text: str) -> dict[str, Rules]:
    """Every optimizer the page's index table lists, with the two blocks of its section.

    A listed optimizer whose section is missing, or lacks one of the two blocks or has two of
    one, is an error naming it: the page is the source, so a broken page must not pass quietly.
    """
    headings = list(_HEADING.finditer(text))
    sections = {}
    for number, heading in enumerate(headings):
        end = headings[number + 1].start() if number + 1 < len(headings) else len(text)
        sections[heading.group(1)] = text[heading.end() : end]
    found = {}
    for row in _INDEX_ROW.finditer(text):
        name, title = row.group(1), row.group(2)
        if title not in sections:
            raise OptbenchError(f"docs/{DOC_NAME}: '{name}' points to a missing section '{title}'")
        blocks: dict[str, list[list[str]]] = {c: [] for c in CONVENTIONS}
        for block in _BLOCK.finditer(sections[title]):
            blocks[block.group(1)].append(block.group(2).rstrip("\n").split("\n"))
        counts = {c: len(b) for c, b in blocks.items()}
        if counts != dict.fromkeys(CONVENTIONS, 1):
            raise OptbenchError(
                f"docs/{DOC_NAME}: section '{title}' needs one torch and one keras block "
                f"for '{name}', found {counts}"
            )
        differ = _DIFFER.search(sections[title])
        found[name] = Rules(
            name,
            title,
            _marked(blocks["torch"][0], blocks["keras"][0]),
            _plain(differ.group(1)) if differ else "",
        )
    return found


def all_rules() -> dict[str, Rules]:
    """The rules of every optimizer docs/optimizers.md documents."""
    return parse_rules(doc_path().read_text(encoding="utf-8"))


def rules_for(name: str) -> Rules | None:
    """``name``'s rules, or None for an optimizer the page does not document (a user's own)."""
    return all_rules().get(name)

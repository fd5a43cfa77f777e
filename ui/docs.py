"""The model's documentation as the app shows it (docs/odd.md, rendered by Streamlit)."""

from __future__ import annotations

import re
from pathlib import Path

from ui.library import ROOT

ODD = ROOT / "docs" / "odd.md"
VALIDATION = ROOT / "docs" / "VALIDATION.md"


# The page (its url path in `ui.app`) that shows each document. The documents link to each other
# by file name, which the app does not serve: in the app, such a link opened "Page not found"
# over the Explore page; it goes to the page that shows the document instead.
SHOWN_ON = {ODD.name: "model", VALIDATION.name: "validation"}
DOCUMENT_LINK = re.compile(r"(?<!!)\[([^\]]*)\]\((" + "|".join(map(re.escape, SHOWN_ON))
                           + r")(#[^)]*)?\)")


def clean(text: str) -> str:
    """Markdown for Streamlit: no HTML comments (the generated tables' markers), no LaTeX, and
    links to a document to the page that shows it."""
    text = DOCUMENT_LINK.sub(lambda m: f"[{m[1]}]({SHOWN_ON[m[2]]})", text)
    return escape_dollars(re.sub(r"<!--.*?-->\n?", "", text, flags=re.S))


FIGURE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")


def with_figures(text: str, folder: Path) -> list[str | Path]:
    """A document as the markdown between its figures and each figure's file: a figure is a
    file next to the document, which the app does not serve, so Markdown's image would be
    broken; the page draws the file instead."""
    return [folder / part if i % 2 else part for i, part in enumerate(FIGURE.split(text))]


def escape_dollars(text: str) -> str:
    """Streamlit reads $...$ as LaTeX; the document's dollars are money. Code is left alone."""
    parts = re.split(r"(```.*?```|`[^`\n]*`)", text, flags=re.S)
    return "".join(p if p.startswith("`") else p.replace("$", r"\$") for p in parts)


def sections(text: str) -> list[tuple[str, str]]:
    """(title, markdown) of each top-level section; the first is the introduction."""
    out = []
    for chunk in re.split(r"^(?=## )", text, flags=re.M):
        title = chunk.splitlines()[0].lstrip("# ").strip() if chunk.startswith("## ") else (
            "Introduction")
        out.append((title, clean(chunk)))
    return out


def section(text: str, title: str) -> str:
    """The body of one top-level section, without its heading ('' if absent)."""
    for name, body in sections(text):
        if name == title:
            return body.split("\n", 1)[1] if "\n" in body else ""
    return ""

"""A strict reading of the pages the tool writes, without a browser (tests and fuzz targets).

Why: whatever a capture holds, a page must stay well formed (every element closed in order),
use only the kit's own elements and attributes (no script, no event handler, no fetchable
``src``), and carry the Content-Security-Policy.  The parse also hands the tests what the page
says (its text, the elements with ``data-*`` facts) to compare with the JSON.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser

#: every element the kit writes (htmlkit, htmlchart, htmlreport, htmlvmcore)
KIT_TAGS = frozenset({
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "h4", "p", "div", "span", "strong", "code",
    "a", "section", "article", "footer", "table", "caption", "thead", "tbody", "tr", "th", "td", "dl", "dt", "dd",
    "ul", "ol", "li", "figure", "figcaption", "pre",
    "svg", "g", "line", "polyline", "circle", "text",  # inline SVG (its <title> is the tooltip)
})
_VOID = frozenset({"meta", "br", "hr", "img", "col", "wbr"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4"})
_SVG_SELF_CLOSING = frozenset({"line", "polyline", "circle"})
KIT_ATTRS = frozenset({
    "class", "id", "href", "title", "style", "lang", "charset", "http-equiv", "content", "name", "scope", "role",
    "aria-label", "rel", "data-line", "data-rule", "data-severity", "data-boot", "data-series", "xmlns", "viewbox",
    "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "fill", "stroke", "stroke-width", "stroke-dasharray", "points",
    "text-anchor", "transform",
})


@dataclass
class Page:
    """What a strict parse of one page found."""

    tags: Counter = field(default_factory=Counter)
    text: list[str] = field(default_factory=list)
    data: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (tag, attrs) of elements with data-*
    hrefs: list[str] = field(default_factory=list)
    csp: str | None = None
    headings: list[tuple[str, str]] = field(default_factory=list)  # (h1..h4, its text), in order

    @property
    def all_text(self) -> str:
        return "".join(self.text)

    def with_data(self, name: str) -> list[dict[str, str]]:
        return [attrs for _, attrs in self.data if name in attrs]


class _Strict(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.ids: set[str] = set()
        self.heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.page.tags[tag] += 1
        values = {k: v or "" for k, v in attrs}
        if tag not in KIT_TAGS and not (tag == "title" and "svg" in self.stack):
            self.problems.append(f"element <{tag}> is not one the kit writes")
        for name, value in values.items():
            if name not in KIT_ATTRS:
                self.problems.append(f"attribute {name}= on <{tag}> is not one the kit writes")
            if name == "href":
                self.page.hrefs.append(value)
                if not (value.startswith("#") or value.startswith(("http://", "https://"))):
                    self.problems.append(f"href {value!r} is neither a fragment nor an http(s) link")
            if name == "style" and ("url(" in value.lower() or "@import" in value.lower()):
                self.problems.append(f"style {value!r} could fetch")
        if "id" in values:
            if values["id"] in self.ids:
                self.problems.append(f"id {values['id']!r} used twice")
            self.ids.add(values["id"])
        if tag == "meta" and values.get("http-equiv") == "Content-Security-Policy":
            self.page.csp = values.get("content")
        if any(k.startswith("data-") for k in values):
            self.page.data.append((tag, values))
        if tag in _HEADINGS:
            self.heading = []
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            if tag not in _SVG_SELF_CLOSING:
                self.problems.append(f"<{tag}/> self-closed outside SVG")
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
            return
        self.stack.pop()
        if tag in _HEADINGS and self.heading is not None:
            self.page.headings.append((tag, " ".join("".join(self.heading).split())))
            self.heading = None

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] not in ("style", "title"):
            self.page.text.append(data)
            if self.heading is not None:
                self.heading.append(data)


def check_page(text: str) -> Page:
    """Parse a page strictly; AssertionError naming the first problems when it is not the kit's.

    Also: ids are unique and every in-page link leads to an element.
    """
    assert text.startswith("<!DOCTYPE html>"), "no doctype"
    parser = _Strict()
    parser.feed(text)
    parser.close()
    if parser.stack:
        parser.problems.append(f"unclosed: {parser.stack}")
    parser.problems += [f"link {href} leads to no element" for href in parser.page.hrefs
                        if href.startswith("#") and href[1:] not in parser.ids]
    assert not parser.problems, "; ".join(parser.problems[:5])
    assert parser.page.csp and "default-src 'none'" in parser.page.csp, "no Content-Security-Policy"
    return parser.page


def check_fragment(markup: str) -> Page:
    """The same checks for a piece of a page (no doctype, no CSP)."""
    parser = _Strict()
    parser.feed(markup)
    parser.close()
    assert not parser.problems and not parser.stack, "; ".join(parser.problems[:5]) or f"unclosed {parser.stack}"
    return parser.page

"""A small kit for self-contained HTML pages: hostile text in, inert markup out.

Why: a capture is hostile text (a log line may hold ``<script>``, a file name ``"><img ...>``),
and a page a support engineer opens from a ticket must neither run nor fetch anything.  Every
piece here escapes what it is given unless it is already :class:`Html`, and :func:`document`
writes one file with its stylesheet inline, no script, and a Content-Security-Policy that
forbids scripts and every request (``default-src 'none'``), so even a mistake in escaping would
stay inert.  Nothing needs JavaScript; the page prints (see :mod:`htmlstyle`).

API (all return :class:`Html` except :func:`document`, which returns the page as ``str``):

``Html``                     a ``str`` that is markup already; anything else passed to a piece
                             is text and gets escaped
``esc(value)``               text for HTML: ``& < > " '`` escaped, control characters shown as
                             ``\\xNN``, lone surrogates as U+FFFD
``render(value)``            Html as is, None as nothing, a list/tuple joined, the rest ``esc``
``tag(name, *children, **attrs)``  one element; ``class_`` for class, ``None`` attrs dropped,
                             ``True`` for a bare attribute; attribute values escaped
``badge(text, tone)``        a coloured label (tones: :data:`htmlstyle.TONES`)
``Card(label, value, note, tone)``, ``cards(items)``  the summary cards at the top of a page
``banner(*children, tone)``  a highlighted paragraph (root cause, input errors)
``section(title, *children, id=None)``  an ``h2`` section
``kv(pairs)``                a definition list of (label, value) pairs, None values skipped
``table(headers, rows, caption=None, numeric=())``  a table; ``numeric`` are column indexes
                             aligned right
``log_lines(rows, highlight=())``  evidence lines: ``rows`` of (line number, text); a None
                             number marks a gap and shows its text muted
``Mark(at, label, href, tone, title, chip)``, ``Span(start, end, label, detail, marks, css, id)``,
``timeline(spans, caption)``  spans (boots) laid side by side in proportion to their length,
                             marks (findings) placed on them by position, then one list entry
                             per span with its detail
``document(title, *body, subtitle=None, footer=None, tab_title=None)``  the whole page
``linkify(text)``            http(s) URLs in text made links (nothing else is)

The fleet report's chart is :func:`triage.report.htmlchart.svg_timeseries` (same conventions).
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Union

from .htmlstyle import STYLESHEET, TONES

__all__ = ["Html", "esc", "render", "tag", "badge", "Card", "cards", "banner", "section", "kv", "table",
           "log_lines", "Mark", "Span", "timeline", "document", "linkify", "tone_of", "CSP"]

#: no script, no request of any kind; inline styles and data: images only
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


class Html(str):
    """Markup that is safe as it is (made by this kit); a plain ``str`` is text and gets escaped."""

    __slots__ = ()


Content = Union[Html, str, int, float, None, Sequence["Content"]]

# C0 and C1 controls but tab and newline; lone surrogates (from surrogateescape'd bytes)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_URL = re.compile(r"https?://[^\s<>\"'`]+[^\s<>\"'`.,;:)\]]")


def esc(value: object) -> str:
    """Text made safe for element content and quoted attribute values."""
    text = _SURROGATE.sub("\ufffd", str(value))
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return html.escape(text, quote=True)


def render(value: Content) -> Html:
    """Html as is, None as nothing, lists and tuples joined, everything else escaped."""
    if value is None:
        return Html("")
    if isinstance(value, Html):
        return value
    if isinstance(value, (list, tuple)):
        return Html("".join(render(v) for v in value))
    return Html(esc(value))


def _attrs(attrs: dict[str, object]) -> str:
    out = []
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        name = name.rstrip("_").replace("_", "-")
        out.append(f" {name}" if value is True else f' {name}="{esc(value)}"')
    return "".join(out)


_VOID = frozenset({"br", "hr", "meta", "img", "col", "wbr"})


def tag(name: str, *children: Content, **attrs: object) -> Html:
    """``<name attrs>children</name>``; ``name`` and attribute names are the caller's (trusted)."""
    if name in _VOID:
        return Html(f"<{name}{_attrs(attrs)}>")
    return Html(f"<{name}{_attrs(attrs)}>{render(list(children))}</{name}>")


def tone_of(word: str | None) -> str:
    """A tone for a severity, verdict or status word ('not fixed' is bad, 'not needed' ok)."""
    word = (word or "").lower()
    if word in TONES:
        return word
    return {"not fixed": "bad", "not needed": "ok", "match": "ok", "confirmed": "ok", "mismatch": "bad",
            "contradicted": "bad"}.get(word, "unknown" if word in ("incomplete", "match-without-sme") else "neutral")


def badge(text: Content, tone: str = "neutral") -> Html:
    """A small coloured label."""
    return tag("span", text, class_=f"badge t-{tone_of(tone)}")


@dataclass(frozen=True)
class Card:
    """One summary card: a label, a big value, a note under it."""

    label: str
    value: Content
    note: Content = None
    tone: str = "neutral"


def cards(items: Iterable[Card]) -> Html:
    """Summary cards in a grid that wraps."""
    return tag("div", [tag("div", tag("div", c.label, class_="label"), tag("div", c.value, class_="value"),
                           tag("div", c.note, class_="note") if c.note not in (None, "") else None,
                           class_=f"card t-{tone_of(c.tone)}") for c in items], class_="cards")


def banner(*children: Content, tone: str = "neutral") -> Html:
    """A highlighted block (the diagnosis, a warning about the input)."""
    return tag("div", list(children), class_=f"banner t-{tone_of(tone)}")


def section(title: Content, *children: Content, id: str | None = None) -> Html:  # noqa: A002 - the HTML name
    """An h2 section."""
    return tag("section", tag("h2", title), list(children), id=id)


def kv(pairs: Iterable[tuple[Content, Content]]) -> Html:
    """Label/value pairs; pairs whose value is None or empty are left out."""
    items = [Html(tag("dt", k) + tag("dd", v)) for k, v in pairs if v not in (None, "", [], ())]
    return tag("dl", items, class_="kv") if items else Html("")


def table(headers: Sequence[Content], rows: Iterable[Sequence[Content]], caption: Content = None,
          numeric: Sequence[int] = ()) -> Html:
    """A table: one header row, one row per item; ``numeric`` column indexes align right."""
    def cls(i: int) -> str | None:
        return "num" if i in numeric else None

    head = tag("thead", tag("tr", [tag("th", h, scope="col", class_=cls(i)) for i, h in enumerate(headers)]))
    body = tag("tbody", [tag("tr", [tag("td", c, class_=cls(i)) for i, c in enumerate(row)]) for row in rows])
    return tag("table", tag("caption", caption) if caption not in (None, "") else None, head, body)


def log_lines(rows: Iterable[tuple[int | str | None, str]], highlight: Iterable[int] = ()) -> Html:
    """Log lines with their line numbers in a gutter that copy-paste leaves out.

    A row whose number is None is a gap (``...`` or a note) and is shown muted; a string number
    is shown as it is ("" for the continuation of a line whose number is not known); line
    numbers in ``highlight`` are marked.
    """
    marked = set(highlight)
    out = []
    for number, text in rows:
        classes = "row" + (" gap" if number is None else "") + (" hl" if number in marked else "")
        out.append(tag("div", tag("span", "" if number is None else number, class_="ln"),
                       tag("span", text, class_="tx"), class_=classes,
                       data_line=number if isinstance(number, int) else None))
    return tag("div", out, class_="log")


@dataclass(frozen=True)
class Mark:
    """Something placed on a timeline span: ``at`` in the span's units (a line number)."""

    at: float
    label: str  # short: it sits on the strip
    href: str | None = None
    tone: str = "info"
    title: str = ""  # tooltip
    chip: str = ""  # the longer label in the span's list entry (default: label)


@dataclass(frozen=True)
class Span:
    """One stretch of a timeline (a boot): from ``start`` to ``end`` inclusive, in any unit."""

    start: float
    end: float
    label: str
    detail: Content = None
    marks: Sequence[Mark] = field(default_factory=tuple)
    css: str = ""  # extra classes, e.g. "r-kdump" for a kdump boot
    id: str | None = None


#: share of the strip a span gets however short it is, so that a 3-line boot stays visible
_MIN_SHARE = 0.07
#: rows of marks under the span labels, and the distance (share of the strip) that keeps two marks apart
_MARK_ROWS, _MARK_GAP = 2, 0.025


def _shares(spans: Sequence[Span]) -> list[float]:
    lengths = [max(s.end - s.start + 1, 1.0) for s in spans]
    total = sum(lengths)
    shares = [max(length / total, _MIN_SHARE) for length in lengths]
    scale = sum(shares)
    return [s / scale for s in shares]


def _pct(value: float) -> str:
    return f"{100 * value:.3f}%"


def timeline(spans: Sequence[Span], caption: Content = None) -> Html:
    """A strip of spans in proportion to their length with their marks on it, then a list of spans."""
    if not spans:
        return tag("p", "Nothing to show.", class_="empty")
    strip, left = [], 0.0
    rows_end = [-1.0] * _MARK_ROWS  # where the last mark of each row ends, to keep marks apart
    for span, share in zip(spans, _shares(spans)):
        strip.append(tag("div", span.label, class_=f"tl-span {span.css}".strip(), title=span.label,
                         style=f"left:{_pct(left)};width:{_pct(share)}"))
        length = max(span.end - span.start + 1, 1.0)
        for mark in sorted(span.marks, key=lambda m: m.at):
            where = left + share * min(max((mark.at - span.start + 0.5) / length, 0.04), 0.96)
            row = next((r for r in range(_MARK_ROWS) if rows_end[r] < where - _MARK_GAP), None)
            if row is None:  # every row is taken here: stack on the row that ends first
                row = min(range(_MARK_ROWS), key=lambda r: rows_end[r])
            rows_end[row] = where
            strip.append(tag("a" if mark.href else "span", mark.label, href=mark.href,
                             class_=f"tl-mark t-{tone_of(mark.tone)}", title=mark.title or None,
                             style=f"left:{_pct(where)};bottom:{0.15 + 1.15 * row:.2f}rem"))
        left += share
    items = []
    for span in spans:
        unique = {(m.chip or m.label, m.href): m for m in span.marks}.values()  # a chip per thing marked
        chips = [Html(tag("a" if m.href else "span", m.chip or m.label, href=m.href,
                          class_=f"badge t-{tone_of(m.tone)}", title=m.title or None) + " ") for m in unique]
        items.append(tag("li", tag("div", tag("strong", span.label), " ", chips), span.detail,
                         class_=span.css or None, id=span.id))
    return tag("div", tag("div", caption, class_="small muted") if caption not in (None, "") else None,
               tag("div", strip, class_="tl-strip", role="img", aria_label=f"{len(spans)} spans"),
               tag("ol", items, class_="tl-list"), class_="tl")


def linkify(text: str) -> Html:
    """Text with its http(s) URLs as links (escaped; no other scheme becomes a link)."""
    out, last = [], 0
    for match in _URL.finditer(text):
        out.append(esc(text[last:match.start()]))
        out.append(tag("a", match.group(), href=match.group(), rel="noreferrer noopener"))
        last = match.end()
    out.append(esc(text[last:]))
    return Html("".join(out))


def document(title: str, *body: Content, subtitle: Content = None, footer: Content = None,
             tab_title: str | None = None) -> str:
    """The whole page: UTF-8, inline stylesheet, the CSP, no script; body pieces in order.

    ``title`` is the heading, and the window's title unless ``tab_title`` says more.
    """
    head = (f'<meta charset="utf-8">\n<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="referrer" content="no-referrer">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(tab_title or title)}</title>\n<style>{STYLESHEET}</style>")
    parts = [tag("h1", title), tag("p", subtitle, class_="sub") if subtitle not in (None, "") else None,
             list(body), tag("footer", footer, class_="small muted") if footer not in (None, "") else None]
    return f'<!DOCTYPE html>\n<html lang="en">\n<head>\n{head}\n</head>\n<body>\n{render(parts)}\n</body>\n</html>\n'

"""Rule regexes, restricted so that a hostile log cannot make them hang.

Rules are matched against untrusted logs with Python's backtracking ``re``;
instead of timing a match out, patterns whose worst case is exponential or
more than about linear-times-a-constant are refused when the rule is loaded.
"""
from __future__ import annotations

import re
from typing import Any, Sequence

try:  # Python >= 3.11
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
    from re import _constants as _sre_c  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants as _sre_c  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

__all__ = ["REGEX_LINE_LIMIT", "REGEX_TEXT_LIMIT", "REGEX_COST_BUDGET", "RegexRejected", "check_regex",
           "regex_search"]

#: Regex input bounds: a rule regex sees each line of an event's text
#: separately, cut to REGEX_LINE_LIMIT characters, and only the first
#: REGEX_TEXT_LIMIT characters of the whole text.
REGEX_LINE_LIMIT = 1024
REGEX_TEXT_LIMIT = 4096
#: Largest accepted worst-case backtracking estimate of one regex on one line
#: (see check_regex); about 1 ms of work per line for a single ``.*``.
REGEX_COST_BUDGET = 1 << 26


class RegexRejected(ValueError):
    """Why a rule regex was refused."""


def _regex_cost(items: Any, limit: int) -> tuple[int, bool]:
    """(worst-case backtracking factor, contains a repeat) of a parsed subpattern."""
    cost = 1
    has_repeat = False
    for op, av in items:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, body = av
            inner, inner_repeat = _regex_cost(body, limit)
            unbounded = hi == _sre_c.MAXREPEAT or hi > limit
            if inner_repeat and hi > 1:
                raise RegexRejected("nested quantifier (a repeated group that itself contains a "
                                    "repeat, like (a+)+): can take exponential time")
            branchy = inner > 1
            if branchy and unbounded:
                raise RegexRejected("unbounded repeat of a group with alternatives or optional parts "
                                    "(like (a|ab)*): can take exponential time")
            reps = limit if unbounded else hi
            factor = (inner ** reps) if branchy else (reps + 1)
            cost *= max(factor, 1)
            has_repeat = has_repeat or hi > 1
        elif name == "BRANCH":
            total = 0
            for alt in av[1]:
                c, r = _regex_cost(alt, limit)
                total += c
                has_repeat = has_repeat or r
            cost *= max(total, 1)
        elif name in ("SUBPATTERN", "ATOMIC_GROUP"):
            body = av[-1] if name == "SUBPATTERN" else av
            c, r = _regex_cost(body, limit)
            cost *= c
            has_repeat = has_repeat or r
        elif name in ("GROUPREF", "GROUPREF_EXISTS", "GROUPREF_IGNORE", "GROUPREF_LOC_IGNORE",
                      "GROUPREF_UNI_IGNORE"):
            raise RegexRejected("back-references are not allowed")
        elif name in ("ASSERT", "ASSERT_NOT"):
            raise RegexRejected("look-ahead/look-behind assertions are not allowed")
        if cost > (1 << 62):
            cost = 1 << 62
    return cost, has_repeat


def check_regex(pattern: str) -> re.Pattern[str]:
    """Compile a rule regex after the safety checks; raise ValueError saying why not.

    Rules are matched against untrusted logs with Python's backtracking ``re``,
    so patterns are restricted instead of timed out:

    * no nested quantifiers (``(a+)+``, ``(\\w+\\s?)*``), no unbounded repeat
      of a group with alternatives (``(a|ab)*``): exponential;
    * no back-references, look-ahead or look-behind;
    * the worst-case backtracking estimate on one line of REGEX_LINE_LIMIT
      characters (line length x product of the repeat ranges) must stay under
      REGEX_COST_BUDGET, which allows one unbounded ``.*``/``+`` plus a few
      small bounded ones (``\\d{1,8}``) but not ``a.*b.*c`` (cubic).
    """
    if not isinstance(pattern, str):
        raise RegexRejected("a regex must be a string")
    try:
        parsed = _sre_parse.parse(pattern)
        compiled = re.compile(pattern)
    except re.error as exc:
        raise RegexRejected(f"invalid regex: {exc}") from None
    cost, _ = _regex_cost(list(parsed), REGEX_LINE_LIMIT)
    if cost * REGEX_LINE_LIMIT > REGEX_COST_BUDGET:
        raise RegexRejected(
            "too expensive in the worst case: more than one unbounded repeat (*, +, {n,}) or very "
            "wide bounded ones; split it into several regexes (all must match) or bound the repeats, "
            "e.g. \\d{1,10} instead of \\d+")
    return compiled


def regex_search(compiled: re.Pattern[str], lines: Sequence[str]) -> bool:
    """Search each line (bounded as documented) for the pattern."""
    budget = REGEX_TEXT_LIMIT
    for line in lines:
        if budget <= 0:
            break
        chunk = line[:min(REGEX_LINE_LIMIT, budget)]
        budget -= len(chunk) + 1
        if compiled.search(chunk):
            return True
    return False

"""Rule packs on disk: one file, a folder, the shipped pack, several packs together."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import yaml
from yaml.nodes import SequenceNode

from ..errors import RuleError
from ..paths import data_dir
from .loader import build_fixes, build_rule
from .model import Rule
from .releases import FixTable, register_table, set_shipped_loader
from .schema import RuleFile

__all__ = ["load_rule_file", "load_rules", "rule_files", "shipped_rules_dir", "load_fixes", "shipped_fixes",
           "fixes_for", "FIXES_FILE"]


#: largest rule file read (the shipped ones are 1-6 KiB)
MAX_RULE_FILE = 256 << 10


def _first_line(text: object) -> str:
    return (str(text).strip().splitlines() or [""])[0]


def _refuse_aliases(text: str, path: Path) -> None:
    """YAML anchors and aliases (&a / *a) are refused: one alias repeated can expand a small file
    into gigabytes, and a rule never needs them."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        anchor = getattr(event, "anchor", None)
        if isinstance(event, yaml.AliasEvent) or anchor:
            raise RuleError(f"YAML {'alias *' if isinstance(event, yaml.AliasEvent) else 'anchor &'}{anchor}: "
                            "anchors and aliases are not allowed in rule files (write the value out)",
                            file=path, line=event.start_mark.line + 1)


def _compose(path: Path, f: RuleFile):
    try:
        if path.stat().st_size > MAX_RULE_FILE:
            raise RuleError(f"larger than {MAX_RULE_FILE >> 10} KiB: not a rule file", file=path)
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"cannot read: {exc}", file=path) from None
    try:
        _refuse_aliases(text, path)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise RuleError(f"broken YAML: {_first_line(exc.problem or exc)}", file=path, line=line) from None
    except yaml.reader.ReaderError as exc:  # a character YAML refuses (NUL, other controls)
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise RuleError(f"broken YAML: character U+{code:04X} is not allowed", file=path, line=line) from None
    except yaml.YAMLError as exc:
        raise RuleError(f"broken YAML: {_first_line(exc)}", file=path) from None
    if node is None:
        raise RuleError("empty rule file", file=path, line=1)
    return node


#: the fixes table of a pack folder (release data of the commits rules name in fixed_by)
FIXES_FILE = "fixes.yaml"
_FIXES_CACHE: dict[tuple[str, int, int], FixTable] = {}


def load_fixes(path: str | Path) -> FixTable:
    """Validate and load a fixes table (cached while the file is unchanged)."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError as exc:
        raise RuleError(f"cannot read: {exc}", file=path) from None
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    if key not in _FIXES_CACHE:
        f = RuleFile(str(path))
        node = _compose(path, f)
        try:
            _FIXES_CACHE[key] = build_fixes(f, node)
        except yaml.constructor.ConstructorError as exc:
            mark = exc.problem_mark
            raise RuleError(f"bad value: {exc.problem}", file=path, line=mark.line + 1 if mark else None) from None
    return _FIXES_CACHE[key]


def shipped_fixes() -> FixTable:
    """The shipped fixes table (empty when the shipped pack has none)."""
    path = shipped_rules_dir() / FIXES_FILE
    return load_fixes(path) if path.is_file() else FixTable()


def fixes_for(directory: str | Path) -> FixTable:
    """The fixes a rule in ``directory`` may name: the shipped table plus that folder's fixes.yaml."""
    directory = Path(directory)
    table = FixTable(shipped_fixes().entries)
    local = directory / FIXES_FILE
    if local.is_file() and local.resolve() != (shipped_rules_dir() / FIXES_FILE).resolve():
        mine = load_fixes(local)
        table.update(mine)
        register_table(mine)
    return table


def load_rule_file(path: str | Path, fixes: FixTable | None = None) -> list[Rule]:
    """Validate and load one rule file (a rule mapping or a list of them).

    ``fixes`` is the table ``fixed_by`` commits are resolved against; by default the
    shipped ``rules/fixes.yaml`` plus a ``fixes.yaml`` beside the file.
    """
    path = Path(path)
    f = RuleFile(str(path))
    node = _compose(path, f)
    if fixes is None:
        fixes = fixes_for(path.parent)
    try:
        if isinstance(node, SequenceNode):
            rules = [build_rule(f, item, f"[{i}]", fixes) for i, item in enumerate(node.value)]
        else:
            rules = [build_rule(f, node, "", fixes)]
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        raise RuleError(f"bad value: {exc.problem}", file=path,
                        line=mark.line + 1 if mark else None) from None
    return rules


def shipped_rules_dir() -> Path:
    """The folder of the shipped rule pack (rules/ in a checkout, triage._rules when installed)."""
    return data_dir("rules")


def rule_files(directory: str | Path) -> list[Path]:
    """The rule files of a pack folder (or the one file given), sorted."""
    directory = Path(directory)
    if directory.is_file():
        return [directory]
    return sorted(p for p in directory.glob("*.y*ml")
                  if p.suffix in (".yaml", ".yml") and p.is_file() and p.name != FIXES_FILE)


def load_rules(extra_dirs: Iterable[str | Path] = (), *, shipped: bool = True) -> list[Rule]:
    """The shipped pack plus rules from ``extra_dirs``.

    A rule whose id a previous pack already defines replaces it only with
    ``override: true`` (its ``overrides`` then names the file it replaced);
    without it, RuleError.  Also RuleError on the first invalid file, or on an
    id defined twice in the same directory.
    """
    dirs: list[Path] = ([shipped_rules_dir()] if shipped else []) + [Path(d) for d in extra_dirs]
    by_id: dict[str, Rule] = {}
    for directory in dirs:
        if not directory.exists():
            raise RuleError("rule directory does not exist", file=directory)
        seen_here: dict[str, Rule] = {}
        for path in rule_files(directory):
            for rule in load_rule_file(path):
                if rule.id in seen_here:
                    raise RuleError(f"rule id {rule.id} is also defined in {seen_here[rule.id].path}",
                                    file=path, line=rule.line, field="id")
                seen_here[rule.id] = rule
                earlier = by_id.get(rule.id)
                if earlier is not None:
                    if not rule.override:
                        raise RuleError(f"rule id {rule.id} is already defined by {earlier.path}; to replace it, "
                                        "add 'override: true' to this rule", file=path, line=rule.line, field="id")
                    rule.overrides = earlier.path
                elif rule.override:
                    raise RuleError(f"override: true, but no earlier rule pack defines {rule.id}",
                                    file=path, line=rule.line, field="override")
                by_id[rule.id] = rule
    return list(by_id.values())


set_shipped_loader(shipped_fixes)

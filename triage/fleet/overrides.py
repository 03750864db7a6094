"""User rules over buckets, like Sentry's fingerprint rules: merge buckets, split one by a facet, attach a
ticket or a title.  A YAML file::

    overrides:
      - match: {bucket: 75e7f013e1ec4e5f}          # or rule:, title:, host:, release: (shell globs)
        merge_into: 4d58d2df0245bfd4              # this bucket's captures count in that one
      - match: {rule: SNP-KDUMP-CWB-TIMEOUT}
        split_by: release                         # one bucket per release (or host, fix, crash)
      - match: {bucket: fde20b8309189981}
        ticket: https://bugs.example.org/123       # shown with the bucket
        title: SNP kdump CWB timeout (fleet)

Rules apply in file order, each to the buckets as the rules before it left them.  A mistake is one
line naming the file, line and field (exit status 2).
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError

__all__ = ["Override", "load_overrides", "MATCH_FIELDS", "SPLIT_FACETS"]

#: what a rule may match on: the bucket id, the root-cause rule, the bucket title, the host, the release
MATCH_FIELDS = ("bucket", "rule", "title", "host", "release")
#: what a bucket may be split by: capture columns
SPLIT_FACETS = {"release": "release", "host": "host", "fix": "fix_status", "crash": "crash_title"}
_KEYS = ("match", "merge_into", "split_by", "ticket", "title")
_MAX_BYTES = 256 << 10


@dataclass(frozen=True)
class Override:
    """One rule: what it matches and what it does."""

    match: dict[str, str]
    merge_into: str | None = None
    split_by: str | None = None
    ticket: str | None = None
    title: str | None = None
    where: str = ""  # file:line, for messages
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def matches(self, row: dict[str, Any], bucket: str, title: str) -> bool:
        values = {"bucket": bucket, "rule": row.get("rule_id"), "title": title, "host": row.get("host"),
                  "release": row.get("release")}
        for key, pattern in self.match.items():
            value = values.get(key)
            if value is None or not fnmatch.fnmatchcase(str(value), pattern):
                return False
        return True


def load_overrides(path: str) -> list[Override]:
    """Read and check an overrides file."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from None
    if len(data) > _MAX_BYTES:
        raise InputError(f"{name}: larger than {_MAX_BYTES >> 10} KiB; not an overrides file")
    try:
        root = yaml.compose(data.decode("utf-8", "replace"), Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"{name}{line}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    if root is None:
        return []
    top = _mapping(root, name, "the file")
    unknown = [k for k in top if k != "overrides"]
    if unknown:
        raise InputError(f"{name}:{_line(top[unknown[0]][0])}: field {unknown[0]!r}: unknown (the file holds 'overrides:')")
    if "overrides" not in top:
        return []
    seq = top["overrides"][1]
    if not isinstance(seq, yaml.SequenceNode):
        raise InputError(f"{name}:{_line(seq)}: field 'overrides': a list of rules expected")
    return [_rule(item, name, i) for i, item in enumerate(seq.value)]


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _mapping(node: yaml.Node, name: str, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        raise InputError(f"{name}:{_line(node)}: {what}: a mapping expected")
    out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise InputError(f"{name}:{_line(key)}: {what}: keys must be plain words")
        out[key.value] = (key, value)
    return out


def _scalar(node: yaml.Node, name: str, field_name: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.value == "":
        raise InputError(f"{name}:{_line(node)}: field {field_name!r}: a non-empty text value expected")
    return str(node.value)


def _rule(node: yaml.Node, name: str, index: int) -> Override:
    fields = _mapping(node, name, f"rule {index + 1}")
    where = f"{name}:{_line(node)}"
    for key, (key_node, _) in fields.items():
        if key not in _KEYS:
            raise InputError(f"{name}:{_line(key_node)}: field {key!r}: unknown; a rule has {', '.join(_KEYS)}")
    if "match" not in fields:
        raise InputError(f"{where}: rule {index + 1}: field 'match' is missing")
    match_fields = _mapping(fields["match"][1], name, "field 'match'")
    if not match_fields:
        raise InputError(f"{name}:{_line(fields['match'][1])}: field 'match': give at least one of {', '.join(MATCH_FIELDS)}")
    match = {}
    for key, (key_node, value) in match_fields.items():
        if key not in MATCH_FIELDS:
            raise InputError(f"{name}:{_line(key_node)}: field 'match.{key}': unknown; match on {', '.join(MATCH_FIELDS)}")
        match[key] = _scalar(value, name, f"match.{key}")
    values = {k: _scalar(fields[k][1], name, k) for k in ("merge_into", "split_by", "ticket", "title") if k in fields}
    if "merge_into" in values and "split_by" in values:
        raise InputError(f"{where}: rule {index + 1}: 'merge_into' and 'split_by' cannot go together")
    if not values:
        raise InputError(f"{where}: rule {index + 1}: does nothing; give merge_into, split_by, ticket or title")
    if "split_by" in values and values["split_by"] not in SPLIT_FACETS:
        raise InputError(f"{name}:{_line(fields['split_by'][1])}: field 'split_by': {values['split_by']!r} is not "
                         f"one of {', '.join(SPLIT_FACETS)}")
    ticket = values.get("ticket")
    if ticket is not None and not ticket.startswith(("http://", "https://")):
        raise InputError(f"{name}:{_line(fields['ticket'][1])}: field 'ticket': an http(s) URL expected")
    return Override(match=match, merge_into=values.get("merge_into"), split_by=values.get("split_by"),
                    ticket=ticket, title=values.get("title"), where=where)

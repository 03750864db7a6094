"""Which host a capture came from: its own text first (a syslog or journal head names the host),
then what the layout or the path says.

The console itself never prints a host name (printk has none), so a bare dmesg gets its host from
where it was found: a crash directory, a sosreport, or the directory it sits in under a scan root.
"""
from __future__ import annotations

import os
import re

__all__ = ["host_from_text", "host_from_path", "HEAD_BYTES"]

#: bytes of a capture's start searched for a host (syslog and journal heads repeat on every line)
HEAD_BYTES = 64 << 10

#: the heads of grammars/envelope.lark that carry a host: classic syslog and journalctl -o short
#: ("Sep  9 12:00:00 host kernel: "), short-iso and rsyslog RFC 3339 ("2024-09-09T12:00:00+0000 host
#: kernel: "), RFC 5424 ("<4>1 2024-05-01T10:00:00.123Z host kernel - - - ")
_SYSLOG = re.compile(rb"^(?:<\d{1,3}>)?(?:[A-Z][a-z]{2} [ 0-3]?\d \d\d:\d\d:\d\d(?:\.\d+)?"
                     rb"|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?) +"
                     rb"([A-Za-z0-9][\w.-]{0,252}) +kernel(?:\[\d+\])?: ", re.M)
_RFC5424 = re.compile(rb"^<\d{1,3}>1 \d{4}-\d\d-\d\dT\S+ ([A-Za-z0-9][\w.-]{0,252}) kernel ", re.M)
#: journalctl -o json / export: the _HOSTNAME field (systemd.journal-fields(7))
_JOURNAL_JSON = re.compile(rb'"_HOSTNAME"\s*:\s*"([^"\\]{1,253})"')
_JOURNAL_EXPORT = re.compile(rb"^_HOSTNAME=(.{1,253})$", re.M)
#: names that are no host: elided by a poster, or the syslog of a container
_NOT_HOSTS = {b"localhost", b"kernel", b"-", b"(none)"}


def host_from_text(head: bytes) -> tuple[str | None, str | None]:
    """(host, where from) as the first syslog or journal head of a capture names it."""
    for pattern, origin in ((_JOURNAL_JSON, "journal"), (_JOURNAL_EXPORT, "journal"), (_SYSLOG, "syslog"),
                            (_RFC5424, "syslog")):
        for found in pattern.finditer(head):
            name = found.group(1).strip()
            if name and name.lower() not in _NOT_HOSTS:
                return name.decode("utf-8", "replace"), origin
    return None, None


def host_from_path(path: str, root: str | None) -> tuple[str | None, str | None]:
    """The first directory below the scan root a capture sits in (``ROOT/host42/console.log``), if any."""
    if root is None:
        return None, None
    try:
        rel = os.path.relpath(path, root)
    except ValueError:
        return None, None
    parts = rel.split(os.sep)
    if len(parts) < 2 or parts[0] in (os.curdir, os.pardir):
        return None, None
    return parts[0], "path"

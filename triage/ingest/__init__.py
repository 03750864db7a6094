"""Ingestion: console captures in, :class:`~triage.model.Capture` (events and boots) out.

The stages, in the order data flows through them:

``reader``    open files, stdin and compressed inputs read-only; refuse binary; blocks of bytes
``scan``      one fast search over each block for the anchors of grammars/scan.lark
``envelope``  a triggered line's prefixes (quote, capture tool, level, stamp, caller) taken apart
``grammar``   grammars/*.lark loaded and compiled into regexes from lark's own terminals
``messages``  known one-line messages (amd_vi, sev, kernel grammars) and grammars/fields.yaml
``reports``   kernel reports: lines classified, then parsed by lark's LALR parser
``assemble``  events in input order, reports gathered until they end
``boots``     where each boot starts and ends, its release, role and command line
``pipeline``  the stages end to end
``layouts``   one path as the tools wrote it: a kdump crash directory or sosreport (tree or tarball)

Depends only on :mod:`triage.model`, :mod:`triage.errors` and :mod:`triage.paths`.
"""
from .messages import vocabulary
from .pipeline import iter_events, iter_everything, read_boots, read_capture, read_captures
from .reader import Input

__all__ = ["Input", "iter_events", "iter_everything", "read_boots", "read_capture", "read_captures", "vocabulary"]

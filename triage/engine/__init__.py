"""The rule engine: rules and captures in, findings out.

``index``     events by (kind, message) and by boot; effective boot roles
``evaluate``  one alternative in one scope: sequence, all, absent, supporting
``facts``     vmcore fact checks
``findings``  a matched alternative becomes a Finding (evidence, texts, fix verdict)
``match``     every rule, every scope; superseded generic findings dropped
``summary``   the bounded summary the main job matches on, built while ingestion streams
``explain``   why a rule did not match (``--why-not``)
``fixtures``  every rule's positive and negative fixtures

Depends on :mod:`triage.rulepack`, :mod:`triage.ingest` (fixtures only) and :mod:`triage.model`.
"""
from .evaluate import Attempt, StepTrace
from .explain import Explanation, explain
from .facts import evaluate_vmcore
from .fixtures import FixtureResult, load_vmcore_facts, run_fixtures
from .index import EventIndex
from .match import match
from .summary import Summary

__all__ = ["Attempt", "StepTrace", "Explanation", "explain", "evaluate_vmcore", "FixtureResult",
           "load_vmcore_facts", "run_fixtures", "EventIndex", "match", "Summary"]

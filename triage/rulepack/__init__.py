"""The rule pack: declarative diagnosis rules as data, their schema, loading and lint.

``model``     the Rule / Pattern / Step / Condition dataclasses
``values``    how rule values compare with event values (one numeric normalisation)
``regex``     the restricted regex dialect and its bounds
``schema``    typed reading of YAML nodes with file:line:field errors
``loader``    the rule schema: YAML nodes -> Rule objects
``pack``      rule files and folders, the shipped pack
``lint``      checks beyond the schema (vocabulary from the grammars, fixtures present)
``releases``  kernel release strings and fix verdicts

Depends only on :mod:`triage.model`, :mod:`triage.errors` and :mod:`triage.paths`:
the engine runs rules (and their fixtures), the rule pack never runs anything.
"""
from ..errors import RuleError
from .lint import Problem, fixture_dir, lint
from .model import BootFilter, Condition, FactCheck, Pattern, PlatformFilter, Rule, Step, VmcoreSpec
from .pack import load_rule_file, load_rules, rule_files, shipped_rules_dir
from .regex import REGEX_LINE_LIMIT, REGEX_TEXT_LIMIT, RegexRejected, check_regex, regex_search
from .values import FieldTest

__all__ = [
    "RuleError", "Problem", "fixture_dir", "lint", "BootFilter", "PlatformFilter", "Condition", "FactCheck", "Pattern", "Rule",
    "Step", "VmcoreSpec", "load_rule_file", "load_rules", "rule_files", "shipped_rules_dir", "REGEX_LINE_LIMIT",
    "REGEX_TEXT_LIMIT", "RegexRejected", "check_regex", "regex_search", "FieldTest",
]

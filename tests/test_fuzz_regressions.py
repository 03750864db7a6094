"""The fuzz targets without atheris: over the seed corpus, over the saved crashes, and under hypothesis.

tests/fuzz/targets.py holds one function per surface (ingest, report, rules,
vmcore) that raises AssertionError when the contract breaks; tests/fuzz/run.py
fuzzes them with atheris and bench/fuzz_campaign.py runs a campaign. Here every
file of tests/fuzz/corpus/TARGET/ and tests/fuzz/crashes/TARGET/ is run through
its target, and hypothesis tries each target with a CI-sized budget.

A crash file for a bug not fixed yet is listed in XFAIL (key ``TARGET/FILE``)
with a one-line reason; the entry is strict, so the test fails as soon as the
fix lands: then remove the entry. The hypothesis tests tolerate the failure
signatures of the XFAIL entries (and only those) so the suite stays green
while a fix is pending.
"""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz import targets
from tests.fuzz.run import signature

FUZZ = Path(__file__).resolve().parent / "fuzz"
ROOT = FUZZ.parent.parent

#: ``TARGET/FILE`` -> (failure signature as tests/fuzz/run.py names it, why it still fails).
XFAIL: dict[str, tuple[str, str]] = {}

KNOWN_SIGNATURES = {target: {sig for key, (sig, _) in XFAIL.items() if key.split("/")[0] == target}
                    for target in targets.TARGETS}


def _cases() -> list:
    out = []
    for kind in ("corpus", "crashes"):
        for folder in sorted((FUZZ / kind).glob("*/")):
            target = folder.name
            for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.endswith(".txt")):
                key = f"{target}/{path.name}"
                marks = []
                if key in XFAIL:
                    marks.append(pytest.mark.xfail(reason=XFAIL[key][1], strict=True))
                if target == "vmcore" and not targets.HAVE_DRGN:
                    marks.append(pytest.mark.skip(reason="drgn is not installed"))
                out.append(pytest.param(target, path, marks=marks, id=f"{kind}/{key}"))
    return out


@pytest.fixture(scope="module", autouse=True)
def _warm():
    targets.warm_up()


def test_every_xfail_entry_names_a_file():
    names = {f"{p.parent.name}/{p.name}" for kind in ("corpus", "crashes") for p in (FUZZ / kind).glob("*/*")}
    assert set(XFAIL) <= names, f"XFAIL entries without a file: {sorted(set(XFAIL) - names)}"


def test_seed_corpus_is_small():
    size = sum(p.stat().st_size for p in (FUZZ / "corpus").rglob("*") if p.is_file())
    assert size < 300_000, f"tests/fuzz/corpus is {size} bytes; keep only small inputs"


@pytest.mark.parametrize("target,path", _cases())
def test_saved_input(target, path):
    targets.TARGETS[target](path.read_bytes())


def _tolerating_known(target: str, data: bytes) -> None:
    """Run the target; a failure whose signature an XFAIL entry names is a known, pending bug."""
    try:
        targets.TARGETS[target](data)
    except Exception as exc:
        if signature(exc) not in KNOWN_SIGNATURES[target]:
            raise


# ---------------------------------------------------------------- hypothesis

def _lines(*paths: Path) -> list[bytes]:
    out: list[bytes] = []
    for path in paths:
        out += path.read_bytes().splitlines()
    return out


REAL_LINES = _lines(*sorted((ROOT / "rules" / "fixtures").glob("*/*.log")))[::3]
FRAGMENTS = [
    b"[    1.000000] ", b"[  767.964958][ T1042] ", b"> ", b"<4>", b"Jan 30 14:55:04 host kernel: ", b"AMD-Vi: ",
    b"Kernel panic - not syncing: ", b"BUG: unable to handle page fault for address: ", b"Call Trace:", b" <TASK>",
    b" foo+0x1/0x2", b"RIP: 0010:", b"---[ end trace 0 ]---", b"Linux version 6.1.0 (x@y) #1",
    b"Command line: elfcorehdr=1K", b"ccp 0000:01:00.1: ", b"SEV-SNP: ", b"\x1b[31m", b"\r", b"\r\n", b"\x00",
    b"\xff\xfe", b"\t", b"{\"MESSAGE\":", b"-- Boot 1 --", b"[", b"]", b"[bold]", b"[/x]", b":fire:", b"nan",
    b"inf", b"1e999", b"0x", b"Completion-Wait loop timed out", b"Event logged [", b"WARNING: CPU: 0 PID: 1 at ",
]
line = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=10)), max_size=8).map(b"".join)
capture = st.lists(st.one_of(line, st.sampled_from(REAL_LINES)), max_size=50).map(b"\n".join)

SMOKE = settings(max_examples=200, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SMOKE
@given(capture)
def test_ingest_smoke(data):
    _tolerating_known("ingest", data)


@settings(SMOKE, max_examples=100)
@given(capture)
def test_report_smoke(data):
    _tolerating_known("report", data)


RULE_FILES = sorted(p.read_bytes() for p in (ROOT / "rules").glob("*.yaml"))
YAML_BITS = [b"- ", b": ", b"{", b"}", b"[", b"]", b"&a ", b"*a", b"!!str ", b"!!binary ", b"|", b">", b"'", b'"',
             b"#", b"\t", b"\x00", b"\xff", b"~", b"null", b"1e999", b".nan", b"0x", b"-1", b"regex: '(a+)+$'",
             b"kind: panic", b"at_least: 0", b"within: -1", b"[bold]", b":fire:"]


@st.composite
def rule_text(draw) -> bytes:
    lines = draw(st.sampled_from(RULE_FILES)).splitlines(keepends=True)
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "insert", "cut"]))
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "insert":
            cut = draw(st.integers(0, len(lines[i])))
            bit = draw(st.one_of(st.sampled_from(YAML_BITS), st.binary(max_size=6)))
            lines[i] = lines[i][:cut] + bit + lines[i][cut:]
        else:
            cut = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:cut] + b"\n"
    return b"".join(lines)


@SMOKE
@given(rule_text())
def test_rules_smoke(data):
    _tolerating_known("rules", data)


VMCORE_SEEDS = sorted(p.read_bytes() for p in (FUZZ / "corpus" / "vmcore").iterdir() if p.is_file())


@st.composite
def mutated_core(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(VMCORE_SEEDS)))
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
    for _ in range(draw(st.integers(0, 8))):
        pos = rnd.randrange(len(data))
        data[pos] = rnd.choice([0, 0xFF, 0x7F, 0x80, rnd.randrange(256)])
    if draw(st.booleans()):
        data = data[:draw(st.integers(0, len(data)))]
    return bytes(data)


@pytest.mark.skipif(not targets.HAVE_DRGN, reason="drgn is not installed")
@SMOKE
@given(mutated_core())
def test_vmcore_smoke(data):
    _tolerating_known("vmcore", data)

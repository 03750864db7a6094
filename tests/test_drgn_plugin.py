"""The drgn plugin: commands in ``python -c "import drgn; ..."`` and in a real interactive drgn session.

The program is a fake crashed SNP host (tests/vmcore_fakes.py) written as an ELF vmcore, so drgn
treats it as a Linux kernel dump. drgn loads the plugin through the ``drgn.plugins`` entry point
when this checkout is installed (``pip install -e .``); otherwise through ``DRGN_PLUGINS`` naming
the same module, which is the documented way to load a plugin that is not installed.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import FOUNDING, ROOT

sys.path.insert(0, str(Path(__file__).resolve().parent))
drgn = pytest.importorskip("drgn")
pytest.importorskip("drgn.commands", reason="this drgn has no command API (drgn >= 0.0.31 has)")

import vmcore_fakes as vf  # noqa: E402

pytestmark = pytest.mark.skipif(not vf.have_gcc(), reason="gcc is needed to build the fake kernels")


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120", "TERM": "dumb", "PYTHON_BASIC_REPL": "1"}
    names = {e.name for e in importlib.metadata.entry_points(group="drgn.plugins")}
    if "snp_triage" not in names:  # this checkout is not installed: load the same module by name
        env["DRGN_PLUGINS"] = "snp_triage=triage.drgn_plugin"
    return env


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    work = tmp_path_factory.mktemp("drgn")
    built = vf.build(work, vf.Scenario())
    return vf.write_elf_core(built, work / "vmcore", built.elf), built.elf


def test_entry_point_is_declared_for_the_plugin_module():
    text = (ROOT / "pyproject.toml").read_text()
    assert '[project.entry-points."drgn.plugins"]\nsnp_triage = "triage.drgn_plugin"' in text
    import triage.drgn_plugin as plugin

    assert callable(plugin.drgn_prog_set) and plugin.COMMANDS == ("amd_iommu", "snp_state", "snp_triage")


SCRIPT = """
import drgn, json, sys
from drgn.commands import run_command, DEFAULT_COMMAND_NAMESPACE
prog = drgn.Program()
prog.set_core_dump(sys.argv[1])
prog.load_debug_info([sys.argv[2]], default=False, main=True)
print("finders:", "snp_triage_ccp" in prog.registered_debug_info_finders())
print("enabled:", sorted(n for n, _ in DEFAULT_COMMAND_NAMESPACE.enabled(prog) if n in {"amd_iommu", "snp_state", "snp_triage"}))
run_command(prog, "amd_iommu")
run_command(prog, "snp_state --json > " + sys.argv[3])
"""


def test_python_c_import_drgn_runs_the_commands(core, tmp_path):
    vmcore, elf = core
    out = tmp_path / "state.json"
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(vmcore), str(elf), str(out)], capture_output=True,
                          text=True, env=_env(), cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "finders: True" in done.stdout
    assert "enabled: ['amd_iommu', 'snp_state', 'snp_triage']" in done.stdout
    assert "IOMMU 0  0000:00:00.2" in done.stdout
    assert "CWB (cmd_sem) phys      0x100805000" in done.stdout
    assert "last COMPLETION_WAIT    store 0x100805000 (= CWB) data 0x2d" in done.stdout
    state = json.loads(out.read_text())
    assert state["globals"]["amd_iommu_snp_en"]["value"] is True
    assert state["psp"]["snp_initialized"]["value"] is True and state["partial"] is None


def test_commands_are_only_for_kernels():
    from drgn.commands import CommandNotFoundError, run_command

    import triage.drgn_plugin  # noqa: F401 - registers the commands

    with pytest.raises(CommandNotFoundError):
        run_command(drgn.Program(), "amd_iommu")


def _session(args: list[str], lines: list[str], wait: float = 60.0) -> str:
    """Drive drgn's interactive prompt through a pseudo-terminal, one line after each prompt."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execvpe(args[0], args, _env())
    out = b""

    def until_prompt() -> None:
        nonlocal out
        start, end = len(out), time.monotonic() + wait
        while not out[start:].rstrip().endswith(b">>>") and time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    return
                if not data:
                    return
                out += data

    until_prompt()
    for line in lines:
        os.write(fd, line.encode() + b"\n")
        until_prompt()  # the echo of the line, its output, the next prompt
    os.write(fd, b"exit()\n")
    os.waitpid(pid, 0)
    return out.decode(errors="replace").replace("\r\n", "\n")


def _drgn() -> str:
    path = shutil.which("drgn", path=os.path.dirname(sys.executable)) or shutil.which("drgn")
    if path is None:
        pytest.skip("the drgn command is not installed")
    return path


def test_interactive_drgn_session(core):
    vmcore, elf = core
    text = _session([_drgn(), "-q", "-c", str(vmcore), "-s", str(elf), "--no-default-symbols"], [
        "%amd_iommu | grep CWB",
        "%snp_state",
        f"%snp_triage --format json --log {FOUNDING} > /dev/null",
        f"%snp_triage --format json --log {FOUNDING} | python3 -c 'import json,sys; "
        "print(\"RULES\", sorted({f[\"rule_id\"] for f in json.load(sys.stdin)[\"findings\"]}))'",
        "%snp_triage --log /nonexistent",
        "from triage.vmcore import for_each_amd_iommu; print('helpers', len(list(for_each_amd_iommu(prog))))",
    ])
    assert "CWB (cmd_sem) phys      0x100805000" in text
    assert "last COMPLETION_WAIT    store 0x100805000 (= CWB) data 0x2d" in text
    assert "SEV state                   WORKING  snp_initialized=True" in text
    rules = next(line for line in text.splitlines() if line.startswith("RULES"))
    assert "SNP-KDUMP-CWB-TIMEOUT" in rules
    assert "/nonexistent: no such file" in text and "Traceback" not in text
    assert "helpers 1" in text


def test_corelens_module():
    corelens = pytest.importorskip(
        "drgn_tools.corelens",
        reason="drgn-tools is not installed (not on PyPI here: 'pip install drgn-tools' finds no distribution); "
               "the corelens module triage/drgn_plugin/corelens.py is untested")
    from triage.drgn_plugin.corelens import SnpTriage

    assert issubclass(SnpTriage, corelens.CorelensModule)
    assert corelens.all_corelens_modules()["snp_triage"].debuginfo_kmods == ["ccp"]


def test_loading_the_plugin_imports_no_pipeline():
    """drgn imports the plugin on every start: only the command registrations are loaded then,
    the rest of snp-triage when a command runs (sys.modules checked, no timing)."""
    code = ("import json, sys, triage.drgn_plugin; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('triage.'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert "triage.drgn_plugin.commands" in loaded
    assert not [m for m in loaded if m.split(".")[1] in ("report", "engine", "rulepack", "ingest", "vmcore")]

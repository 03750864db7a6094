"""A non-editable install finds its grammars and rules outside the checkout."""
from __future__ import annotations

import os
import site
import subprocess
import sys
import sysconfig
import zipfile

import pytest

from .conftest import FOUNDING, ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {result.stderr.strip().splitlines()[-1:]}")
    return next(out.glob("snp_triage-*.whl"))


def test_wheel_ships_grammars_and_rules(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for grammar in ("envelope", "amd_vi", "sev", "kernel", "report", "scan"):
        assert f"triage/_grammars/{grammar}.lark" in names
    assert "triage/_rules/SNP-KDUMP-CWB-TIMEOUT.yaml" in names
    assert any(n.startswith("triage/_rules/fixtures/SNP-KDUMP-CWB-TIMEOUT/positive") for n in names)


def test_wheel_registers_the_drgn_plugin(wheel):
    """drgn finds the plugin through the wheel's entry point (drgn.plugins group)."""
    archive = zipfile.ZipFile(wheel)
    [entry_points] = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
    text = archive.read(entry_points).decode()
    assert "[drgn.plugins]\nsnp_triage = triage.drgn_plugin" in text
    assert "triage/drgn_plugin/commands.py" in archive.namelist()


def test_installed_tool_runs_outside_the_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    target = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, timeout=300)
    # dependencies come from the test environment (PYTHONPATH skips its .pth files, so an
    # editable install of the checkout is not seen); the package itself only from the wheel
    deps = site.getsitepackages() + [sysconfig.get_paths()["purelib"]]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), *deps])}
    result = subprocess.run([str(venv / "bin" / "python"), "-c",
                             "import triage, sys; from triage.cli import main; sys.exit(main(sys.argv[1:]))",
                             "events", "--kind", "kernel_panic", str(FOUNDING)],
                            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert '"kernel_panic"' in result.stdout
    check = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import triage.paths as p; print(p.data_dir('grammars')); print(p.data_dir('rules'))"],
                           capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert check.stdout.count(str(target)) == 2 and str(ROOT) not in check.stdout
    # the main job needs the rule pack too
    diagnosis = subprocess.run([str(venv / "bin" / "python"), "-c",
                                "import sys; from triage.cli import main; sys.exit(main(sys.argv[1:]))",
                                str(FOUNDING), "--format", "json"],
                               capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert diagnosis.returncode == 1, diagnosis.stderr
    assert '"SNP-KDUMP-CWB-TIMEOUT"' in diagnosis.stdout
    fixtures = subprocess.run([str(venv / "bin" / "python"), "-c",
                               "import sys; from triage.cli import main; sys.exit(main(sys.argv[1:]))", "rules", "test"],
                              capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert fixtures.returncode == 0 and " 0 failed" in fixtures.stdout

"""Where the QEMU fixtures are (tests/qemu/build-fixture.sh): one per kernel series, each optional.

``SNP_TRIAGE_FIXTURE_DIR`` names one fixture directory; otherwise the script's defaults under
``~/.cache/snp-triage`` are looked at: ``qemu-fixture-6.1``, ``qemu-fixture-6.12`` and the older
single ``qemu-fixture``. A fixture counts once its vmcore and vmlinux exist.
"""
from __future__ import annotations

import os
from pathlib import Path

CACHE = Path.home() / ".cache" / "snp-triage"


def fixture_dirs() -> list[Path]:
    """The built fixtures, 6.1 first."""
    named = os.environ.get("SNP_TRIAGE_FIXTURE_DIR")
    candidates = [Path(named)] if named else [CACHE / "qemu-fixture-6.1", CACHE / "qemu-fixture-6.12",
                                              CACHE / "qemu-fixture"]
    return [d for d in candidates if (d / "vmcore").is_file() and (d / "vmlinux").is_file()]


def series(fixture: Path) -> str:
    """'6.1' or '6.12', from the release the fixture recorded."""
    release = (fixture / "release").read_text().strip() if (fixture / "release").exists() else fixture.name
    return "6.12" if release.startswith("6.12") or fixture.name.endswith("6.12") else "6.1"


SKIP_REASON = (f"QEMU fixture not built in {CACHE} (run tests/qemu/build-fixture.sh 6.1 and 6.12: needs root, "
               "network and ~1 GB of downloads each)")

"""fleet scan|report on real captures laid out as support teams get them: hosts, crash directories,
archives; re-scans, a killed run, a dead worker, overrides and a golden report."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy", reason="fleet needs SQLAlchemy: pip install -e '.[test]'")

from triage.cli import main  # noqa: E402
from triage.fleet import executors  # noqa: E402
from triage.fleet.scan import scan  # noqa: E402
from triage.fleet.store import open_store  # noqa: E402

from .conftest import FOUNDING, ROOT  # noqa: E402
from .fleet_helpers import DAY, FLEET_CAPTURES, T0, make_fleet  # noqa: E402

GOLDEN = Path(__file__).parent / "fleet" / "report-golden.json"


@pytest.fixture()
def fleet(tmp_path):
    return make_fleet(tmp_path)


def _rows(db: Path) -> list[dict]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM captures ORDER BY origin")]


def test_scan_diagnoses_every_capture_with_its_host(fleet, tmp_path):
    store = open_store(str(tmp_path / "f.db"))
    summary = scan([str(fleet)], store, jobs=1)
    store.close()
    assert (summary.found, summary.diagnosed, summary.failed) == (FLEET_CAPTURES, FLEET_CAPTURES, 0)
    assert summary.skipped_by_name == 1  # README.md (the archive's notes.md is passed over inside it)
    rows = {r["origin"].replace(str(fleet), ""): r for r in _rows(tmp_path / "f.db")}
    assert all(r["status"] == "done" for r in rows.values())
    fedora = rows["/crash/10.0.0.7-2026-11-30-04:12:31/"]
    assert (fedora["host"], fedora["host_from"], fedora["layout"]) == ("10.0.0.7", "crash directory", "kdump-fedora")
    assert fedora["rule_id"] == "SNP-KDUMP-CWB-TIMEOUT" and fedora["fix_status"] == "not fixed"
    assert rows["/crash/202611300412/"]["layout"] == "kdump-debian"
    assert (rows["/hostB/console.log"]["host"], rows["/hostB/console.log"]["host_from"]) == ("hostB", "path")
    # the capture's own syslog head names its host before the directory does
    assert (rows["/hostA/console.log"]["host"], rows["/hostA/console.log"]["host_from"]) == ("test-ubnt", "syslog")
    inside = rows["/batch.tar.gz!var/crash/10.0.0.9-2026-12-01-10:00:00/"]
    assert inside["host"] == "10.0.0.9" and inside["seen_at"] == T0 + 4 * DAY
    assert rows["/batch.tar.gz!hostE/console.log"]["host"] == "hostE"
    founding = rows["/lkml/thread.txt"]
    detail = json.loads(founding["detail"])
    assert detail["fingerprint"]["diagnosis"]["key"] == "SNP-KDUMP-CWB-TIMEOUT/kdump/confirmed"
    assert any("Completion-Wait loop timed out" in line for ev in detail["root"]["evidence"] for line in ev["lines"])


def test_rescan_stores_nothing_new(fleet, tmp_path):
    db = tmp_path / "f.db"
    store = open_store(str(db))
    scan([str(fleet)], store, jobs=2)
    before = _rows(db)
    again = scan([str(fleet), str(fleet / "hostA" / "console.log")], store, jobs=2)
    store.close()
    assert (again.diagnosed, again.failed, again.skipped) == (0, 0, FLEET_CAPTURES - 3)  # the archive is skipped whole
    after = _rows(db)
    assert [(r["content_hash"], r["scanned_at"], r["bucket"]) for r in after] == \
        [(r["content_hash"], r["scanned_at"], r["bucket"]) for r in before]


def test_a_new_rule_pack_rediagnoses(fleet, tmp_path):
    store = open_store(str(tmp_path / "f.db"))
    scan([str(fleet / "hostA")], store, jobs=1)
    pack = tmp_path / "pack"
    pack.mkdir()
    rule = (ROOT / "rules" / "GENERIC-OOPS.yaml").read_text().replace("id: GENERIC-OOPS", "id: SITE-OOPS", 1)
    (pack / "SITE-OOPS.yaml").write_text(rule)
    again = scan([str(fleet / "hostA")], store, jobs=1, rule_dirs=[str(pack)])
    store.close()
    assert (again.diagnosed, again.skipped) == (1, 0)


def test_a_new_fingerprint_version_rebuckets_and_maps_old_to_new(fleet, tmp_path, monkeypatch):
    from triage.fleet import fingerprint, scan as scan_module

    db = tmp_path / "f.db"
    store = open_store(str(db))
    scan([str(fleet / "lkml")], store, jobs=1)
    old = _rows(db)[0]["bucket"]
    current = fingerprint.FINGERPRINT_VERSION
    monkeypatch.setattr(fingerprint, "FINGERPRINT_VERSION", current + 1)
    monkeypatch.setattr(scan_module, "FINGERPRINT_VERSION", current + 1)
    again = scan([str(fleet / "lkml")], store, jobs=1)  # the pool forks: workers see version 2 too
    moves = store.bucket_moves()
    store.close()
    new = _rows(db)[0]
    assert again.diagnosed == 1 and new["fp_version"] == current + 1 and new["bucket"] != old
    assert moves == [{"old_version": current, "old_bucket": old, "new_version": current + 1,
                      "new_bucket": new["bucket"], "captures": 1}]


def test_interrupted_scan_leaves_a_consistent_store_and_resumes(fleet, tmp_path):
    db = tmp_path / "f.db"
    store = open_store(str(db))

    def stop_after_three(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        scan([str(fleet)], store, jobs=1, progress=stop_after_three)
    rows = _rows(db)
    assert {r["status"] for r in rows} <= {"done", "pending"} and sum(r["status"] == "done" for r in rows) >= 3
    assert store.last_scan()["status"] == "interrupted"
    resumed = scan([str(fleet)], store, jobs=1)
    store.close()
    rows = _rows(db)
    assert len(rows) == FLEET_CAPTURES and {r["status"] for r in rows} == {"done"}
    assert resumed.skipped + resumed.diagnosed == FLEET_CAPTURES and resumed.skipped >= 3


def test_killed_scan_process_resumes(tmp_path):
    """SIGKILL a real `fleet scan` while it writes; the next scan ends with every capture done once."""
    corpus = tmp_path / "many"
    corpus.mkdir()
    sources = sorted((ROOT / "tests" / "corpus" / "real").glob("*.log"))[:60]
    for i, src in enumerate(sources):
        (corpus / f"{i:03d}.log").write_bytes(src.read_bytes())
    db = tmp_path / "f.db"
    cmd = [sys.executable, "-m", "triage", "fleet", "scan", "--db", str(db), "-j", "1", str(corpus)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if db.exists():
            try:
                with sqlite3.connect(db) as conn:
                    if conn.execute("SELECT count(*) FROM captures WHERE status='done'").fetchone()[0] > 0:
                        break
            except sqlite3.OperationalError:
                pass
        time.sleep(0.05)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert main(["fleet", "scan", "--db", str(db), "-j", "1", "--quiet", str(corpus)]) == 0
    rows = _rows(db)
    hashes = [r["content_hash"] for r in rows]
    assert len(hashes) == len(set(hashes)) == len({s.read_bytes() for s in sources})
    assert {r["status"] for r in rows} == {"done"}


def test_a_capture_that_kills_its_worker_fails_alone(fleet, tmp_path, monkeypatch):
    real = executors.run_unit

    def deadly(unit, settings):
        if unit.origin.endswith("hostB/console.log"):
            os._exit(9)
        return real(unit, settings)

    monkeypatch.setattr(executors, "run_unit", deadly)
    store = open_store(str(tmp_path / "f.db"))
    summary = scan([str(fleet)], store, jobs=2)
    store.close()
    rows = {r["origin"].replace(str(fleet), ""): r for r in _rows(tmp_path / "f.db")}
    assert len(rows) == FLEET_CAPTURES and summary.diagnosed + summary.failed == FLEET_CAPTURES
    dead = rows["/hostB/console.log"]
    assert dead["status"] == "failed" and dead["reason"].startswith("worker died while diagnosing it")
    assert all(r["status"] == "done" for k, r in rows.items() if k != "/hostB/console.log")


def test_unreadable_and_binary_files_fail_with_a_reason(tmp_path):
    top = tmp_path / "odd"
    top.mkdir()
    (top / "blob.bin").write_bytes(bytes(range(256)) * 64)
    (top / "empty.log").write_bytes(b"")
    (top / "ok.log").write_bytes(FOUNDING.read_bytes())
    store = open_store(str(tmp_path / "f.db"))
    summary = scan([str(top)], store, jobs=1)
    store.close()
    rows = {Path(r["origin"]).name: r for r in _rows(tmp_path / "f.db")}
    assert (summary.diagnosed, summary.failed) == (1, 2)
    assert rows["blob.bin"]["status"] == "failed" and "binary data" in rows["blob.bin"]["reason"]
    assert rows["empty.log"]["reason"] == "empty capture (no line to diagnose)"


def _report(tmp_path, *args) -> dict:
    out = tmp_path / "out.json"
    with open(out, "w") as handle:
        code = subprocess.run([sys.executable, "-m", "triage", "fleet", "report", "--db", "f.db", "--format", "json",
                               "--now", str(T0 + 8 * DAY), *args], cwd=tmp_path, stdout=handle,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}).returncode
    assert code == 0
    return json.loads(out.read_text())


def _scanned(fleet, tmp_path) -> None:
    assert main(["fleet", "scan", "--db", str(tmp_path / "f.db"), "-j", "1", "--quiet", str(fleet)]) == 0


def _portable(report: dict, fleet: Path) -> dict:
    return json.loads(json.dumps(report).replace(str(fleet), "FLEET"))


def test_fleet_report_json_is_golden(fleet, tmp_path):
    _scanned(fleet, tmp_path)
    report = _portable(_report(tmp_path, "--since", "2d"), fleet)  # from T0 + 6 days
    if os.environ.get("SNP_TRIAGE_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    assert report == json.loads(GOLDEN.read_text())
    titles = {b["title"]: b for b in report["buckets"]}
    snp = titles["SNP-KDUMP-CWB-TIMEOUT (kdump kernel)"]
    # in the window: the crash directory; seen first a day before it (the LKML thread): not new
    assert snp["count"] == 1 and snp["fix"] == {"not fixed": 1} and snp["new"] is False
    assert snp["hosts"] == ["10.0.0.7"] and report["captures"] == 2
    assert sorted(b["new"] for b in report["buckets"]) == [False, True]


def test_drilldown_shows_an_example_with_its_evidence_and_the_hosts(fleet, tmp_path):
    _scanned(fleet, tmp_path)
    listing = _report(tmp_path)
    snp = next(b for b in listing["buckets"] if b["rule_id"] == "SNP-KDUMP-CWB-TIMEOUT")
    drill = _report(tmp_path, "--bucket", snp["id"][:6])["drilldown"]
    assert drill["bucket"]["id"] == snp["id"]
    assert drill["example"]["origin"].endswith("10.0.0.7-2026-11-30-04:12:31/")  # the most recent
    assert any("Completion-Wait" in line for ev in drill["example"]["root"]["evidence"] for line in ev["lines"])
    assert [h["host"] for h in drill["hosts"]] == ["10.0.0.7", "lkml"]
    only = _report(tmp_path, "--host", "lkml")
    assert only["captures"] == 1


def test_overrides_merge_split_and_attach_tickets(fleet, tmp_path):
    _scanned(fleet, tmp_path)
    listing = _report(tmp_path)
    by_rule = {b["rule_id"]: b for b in listing["buckets"] if b["rule_id"]}
    cwait = by_rule["IOMMU-CWAIT-TIMEOUT-GENERIC"]["id"]
    snp = by_rule["SNP-KDUMP-CWB-TIMEOUT"]["id"]
    (tmp_path / "o.yaml").write_text(
        "overrides:\n"
        f"  - match: {{bucket: {cwait}}}\n    merge_into: {snp}\n"
        f"  - match: {{bucket: {snp}}}\n    split_by: host\n"  # the merged captures too
        f"  - match: {{bucket: '{snp}/lkml'}}\n    ticket: https://bugs.example.org/123\n")
    report = _report(tmp_path, "--overrides", "o.yaml")
    ids = {b["id"]: b for b in report["buckets"]}
    assert cwait not in ids and snp not in ids
    assert ids[f"{snp}/lkml"]["ticket"] == "https://bugs.example.org/123"
    assert ids[f"{snp}/10.0.0.7"]["count"] == 1 and ids[f"{snp}/hostB"]["rule_id"] == "IOMMU-CWAIT-TIMEOUT-GENERIC"
    assert sum(b["count"] for b in report["buckets"]) == listing["captures"]


@pytest.mark.parametrize("text, message", [
    ("overrides:\n  - match: {bucket: x}\n", "o.yaml:2: rule 1: does nothing"),
    ("overrides:\n  - match: {colour: red}\n    ticket: https://x.org/1\n", "o.yaml:2: field 'match.colour': unknown"),
    ("overrides:\n  - match: {bucket: x}\n    ticket: not-a-url\n", "o.yaml:3: field 'ticket': an http(s) URL"),
    ("overrides:\n  - match: {bucket: x}\n    split_by: weather\n", "o.yaml:3: field 'split_by'"),
    ("overrides: [\n", "o.yaml:2: not valid YAML"),
])
def test_bad_overrides_are_one_line_and_exit_2(fleet, tmp_path, capsys, text, message, monkeypatch):
    _scanned(fleet, tmp_path)
    (tmp_path / "o.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["fleet", "report", "--db", "f.db", "--overrides", "o.yaml"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


@pytest.mark.parametrize("args, message", [
    (["fleet", "scan", "--db", "{db}", "/no/such/dir"], "/no/such/dir: no such file or directory"),
    (["fleet", "report", "--db", "{tmp}/missing.db"], "no such store"),
    (["fleet", "report", "--db", "{db}", "--since", "lately"], "--since lately"),
    (["fleet", "report", "--db", "mysql://x/y"], "not a file path or a postgresql:// URL"),
    (["fleet", "scan", "--db", "{db}", "-j", "0", "{tmp}"], "-j must be 1 or more"),
])
def test_usage_errors_are_one_line(tmp_path, capsys, args, message):
    store = open_store(str(tmp_path / "f.db"))
    store.close()
    argv = [a.format(db=tmp_path / "f.db", tmp=tmp_path) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_html_report_is_one_self_contained_page(fleet, tmp_path):
    _scanned(fleet, tmp_path)
    out = subprocess.run([sys.executable, "-m", "triage", "fleet", "report", "--db", "f.db", "--format", "html",
                          "--now", str(T0 + 8 * DAY)], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True).stdout
    assert out.startswith("<!DOCTYPE html>") and "<script" not in out and "<svg" in out
    assert "SNP-KDUMP-CWB-TIMEOUT (kdump kernel)" in out and "10.0.0.7" in out
    assert "http://" not in out.split("<body>")[0] and "src=" not in out


def test_markdown_and_rich_reports(fleet, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "240")
    _scanned(fleet, tmp_path)
    capsys.readouterr()
    assert main(["fleet", "report", "--db", str(tmp_path / "f.db"), "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("# Fleet report") and "| SNP-KDUMP-CWB-TIMEOUT (kdump kernel) | 2 |" in md
    assert main(["fleet", "report", "--db", str(tmp_path / "f.db")]) == 0
    assert "SNP-KDUMP-CWB-TIMEOUT" in capsys.readouterr().out


def test_sosreport_tree_and_tarball_are_one_capture_each_with_their_host(tmp_path):
    import io
    import tarfile

    top = tmp_path / "sos"
    tree = top / "sosreport-node9-2026-12-01-abcdef"
    (tree / "sos_commands" / "kernel").mkdir(parents=True)
    (tree / "sos_commands" / "kernel" / "dmesg").write_bytes(FOUNDING.read_bytes())
    (tree / "etc").mkdir()
    (tree / "etc" / "os-release").write_text("ID=fedora\n")  # not a capture: the sosreport is one set
    (tree / "hostname").write_text("node9.example.org\n")
    data = (ROOT / "samples" / "qemu-amd-iommu-kdump-6.1.log").read_bytes()
    with tarfile.open(top / "sosreport-node10-2026-12-02-fedcba.tar.xz", "w:xz") as tar:
        info = tarfile.TarInfo("sosreport-node10-2026-12-02-fedcba/sos_commands/kernel/dmesg")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("sosreport-node10-2026-12-02-fedcba/sos_commands/block/lsblk")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"sda\n"))
    store = open_store(str(tmp_path / "f.db"))
    summary = scan([str(top)], store, jobs=1)
    store.close()
    rows = {r["host"]: r for r in _rows(tmp_path / "f.db")}
    assert (summary.found, summary.diagnosed) == (2, 2)
    assert rows["node9.example.org"]["layout"] == "sosreport" and rows["node9.example.org"]["host_from"] == "sosreport"
    assert rows["node9.example.org"]["rule_id"] == "SNP-KDUMP-CWB-TIMEOUT"
    assert rows["node10"]["layout"] == "sosreport" and rows["node10"]["origin"].endswith("/sosreport-node10-2026-12-02-fedcba.tar.xz")


def test_globs_expand_and_hosts_come_from_below_their_root(fleet, tmp_path):
    store = open_store(str(tmp_path / "f.db"))
    summary = scan([str(fleet / "host*" / "console.log")], store, jobs=1)
    store.close()
    rows = _rows(tmp_path / "f.db")
    assert summary.found == 3 and sorted(r["host"] for r in rows) == ["hostB", "hostC", "test-ubnt"]

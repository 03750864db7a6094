"""fleet scan against real servers the tests start themselves: a Dask LocalCluster with worker processes
(one killed mid-run) and a PostgreSQL server made with initdb/pg_ctl in tmp_path."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy", reason="fleet needs SQLAlchemy: pip install -e '.[test]'")

from triage.fleet.buckets import build_report  # noqa: E402
from triage.fleet.scan import scan  # noqa: E402
from triage.fleet.store import open_store  # noqa: E402

from .conftest import ROOT  # noqa: E402
from .fleet_helpers import FLEET_CAPTURES, make_fleet  # noqa: E402


def _many(tmp_path, count: int = 80):
    corpus = tmp_path / "many"
    corpus.mkdir()
    sources = sorted((ROOT / "tests" / "corpus" / "real").glob("*.log"))[:count]
    for i, src in enumerate(sources):
        (corpus / f"{i:03d}.log").write_bytes(src.read_bytes())
    return corpus, len({s.read_bytes() for s in sources})


def test_dask_cluster_with_a_worker_killed_accounts_for_every_capture_once(tmp_path):
    distributed = pytest.importorskip("distributed", reason="Dask distributed is in the test extra")
    corpus, distinct = _many(tmp_path)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        pids = list(client.run(os.getpid).values())
        killed = []

        def kill_one(done, total):
            if done == 2 and not killed:  # the first batches are back, others are running
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])

        store = open_store(str(tmp_path / "f.db"))
        # by address, as --scheduler tcp://HOST:PORT gives it: the scan connects its own client
        summary = scan([str(corpus)], store, scheduler=cluster.scheduler_address, progress=kill_one)
        rows = store.rows(("done", "failed", "pending"))
        store.close()
    assert killed, "the worker was not killed"
    hashes = [r["content_hash"] for r in rows]
    assert len(hashes) == len(set(hashes)) == distinct
    assert summary.diagnosed + summary.failed + summary.duplicate == summary.found == len(os.listdir(corpus))
    assert {r["status"] for r in rows} <= {"done", "failed"}
    # the nanny restarts the worker and the scheduler re-runs its tasks: nothing is lost
    assert all(r["status"] == "done" or r["reason"].startswith("worker died") for r in rows)


try:
    from distributed import WorkerPlugin as _WorkerPlugin
except ImportError:  # the Dask tests skip
    _WorkerPlugin = object


class _Deadly(_WorkerPlugin):
    """A Dask worker plugin that makes one capture kill the worker process that diagnoses it (a
    capture that crashes the interpreter), in every worker the nanny starts."""

    name = "snp-triage-deadly"

    def __init__(self, victim: str) -> None:
        self.victim = victim

    def setup(self, worker) -> None:
        from triage.fleet import executors

        real, victim = executors.run_unit, self.victim

        def deadly(unit, settings):
            if unit.origin.endswith(victim):
                os._exit(9)
            return real(unit, settings)

        executors.run_unit = deadly


def test_dask_a_capture_that_kills_its_workers_fails_alone(tmp_path):
    """A batch whose worker died is re-run unit by unit: only the capture that kills every worker
    it runs on ends failed (Dask's KilledWorker), the rest of its batch is diagnosed."""
    distributed = pytest.importorskip("distributed", reason="Dask distributed is in the test extra")
    corpus, _ = _many(tmp_path, 64)  # 4 units a task: the victim shares its batch with three
    victim = "007.log"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        client.register_plugin(_Deadly(victim))
        store = open_store(str(tmp_path / "f.db"))
        summary = scan([str(corpus)], store, scheduler=client)
        rows = store.rows(("done", "failed", "pending"))
        store.close()
    failed = [r for r in rows if r["status"] == "failed"]
    assert [Path(r["origin"]).name for r in failed] == [victim]
    assert failed[0]["reason"].startswith("worker died while diagnosing it (Dask KilledWorker")
    assert summary.diagnosed + summary.failed + summary.duplicate == summary.found == len(os.listdir(corpus))
    assert sum(r["status"] == "done" for r in rows) == len(rows) - 1


def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def postgres(tmp_path):
    """A PostgreSQL server in tmp_path, run as an unprivileged user when the tests run as root."""
    pytest.importorskip("psycopg", reason="psycopg 3 is in the test extra")
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    user = None
    if os.geteuid() == 0:  # postgres refuses to run as root
        for name in ("postgres", "nobody"):
            try:
                user = pwd.getpwnam(name)
                break
            except KeyError:
                continue
        if user is None:
            pytest.skip("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as")
    # pytest's tmp_path sits below a directory only root may enter: the server's own home is beside it
    home = Path(tempfile.mkdtemp(prefix="snp-triage-pg-"))
    data, sock = home / "data", home / "sock"
    sock.mkdir()
    if user is not None:
        for path in (home, sock):
            os.chown(path, user.pw_uid, user.pw_gid)

    def run(*cmd: str) -> subprocess.CompletedProcess:
        full = list(cmd)
        if user is not None:
            full = ["runuser", "-u", user.pw_name, "--"] + full
        return subprocess.run(full, capture_output=True, text=True, timeout=120, cwd=home)

    init = run(f"{bindir}/initdb", "-D", str(data), "-U", "fleet", "--auth=trust", "-E", "UTF8", "--no-sync")
    if init.returncode != 0:
        shutil.rmtree(home, ignore_errors=True)
        pytest.skip(f"initdb could not make a cluster: {init.stderr.strip().splitlines()[-1:]}")
    port = _free_port()
    start = run(f"{bindir}/pg_ctl", "-D", str(data), "-l", str(home / "log"), "-w", "-t", "60",
                "-o", f"-p {port} -k {sock} -h 127.0.0.1 -F", "start")
    if start.returncode != 0:
        pytest.skip(f"pg_ctl could not start the server: {start.stderr.strip() or start.stdout.strip()}")
    try:
        deadline = time.monotonic() + 30
        while run(f"{bindir}/pg_isready", "-h", "127.0.0.1", "-p", str(port)).returncode != 0:
            if time.monotonic() > deadline:
                pytest.skip("the PostgreSQL server did not become ready")
            time.sleep(0.2)
        yield f"postgresql://fleet@127.0.0.1:{port}/postgres"
    finally:
        run(f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(home, ignore_errors=True)


def test_postgresql_store(postgres, tmp_path):
    fleet = make_fleet(tmp_path)
    store = open_store(postgres)
    first = scan([str(fleet)], store, jobs=2)
    again = scan([str(fleet)], store, jobs=2)
    report = build_report(store)
    store.close()
    assert (first.diagnosed, first.failed) == (FLEET_CAPTURES, 0)
    assert (again.diagnosed, again.skipped) == (0, FLEET_CAPTURES - 3)
    assert report.total == FLEET_CAPTURES and report.statuses == {"done": FLEET_CAPTURES}
    assert any(b.rule_id == "SNP-KDUMP-CWB-TIMEOUT" and b.count == 2 for b in report.buckets)
    reopened = open_store(postgres)  # migrations run once: a second open finds schema 1 and changes nothing
    assert reopened.status_counts() == {"done": FLEET_CAPTURES}
    reopened.close()

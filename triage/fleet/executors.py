"""Where the worker task runs: a local process pool (the default) or a Dask cluster (``--scheduler``).

Both run :func:`triage.fleet.task.run_batch` on batches of units and hand each finished batch back to
the coordinator, which alone writes the store.  A worker that dies is not a lost capture:

- the pool: a dead process breaks the whole pool, so the batches in flight are retried one unit at a
  time in a fresh pool; a unit that kills a worker on its own ends ``failed`` ("worker died ...");
- Dask: the scheduler re-runs a dead worker's tasks elsewhere; a task that killed workers past the
  scheduler's allowance comes back as KilledWorker and its units end ``failed`` the same way.

Every unit handed in comes out exactly once, as outcomes or as failures.
"""
from __future__ import annotations

import os
import signal
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from ..errors import UsageError
from .task import run_unit
from .units import Outcome, Settings, Unit

__all__ = ["run_batch", "run_pool", "run_dask", "batches", "WORKER_DIED"]

WORKER_DIED = "worker died while diagnosing it"


def run_batch(units: Sequence[Unit], settings: Settings) -> list[list[Outcome]]:
    """The task both executors run: each unit's outcomes, in order."""
    return [run_unit(unit, settings) for unit in units]


def batches(units: Sequence[Unit], jobs: int, largest: int = 16) -> list[list[Unit]]:
    """Units cut into batches: big enough to keep task overhead small, small enough to spread the work
    (archives always alone: one may hold thousands of captures)."""
    plain = [u for u in units if u.kind != "archive"]
    size = max(1, min(largest, len(plain) // max(1, jobs * 8)))
    out = [plain[i:i + size] for i in range(0, len(plain), size)]
    out.extend([u] for u in units if u.kind == "archive")
    return out


def _died(unit: Unit, detail: str) -> list[Outcome]:
    from .task import _failed, _origin_hash

    return [_failed(unit, unit.content_hash or _origin_hash(unit), f"{WORKER_DIED} ({detail})")]


def _quiet_worker() -> None:
    """Pool workers leave Ctrl-C to the coordinator, which writes what it has and stops them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _pool(jobs: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=jobs, initializer=_quiet_worker)


#: the largest batch of one Dask task: the scheduler's cost is per task, and on a 2-core machine it
#: shares the cores with the workers (4,000 captures, 2 workers: 16 units a task ran 1.33-1.48x the
#: pool's time, 64 1.24-1.33x, 256 1.13-1.22x); a task whose worker dies is re-run unit by unit
DASK_BATCH = 256

#: batches in flight per worker: enough that workers never wait while the coordinator writes a batch
#: of outcomes to the store, few enough that a dead worker leaves little to re-run one by one
IN_FLIGHT = 8


def run_pool(units: Sequence[Unit], settings: Settings, jobs: int) -> Iterator[tuple[Unit, list[Outcome]]]:
    """Run the units on a local process pool, at most IN_FLIGHT batches per worker in flight."""
    work = batches(units, jobs)
    work.reverse()
    pool = _pool(jobs)
    flight: dict[Future, list[Unit]] = {}
    suspects: list[Unit] = []
    try:
        while work or flight:
            while work and len(flight) < jobs * IN_FLIGHT:
                batch = work.pop()
                flight[pool.submit(run_batch, batch, settings)] = batch
            done, _ = wait(flight, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                batch = flight.pop(future)
                try:
                    results = future.result()
                except BrokenProcessPool:
                    broken = True
                    suspects.extend(batch)
                    continue
                yield from zip(batch, results)
            if broken:
                for batch in flight.values():
                    suspects.extend(batch)
                flight.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                yield from _one_by_one(suspects, settings)
                suspects = []
                pool = _pool(jobs)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _one_by_one(units: list[Unit], settings: Settings) -> Iterator[tuple[Unit, list[Outcome]]]:
    """The units that were in flight when a worker died, each alone in a one-process pool (a fresh
    one after each death): the unit that kills it is the culprit, the others are diagnosed."""
    pool = _pool(1)
    try:
        for unit in units:
            try:
                results = pool.submit(run_batch, [unit], settings).result()
                yield unit, results[0]
            except BrokenProcessPool:
                yield unit, _died(unit, "the process ended while running it alone")
                pool.shutdown(wait=False, cancel_futures=True)
                pool = _pool(1)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def run_dask(units: Sequence[Unit], settings: Settings, scheduler: str | object,
             jobs: int = 2) -> Iterator[tuple[Unit, list[Outcome]]]:
    """Run the units on a Dask cluster: ``scheduler`` is its address or a distributed.Client."""
    try:
        from distributed import Client, as_completed
        from distributed.client import FutureCancelledError
        from distributed.scheduler import KilledWorker
    except ImportError:
        raise UsageError("snp-triage fleet scan: --scheduler needs Dask: pip install 'snp-triage[dask]'") from None
    own = not hasattr(scheduler, "submit")
    try:
        client = Client(scheduler, timeout=30) if own else scheduler
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"snp-triage fleet scan: --scheduler {scheduler}: cannot connect: {exc}") from None
    workers = max(1, len(client.scheduler_info().get("workers", {})) or jobs)
    try:
        futures: dict = {}
        tries: dict[int, int] = {}
        for batch in batches(units, workers, largest=DASK_BATCH):
            # pure=False: two batches with equal units are still two tasks (each unit is accounted once)
            futures[client.submit(run_batch, batch, settings, pure=False)] = batch
        queue = as_completed(list(futures))
        for future in queue:
            batch = futures.pop(future)
            try:
                results = future.result()
            except KilledWorker as exc:
                if len(batch) > 1:  # as the pool does: each unit alone, so only the one that kills dies
                    for unit in batch:
                        alone = client.submit(run_batch, [unit], settings, pure=False)
                        futures[alone] = [unit]
                        queue.add(alone)
                    continue
                results = [_died(u, f"Dask KilledWorker: {_short(exc)}") for u in batch]
            except FutureCancelledError:
                results = [_died(u, "Dask cancelled the task") for u in batch]
            except Exception as exc:  # the connection to a dying worker broke: once more, then a failure
                if tries.get(id(batch), 0) < 1:
                    tries[id(batch)] = 1
                    again = client.submit(run_batch, batch, settings, pure=False)
                    futures[again] = batch
                    queue.add(again)
                    continue
                results = [_died(u, f"Dask: {type(exc).__name__}: {_short(exc)}") for u in batch]
            yield from zip(batch, results)
    finally:
        if own:
            client.close()


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:120]


def default_jobs() -> int:
    """The core count this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1

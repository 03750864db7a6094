"""A progress bar on stderr for inputs that take more than a second: only on a terminal, never when
piped or with --quiet (bytes read, throughput, time left)."""
from __future__ import annotations

import sys
import time
from collections.abc import Callable

from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                           TransferSpeedColumn)

from ..report.render import console

__all__ = ["ProgressBar"]

#: seconds an input must take before the bar shows
SHOW_AFTER = 1.0


class ProgressBar:
    """One bar per input, shown once reading it has taken SHOW_AFTER seconds; a no-op when disabled."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._progress: Progress | None = None

    def for_input(self, name: str) -> Callable[[int, int | None], None] | None:
        if not self.enabled:
            return None
        started = time.monotonic()
        task: list[int] = []

        def update(done: int, total: int | None) -> None:
            if not task:
                if time.monotonic() - started < SHOW_AFTER:
                    return
                if self._progress is None:
                    self._progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                              TransferSpeedColumn(), TimeRemainingColumn(),
                                              console=console(stderr=True), transient=True)
                    self._progress.start()
                task.append(self._progress.add_task(name, total=total))
            self._progress.update(task[0], completed=done, total=total)  # type: ignore[union-attr]

        return update

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

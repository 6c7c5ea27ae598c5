"""Progress of the long steps of indexing: chunking, quotations, embedding, BM25, saving.

A ``Report`` is called as ``report(step, done, total)``. ``ConsoleProgress`` draws one bar per
step on a terminal, and on anything else (a log, a pipe) prints one line when a step ends, so a
log never fills with redrawn bars.

Example:
    >>> seen = []
    >>> report: Report = lambda step, done, total: seen.append((step, done, total))
    >>> report("embedding", 32, 64)
    >>> seen
    [('embedding', 32, 64)]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

Report = Callable[[str, int, int], None]


def silent(step: str, done: int, total: int) -> None:
    """The report that shows nothing."""


class ConsoleProgress:
    """A ``Report`` on stderr: live bars on a terminal, one line per finished step elsewhere."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self._bars = Progress(
            TextColumn("{task.description:<11}"),
            BarColumn(bar_width=30),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
        )
        self._tasks: dict[str, tuple[TaskID, float]] = {}  # step -> (bar, start time)
        self._finished: set[str] = set()

    def __call__(self, step: str, done: int, total: int) -> None:
        if step not in self._tasks:
            if self.console.is_terminal and not self._tasks:
                self._bars.start()
            self._tasks[step] = (self._bars.add_task(step, total=total), time.perf_counter())
        bar, started = self._tasks[step]
        if self.console.is_terminal:
            self._bars.update(bar, completed=done, total=total)
        elif done >= total and step not in self._finished:
            seconds = time.perf_counter() - started
            self.console.print(f"{step}: {total:,} in {seconds:.1f} s")
        if done >= total:
            self._finished.add(step)

    def __enter__(self) -> ConsoleProgress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._tasks and self.console.is_terminal:
            self._bars.stop()

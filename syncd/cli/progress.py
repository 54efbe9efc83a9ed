"""Live progress of long work on a terminal: a sync's phases and each source's records so far, or a spinner for
work that cannot count its steps (``db verify``), drawn with rich on stderr and cleared when the work ends.

Only on a terminal, and never with ``--json`` or ``-q``: a script, a pipe or a log file sees exactly the output it
always saw. The run itself knows nothing of this: it calls the :class:`syncd.sync.progress.Progress` it is given.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress as Bars
from rich.progress import SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from syncd.visible import visible


def wanted(args: argparse.Namespace) -> bool:
    """Progress is for a person at a terminal: stderr (where it is drawn) is one, and the output is text."""
    return not args.json and not args.quiet and sys.stderr.isatty()


@contextmanager
def _bars() -> Iterator[Bars]:
    columns = (SpinnerColumn(finished_text="✓"), TextColumn("{task.description}", markup=False),
               TextColumn("{task.fields[detail]}", markup=False), TimeElapsedColumn())
    # stdout is left alone: it may be a file or a pipe while stderr is the terminal
    with Bars(*columns, console=Console(stderr=True), transient=True, redirect_stdout=False) as bars:
        yield bars


class TerminalProgress:
    """A sync's :class:`~syncd.sync.progress.Progress` as rows on the terminal: "read SOURCE" with its records so
    far (one row per source, read at the same time), then a row per later phase; each with its time."""

    def __init__(self, bars: Bars) -> None:
        self._bars = bars
        self._lock = threading.Lock()        # sources report from their reading threads
        self._sources: dict[str, TaskID] = {}
        self._phase: TaskID | None = None

    def phase(self, name: str) -> None:
        with self._lock:
            self._finish(self._phase)
            if name == "read":      # the sources' own rows show the read
                self._phase = None
                return
            self._phase = self._bars.add_task(visible(name), total=None, detail="")

    def records(self, source: str, count: int, done: bool = False) -> None:
        with self._lock:
            task = self._sources.get(source)
            if task is None:
                task = self._sources[source] = self._bars.add_task(f"read {visible(source)}", total=None, detail="")
            self._bars.update(task, detail=f"{count:,} records")
            if done:
                self._finish(task)

    def _finish(self, task: TaskID | None) -> None:
        if task is not None:
            self._bars.update(task, total=1, completed=1)


@contextmanager
def shown(args: argparse.Namespace) -> Iterator[TerminalProgress | None]:
    """The progress to hand a sync: drawn while the block runs, or None when it is not :func:`wanted`."""
    if not wanted(args):
        yield None
        return
    with _bars() as bars:
        yield TerminalProgress(bars)


@contextmanager
def working(args: argparse.Namespace, what: str) -> Iterator[None]:
    """A spinner with ``what`` and the time so far while the block runs, when progress is :func:`wanted`."""
    if not wanted(args):
        yield
        return
    with _bars() as bars:
        bars.add_task(visible(what), total=None, detail="")
        yield

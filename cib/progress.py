"""Progress on stderr (rich): one bar over the input files, with the records read so far.

Silent when asked. One bar, not one per file, so that 10,000 small exports cost nothing to show.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["record_progress"]


@contextlib.contextmanager
def record_progress(silent: bool, files: int) -> Iterator[Callable[[Any], None]]:
    """Yield ``done(report)``, called once per finished file (a report with a ``read`` count).

    Examples
    --------
    >>> with record_progress(True, 2) as done:
    ...     done(None)
    """
    if silent:
        yield lambda report: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(TextColumn("loading"), BarColumn(), MofNCompleteColumn(), TextColumn("files"),
                  TextColumn("{task.fields[records]:,} records"), TimeElapsedColumn(), console=console,
                  transient=not console.is_terminal) as progress:
        task = progress.add_task("load", total=files, records=0)
        read = 0

        def done(report: Any) -> None:
            nonlocal read
            read += getattr(report, "read", 0)
            progress.update(task, advance=1, records=read)

        yield done

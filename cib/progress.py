"""Progress on stderr (rich), silent when asked or when stderr is not a terminal-like stream."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

__all__ = ["record_progress"]


@contextlib.contextmanager
def record_progress(silent: bool) -> Iterator[Callable[[str], Callable[[int], None] | None]]:
    """Yield ``advance(label)`` returning a per-file callback ``(records_read) -> None``."""
    if silent:
        yield lambda label: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,} records"),
                  TimeElapsedColumn(), console=console, transient=not console.is_terminal) as progress:

        def advance(label: str) -> Callable[[int], None]:
            task = progress.add_task(label[-60:], total=None)
            return lambda n: progress.update(task, completed=n)

        yield advance

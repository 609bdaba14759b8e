"""Crash- and concurrency-safe building blocks of the Parquet workspace: a writer lock, immutable snapshot
directories behind an atomically replaced ``CURRENT`` pointer, reader pins, and fault points for tests.

Rules every writer follows:

- one writer at a time per lock (``flock``; the holder's pid is written into the lock file for the message
  other writers print);
- every file is written under a unique temporary name, flushed to disk, then renamed into place;
- a snapshot directory is complete before it is named in ``CURRENT`` and never changes afterwards;
- a reader *pins* the snapshot it opened with a shared ``flock`` on the snapshot's ``.readers`` file, and
  garbage collection removes only snapshots nobody pins, so a reader never loses a file mid-read.

>>> import tempfile
>>> root = Path(tempfile.mkdtemp())
>>> versions = Versions(root / "gens", "g-")
>>> with WriterLock(root / ".lock").hold():
...     tmp = versions.new_tmp()
...     _ = (tmp / "manifest.json").write_text("{}")
...     versions.publish(tmp).name
'g-000001'
>>> pin = versions.pin()
>>> pin.path.name, (pin.path / "manifest.json").read_text()
('g-000001', '{}')
>>> pin.close()
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cib.errors import StoreError

__all__ = ["Pin", "Versions", "WriterLock", "atomic_write_bytes", "fault_point", "fsync_dir", "fsync_file",
           "link_views", "unique_tmp"]

_FAULT_COUNTER = [0]
READERS = ".readers"
CURRENT = "CURRENT"


def fault_point(step: str) -> None:
    """Crash-test hook. ``CIB_FAULT_TRACE=file`` appends `step` to that file; ``CIB_FAULT_KILL_AT=n`` makes the
    process SIGKILL itself at its n-th fault point (1-based), exactly as ``kill -9`` would. Unset: no effect."""
    trace = os.environ.get("CIB_FAULT_TRACE")
    kill_at = os.environ.get("CIB_FAULT_KILL_AT")
    if not trace and not kill_at:
        return
    _FAULT_COUNTER[0] += 1
    if trace:
        with open(trace, "a", encoding="utf-8") as fh:
            fh.write(f"{_FAULT_COUNTER[0]}\t{step}\n")
    if kill_at and _FAULT_COUNTER[0] == int(kill_at):
        os.kill(os.getpid(), signal.SIGKILL)


def unique_tmp(folder: Path, name: str) -> Path:
    """A temporary name in `folder` that no other process or thread can pick: ``.<name>.<pid>.<uuid>.tmp``."""
    return folder / f".{name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp"


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make renames inside `path` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to a unique temporary file, flush it to disk and rename it over `path`."""
    tmp = unique_tmp(path.parent, path.name)
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def link_views(version: Path, folder: Path, names: list[str]) -> None:
    """Point ``folder/<name>`` at ``version/<name>`` with relative symlinks, each replaced atomically.

    These views let people and tools open ``ws/posts.parquet`` directly; cib itself reads pinned snapshots."""
    for name in names:
        link = folder / name
        tmp = unique_tmp(folder, name)
        os.symlink(os.path.relpath(version / name, folder), tmp)
        os.replace(tmp, link)
    fault_point("views linked")


class WriterLock:
    """An exclusive OS lock (``flock``) on `path`; the lock dies with its process, so a killed writer never
    leaves a stale lock behind."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def holder(self) -> str:
        """The pid written by the current (or last) holder, or ``"?"``."""
        try:
            return self.path.read_text("utf-8").strip() or "?"
        except OSError:
            return "?"

    def busy(self) -> bool:
        """Whether a writer holds the lock now (probed with a shared lock, so the pid inside stays the holder's)."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    def acquire(self, *, wait: bool = True, on_wait: Callable[[str], None] | None = None, what: str = "loaded") -> None:
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            message = f"workspace {self.path.parent} is being {what} by pid {self.holder()}"
            if not wait:
                os.close(fd)
                raise StoreError(f"{message}; try again when it has finished") from None
            if on_wait:
                on_wait(f"{message}; waiting for it to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    @contextlib.contextmanager
    def hold(self, **kwargs: object) -> Iterator[WriterLock]:
        self.acquire(**kwargs)  # type: ignore[arg-type]
        try:
            yield self
        finally:
            self.release()


@dataclass
class Pin:
    """A snapshot directory held open for reading (a shared lock on its ``.readers`` file)."""

    path: Path
    fd: int

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Versions:
    """Numbered, immutable snapshot directories ``<prefix>NNNNNN`` under `folder`; ``CURRENT`` names the newest.

    ``new_tmp``/``publish``/``collect_garbage`` must run under the writer lock of these versions."""

    def __init__(self, folder: Path, prefix: str) -> None:
        self.folder, self.prefix = folder, prefix

    def current(self) -> str | None:
        try:
            name = (self.folder / CURRENT).read_text("utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def new_tmp(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = unique_tmp(self.folder, "new")
        tmp.mkdir()
        (tmp / READERS).touch()
        return tmp

    def publish(self, tmp: Path) -> Path:
        """Fsync `tmp`'s files, give it the next number and point ``CURRENT`` at it (the commit point)."""
        for child in tmp.iterdir():
            if child.is_file():
                fsync_file(child)
        fsync_dir(tmp)
        numbers = [int(p.name[len(self.prefix):]) for p in self.folder.glob(f"{self.prefix}*")
                   if p.name[len(self.prefix):].isdigit()]
        final = self.folder / f"{self.prefix}{max(numbers, default=0) + 1:06d}"
        os.rename(tmp, final)
        fault_point("version renamed, not yet current")
        atomic_write_bytes(self.folder / CURRENT, f"{final.name}\n".encode())
        fsync_dir(self.folder)
        fault_point("version current")
        return final

    def pin(self) -> Pin | None:
        """Pin the current snapshot for reading; ``None`` when nothing was ever published."""
        for _ in range(100):
            name = self.current()
            if name is None:
                return None
            path = self.folder / name
            try:
                fd = os.open(path / READERS, os.O_RDONLY)
            except FileNotFoundError:
                continue  # collected between reading CURRENT and opening it: read CURRENT again
            fcntl.flock(fd, fcntl.LOCK_SH)
            if (path / READERS).exists():
                return Pin(path, fd)
            os.close(fd)
        raise StoreError(f"{self.folder}: could not open a stable snapshot (CURRENT keeps changing)")

    def collect_garbage(self) -> list[str]:
        """Remove every snapshot that is neither current nor pinned by a reader, and leftover temporaries."""
        if not self.folder.is_dir():
            return []
        current = self.current()
        removed = []
        for child in sorted(self.folder.iterdir()):
            if child.name in (CURRENT, current) or child.is_symlink() or not child.is_dir():
                if child.name.endswith(".tmp") and (child.is_file() or child.is_symlink()):
                    child.unlink(missing_ok=True)
                continue
            if child.name.startswith(".trash-"):
                shutil.rmtree(child, ignore_errors=True)
                continue
            try:
                fd = os.open(child / READERS, os.O_RDONLY)
            except FileNotFoundError:
                fd = -1
            try:
                if fd >= 0:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue  # a reader still has it open
            trash = self.folder / f".trash-{uuid.uuid4().hex[:12]}"
            os.rename(child, trash)  # readers re-check the path after locking, so they never pick it up
            if fd >= 0:
                os.close(fd)
            shutil.rmtree(trash, ignore_errors=True)
            removed.append(child.name)
            fault_point("snapshot collected")
        return removed

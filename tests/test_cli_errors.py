"""Every load mistake a user can make gives one clear line and a documented exit code, never a traceback.

Exit codes of ``cib load``: 0 loaded; 1 a file failed / no exports found; 2 usage error; 3 partial.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cib.cli import cli

DATA = Path(__file__).resolve().parent / "data"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _coortweet(tmp_path: Path) -> Path:
    path = tmp_path / "coortweet.csv"
    path.write_text("account_id,content_id,object_id,timestamp_share\na,1,hello there,1741681262\n")
    return path


def _telegram_local(tmp_path: Path) -> Path:
    path = tmp_path / "result.json"
    path.write_text('{"name": "c", "type": "personal_chat", "id": 1, "messages": [{"id": 1, "type": "message", '
                    '"date": "2019-07-12T19:55:32", "from": "a", "from_id": "user1", "text": "x"}]}')
    return path


MISTAKES = [
    ("missing path", lambda t: ["load", str(t / "nope.json")], 2, "does not exist"),
    ("unknown tz", lambda t: ["load", str(DATA / "x" / "io_archive.csv"), "--tz", "Mars/Olympus"], 2,
     "unknown time zone 'Mars/Olympus'"),
    ("unknown platform", lambda t: ["load", str(DATA / "x" / "io_archive.csv"), "--platform", "myspace"], 2,
     "'myspace' is not one of"),
    ("no platform for CooRTweet", lambda t: ["load", str(_coortweet(t))], 1,
     "CooRTweet CSV names no platform; pass --platform"),
    ("not an export", lambda t: ["load", str(DATA / "x" / "io_archive.csv"), str(t / "in" / "notes.txt")], 1,
     "notes.txt: not a recognised export"),
    ("empty folder", lambda t: ["load", str(t / "empty")], 1, "no exports found"),
    ("unknown data file in folder", lambda t: ["load", str(t / "in")], 3, "partial: 1 data file(s) skipped"),
    ("local Telegram dates", lambda t: ["load", str(_telegram_local(t))], 0,
     "warning: " ),
]


@pytest.mark.parametrize(("name", "args", "code", "message"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_load_mistake(tmp_path: Path, name: str, args, code: int, message: str) -> None:  # noqa: ANN001
    (tmp_path / "empty").mkdir()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.txt").write_text("hello,world\n1,2\n")
    (tmp_path / "in" / "io.csv").write_bytes((DATA / "x" / "io_archive.csv").read_bytes())
    exit_code, output = _run(*args(tmp_path), "-w", str(tmp_path / "ws"), "--silent")
    assert exit_code == code, output
    assert message in output
    if code == 2:
        assert not (tmp_path / "ws").exists()

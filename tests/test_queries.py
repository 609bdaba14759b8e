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

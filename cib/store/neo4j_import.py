"""Bulk import: the workspace as ``neo4j-admin database import full`` CSV files, and the import run.

The frames come from :mod:`cib.store.neo4j_model`, the same ones the incremental writer uses, so an imported
database and an incrementally loaded one hold the same nodes, relationships and properties (constraints are
created by the first ``cib`` command that writes, or by ``cib query``).

CSV rules (Neo4j's importer): one file per label / relationship type, a typed header
(``uid:ID(Post)``, ``followers:long``, ``created_at:datetime``, ``urls:string[]``), quotes doubled, fields may
span lines (``--multiline-fields=true``), an empty unquoted field is an absent property and ``""`` an empty
string. Array elements are joined with a delimiter chosen from control characters that occur in no array
element of this workspace; if every candidate occurs, the import refuses with a clear message.

The import tool is ``NEO4J_HOME/bin/neo4j-admin`` of a local installation, or — for the test server and CI —
``java -cp 'JARS/*' org.neo4j.cli.AdminTool`` with the Neo4j jars that ``scripts/neo4j_server.py`` caches.

Examples
--------
>>> _header("followers", pl.Int64())
'followers:long'
>>> _header("urls", pl.List(pl.String()))
'urls:string[]'
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import polars as pl

from cib.errors import StoreError
from cib.store.neo4j_model import ISO_UTC, KEYS, REL_ENDS, GraphFrames, graph_frames

__all__ = ["admin_command", "export_for_container", "import_arguments", "import_workspace", "write_csvs"]

_TYPES = {pl.String: "string", pl.Boolean: "boolean", pl.Float32: "float", pl.Float64: "double",
          pl.Int8: "long", pl.Int16: "long", pl.Int32: "long", pl.Int64: "long", pl.Datetime: "datetime",
          pl.Date: "date"}
_ARRAY_DELIMITERS = ["\x1f", "\x1e", "\x1d", "\x1c", "\x01", "\x02", "\x03"]


def _header(name: str, dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.List):
        return f"{name}:{_TYPES[type(dtype.inner)]}[]"  # type: ignore[index]
    kind = _TYPES[type(dtype)]  # type: ignore[index]
    if kind == "datetime" and not getattr(dtype, "time_zone", None):
        kind = "localdatetime"
    return name if kind == "string" else f"{name}:{kind}"


def _array_delimiter(g: GraphFrames) -> str:
    """The first candidate delimiter that occurs in no list element of any frame."""
    columns = [frame.select(pl.col(name).explode().drop_nulls())
               for frame in (*g.nodes.values(), *g.rels.values())
               for name, dtype in frame.schema.items()
               if isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.String)]
    for candidate in _ARRAY_DELIMITERS:
        if not any(c.select(pl.first().str.contains(candidate, literal=True).any()).item() for c in columns):
            return candidate
    raise StoreError("cannot bulk-import: every candidate array delimiter occurs in the data; "
                     "use `cib load --neo4j` (incremental) instead")


def _csv_frame(frame: pl.DataFrame, delimiter: str, rename: dict[str, str]) -> pl.DataFrame:
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.List):
            inner = col.list.eval(pl.element().cast(pl.String)) if not isinstance(dtype.inner, pl.String) else col
            col = inner.list.join(delimiter)
        elif isinstance(dtype, pl.Datetime) and dtype.time_zone:
            col = col.dt.convert_time_zone("UTC").dt.to_string(ISO_UTC)
        header = rename.get(name) or _header(name, dtype)
        exprs.append(col.alias(header))
    return frame.select(exprs)


def write_csvs(g: GraphFrames, folder: Path, *, seen_as: str | None = None) -> list[str]:
    """Write one CSV per non-empty node/relationship frame; returns the import tool's ``--nodes``/``--relationships``
    arguments, naming the files under `seen_as` (e.g. ``/import`` inside a container) when given."""
    folder.mkdir(parents=True, exist_ok=True)
    delimiter = _array_delimiter(g)
    args = [f"--array-delimiter=U+{ord(delimiter):04X}"]
    for label, frame in g.nodes.items():
        if frame.height:
            path = folder / f"nodes_{label}.csv"
            _csv_frame(frame, delimiter, {KEYS[label]: f"{KEYS[label]}:ID({label})"}).write_csv(path)
            args.append(f"--nodes={label}={_seen(path, seen_as)}")
    for rel, frame in g.rels.items():
        if frame.height:
            src, dst = REL_ENDS[rel]
            path = folder / f"rels_{rel}.csv"
            _csv_frame(frame, delimiter, {"s": f":START_ID({src})", "t": f":END_ID({dst})"}).write_csv(path)
            args.append(f"--relationships={rel}={_seen(path, seen_as)}")
    return args


def _seen(path: Path, seen_as: str | None) -> str:
    return str(path) if seen_as is None else f"{seen_as.rstrip('/')}/{path.name}"


def import_arguments(args: list[str], database: str, *, overwrite: bool, report: str) -> list[str]:
    """The full argument list after ``neo4j-admin``."""
    return ["database", "import", "full", *args, "--multiline-fields=true",
            f"--overwrite-destination={'true' if overwrite else 'false'}", f"--report-file={report}", database]


def export_for_container(store: Any, folder: Path, *, database: str = "neo4j", seen_as: str = "/import") -> Path:
    """Write the CSVs and ``import.args`` (one argument per line, paths under `seen_as`) for a one-shot
    ``neo4j-admin database import full @/import/import.args`` container; returns the args file."""
    g = _frames(store)
    shutil.rmtree(folder, ignore_errors=True)
    args = write_csvs(g, folder, seen_as=seen_as)
    full = import_arguments(args, database, overwrite=True, report="/tmp/import.report")[3:]
    (folder / "import.args").write_text("\n".join(full) + "\n", "utf-8")
    return folder / "import.args"


def _frames(store: Any) -> GraphFrames:
    g = graph_frames(store)
    if not g.nodes["Post"].height and not g.nodes["Account"].height:
        raise StoreError("nothing to import: the workspace has no posts or accounts (run `cib load` first)")
    return g


def admin_command(neo4j_home: Path | None, jars: Path | None) -> list[str]:
    """The import tool: ``NEO4J_HOME/bin/neo4j-admin`` if present, else ``java`` with the cached Neo4j jars."""
    if neo4j_home is not None and (neo4j_home / "bin" / "neo4j-admin").exists():
        return [str(neo4j_home / "bin" / "neo4j-admin")]
    if jars is not None and any(jars.glob("neo4j-import-tool-*.jar")):
        java = shutil.which("java")
        if java is None:
            raise StoreError("the Neo4j import tool needs java (17+) on PATH")
        return [java, "-Xmx2g", "-cp", str(jars / "*"), "org.neo4j.cli.AdminTool"]
    raise StoreError(f"no Neo4j import tool: {neo4j_home}/bin/neo4j-admin does not exist and no Neo4j jars were "
                     "given (--jars, or run `python scripts/neo4j_server.py fetch`)")


def import_workspace(store: Any, neo4j_home: Path, *, database: str = "neo4j", jars: Path | None = None,
                     csv_dir: Path | None = None, overwrite: bool = False,
                     on_stage: Any = None) -> dict[str, Any]:
    """Export the workspace as CSV and run ``database import full`` into `neo4j_home` (server must be stopped).

    Returns counts of what was written per label and type, and the seconds each stage took.
    """
    command = admin_command(neo4j_home, jars)
    started = time.perf_counter()
    g = _frames(store)
    folder = csv_dir or neo4j_home / "import" / "cib"
    shutil.rmtree(folder, ignore_errors=True)
    args = write_csvs(g, folder)
    exported = time.perf_counter()
    neo4j_home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NEO4J_HOME": str(neo4j_home), "NEO4J_CONF": str(neo4j_home / "conf")}
    run = [*command, *import_arguments(args, database, overwrite=overwrite, report=str(folder / "import.report"))]
    proc = subprocess.run(run, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
        reason = next((ln for ln in lines if "rror" in ln or "exist" in ln), lines[-1] if lines else "")
        raise StoreError(f"neo4j-admin database import failed (exit {proc.returncode}): {reason.strip()[:300]}")
    done = time.perf_counter()
    counts = {name: frame.height for name, frame in (*g.nodes.items(), *g.rels.items())}
    return {"counts": counts, "csv_dir": str(folder), "seconds": {
        "export_csv": round(exported - started, 2), "import": round(done - exported, 2),
        "total": round(done - started, 2)}}

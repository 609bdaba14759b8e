"""The `cib` command line: a flat group of verbs; the composition root (only module importing loaders/reports)."""

from __future__ import annotations

import functools
import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cib.errors import CibError, LoaderError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


def _workspace_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--workspace", "-w", type=click.Path(path_type=Path), default=None,
        help="Workspace directory (default: $CIB_WORKSPACE or ./cib-workspace).",
    )(fn)


def _neo4j_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--neo4j", "neo4j_uri", default=None, envvar="CIB_NEO4J_URI", show_envvar=True,
        help="Also use this Neo4j server (bolt://host:port); user/password from CIB_NEO4J_USER/CIB_NEO4J_PASSWORD.",
    )(fn)


def _errors_to_click(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CibError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def _store(workspace: Path | None) -> Any:
    from cib.store import ParquetStore, default_workspace

    return ParquetStore(workspace or default_workspace())


def _echo_err(message: str, silent: bool = False) -> None:
    if not silent:
        click.echo(message, err=True)


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="cib")
def cli() -> None:
    """cib: find coordinated inauthentic behaviour in TikTok, Telegram, Facebook and X exports.

    \b
    Example:
        cib load exports/ --workspace ws
        cib score --workspace ws
        cib report --workspace ws -o report/
        cib export takedown --format csv -o takedown.csv --workspace ws
    """


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@_workspace_option
@_neo4j_option
@click.option("--on-error", type=click.Choice(["quarantine", "abort"]), default="quarantine", show_default=True,
              help="Quarantine bad records with a reason, or stop at the first one.")
@click.option("--batch-size", type=click.IntRange(1), default=50_000, show_default=True,
              help="Records per written batch.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--silent", is_flag=True, help="No progress on stderr.")
@_errors_to_click
def load(paths: tuple[Path, ...], workspace: Path | None, neo4j_uri: str | None, on_error: str, batch_size: int,
         as_json: bool, silent: bool) -> None:
    """Load exports (files or directories; formats are sniffed from content) into the workspace.

    \b
    Example:
        cib load result.json tweets.jsonl crowdtangle.csv --workspace ws
    """
    from cib.ingest import detect, expand_paths, ingest_file
    from cib.plugins import get_loaders
    from cib.progress import record_progress

    store = _store(workspace)
    loaders = get_loaders()
    explicit, found = expand_paths(paths)
    jobs: list[tuple[Path, Any, str]] = []
    failures: list[str] = []
    skipped = 0
    for path in explicit + found:
        try:
            loader, fmt = detect(path, loaders)
            jobs.append((path, loader, fmt))
        except LoaderError as exc:
            if path in explicit:
                failures.append(str(exc))
            else:
                skipped += 1
    reports = []
    with record_progress(silent) as advance:
        for path, loader, fmt in jobs:
            report = ingest_file(path, loader, fmt, store, on_error=on_error, batch_size=batch_size,
                                 progress=advance(str(path)))
            reports.append(report)
            if report.error:
                failures.append(report.error)
    counts = store.finalize()
    if neo4j_uri:
        from cib.store.neo4j import Neo4jStore

        with Neo4jStore.from_env(neo4j_uri) as graph:
            graph.load_from(store)
    _print_load_summary(reports, counts, skipped, as_json)
    for failure in failures:
        click.echo(f"error: {failure}", err=True)
    if failures:
        sys.exit(1)


def _print_load_summary(reports: list[Any], counts: dict[str, int], skipped: int, as_json: bool) -> None:
    per_platform: dict[str, Counter[str]] = {}
    reasons: Counter[str] = Counter()
    for r in reports:
        c = per_platform.setdefault(r.platform, Counter())
        c.update(read=r.read, posts=r.posts, accounts=r.accounts, media=r.media, quarantined=r.quarantined)
        reasons.update(r.reasons)
    read = sum(r.read for r in reports)
    loaded = sum(r.posts + r.accounts for r in reports)
    quarantined = sum(r.quarantined for r in reports)
    summary = {"files": [r.as_dict() for r in reports], "platforms": {k: dict(v) for k, v in sorted(per_platform.items())},
               "workspace": counts, "read": read, "loaded": loaded, "quarantined": quarantined,
               "reconciled": read == loaded + quarantined, "skipped_files": skipped,
               "quarantine_reasons": dict(sorted(reasons.items()))}
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    for platform, c in sorted(per_platform.items()):
        click.echo(f"{platform:9} read {c['read']:>9,}  posts {c['posts']:>9,}  accounts {c['accounts']:>7,}  "
                   f"media {c['media']:>8,}  quarantined {c['quarantined']:>7,}")
    click.echo(f"records read {read:,} = loaded {loaded:,} + quarantined {quarantined:,}"
               f" ({'reconciled' if summary['reconciled'] else 'DOES NOT RECONCILE'})")
    click.echo(f"workspace now: {counts['posts']:,} posts, {counts['accounts']:,} accounts, {counts['media']:,} media, "
               f"{counts['links']:,} links (duplicates merged by id)")
    for reason, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
        click.echo(f"  quarantined {n:>7,} × {reason}")
    if skipped:
        click.echo(f"skipped {skipped} file(s) in directories that are not recognised exports")

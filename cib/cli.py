"""The `cib` command line: a flat group of verbs; the composition root (only module importing loaders/reports)."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cib.errors import CibError
from cib.textsafe import terminal_safe

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


def _workspace_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--workspace", "-w", type=click.Path(path_type=Path), default=None,
        help="Workspace directory (default: $CIB_WORKSPACE or ./cib-workspace).",
    )(fn)


class _UsageLine(click.ClickException):
    """A usage mistake in one line (no usage text), exit code 2 like click's own usage errors."""

    exit_code = 2


def _check_neo4j_uri(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from cib.store.neo4j import check_uri

    try:
        return None if value is None else check_uri(value)
    except CibError as exc:
        raise _UsageLine(str(exc)) from None


def _neo4j_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--neo4j", "neo4j_uri", default=None, envvar="CIB_NEO4J_URI", show_envvar=True, callback=_check_neo4j_uri,
        help="Also use this Neo4j server (bolt://host:port); user/password from CIB_NEO4J_USER/CIB_NEO4J_PASSWORD.",
    )(fn)


def _graph(neo4j_uri: str | None) -> Any:
    """A connected Neo4jStore (fails within ~5 s, one line, when unreachable), or None without --neo4j."""
    if not neo4j_uri:
        return None
    from cib.store.neo4j import Neo4jStore

    return Neo4jStore.from_env(neo4j_uri)


def _errors_to_click(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CibError as exc:
            raise click.ClickException(terminal_safe(str(exc))) from exc

    return wrapper


def _store(workspace: Path | None, *, wait: bool = True, report_interrupted: bool = True) -> Any:
    """The workspace store; warns on stderr about loads that were killed before they committed."""
    from cib.store import ParquetStore, default_workspace

    store = ParquetStore(workspace or default_workspace(), wait=wait,
                         on_wait=lambda message: _echo_err(terminal_safe(message)))
    if report_interrupted:
        for note in store.interrupted():
            _echo_err(terminal_safe(f"warning: {note}; the workspace still holds what was committed before it. "
                                    "Run that load again to load those files (its partial data is discarded then)."))
    return store


def _warn_if_stale(store: Any) -> None:
    scored_on, now = store.score_params().get("workspace_generation"), store.generation()
    if scored_on and scored_on != now:
        _echo_err(f"warning: the scores were computed on workspace generation {scored_on}, but {now} has been "
                  "loaded since; run `cib score` again to include the new data")


def _echo_err(message: str, silent: bool = False) -> None:
    if not silent:
        click.echo(message, err=True)


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="cib", prog_name="cib")
def cli() -> None:
    """cib: find coordinated inauthentic behaviour in TikTok, Telegram, Facebook and X exports.

    \b
    Example:
        cib load exports/ --workspace ws
        cib score --workspace ws
        cib report --workspace ws -o report/
        cib export takedown --format csv -o takedown.csv --workspace ws
    """


def _register_media() -> None:
    from cib.media_cli import media

    cli.add_command(media)


_register_media()
EXIT_PARTIAL = 3


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@_workspace_option
@_neo4j_option
@click.option("--on-error", type=click.Choice(["quarantine", "abort"]), default="quarantine", show_default=True,
              help="Quarantine bad records with a reason, or stop at the first one.")
@click.option("--batch-size", type=click.IntRange(1), default=50_000, show_default=True,
              help="Records per written batch.")
@click.option("--tz", "tz", default=None, metavar="ZONE",
              help="Zone of naive local times (CrowdTangle CSV, Telegram 'date'), e.g. America/Sao_Paulo or +03:00.")
@click.option("--platform", type=click.Choice(["x", "facebook", "tiktok"]), default=None,
              help="Platform of files whose format names none (CooRTweet CSV).")
@click.option("--skip-unknown", is_flag=True,
              help="Exit 0 even when data files that are not recognised exports were skipped (they are still listed).")
@click.option("--jobs", "-j", type=click.IntRange(1), default=None,
              help="Worker processes across files (default: one per CPU).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--silent", is_flag=True, help="No progress on stderr.")
@click.option("--no-wait", is_flag=True, help="Fail at once if another load holds the workspace (default: wait).")
@_errors_to_click
def load(paths: tuple[Path, ...], workspace: Path | None, neo4j_uri: str | None, on_error: str, batch_size: int,
         tz: str | None, platform: str | None, skip_unknown: bool, jobs: int | None, as_json: bool,
         silent: bool, no_wait: bool = False) -> None:
    """Load exports (files or directories; formats are sniffed from content) into the workspace.

    \b
    Exit codes: 0 every export loaded (quarantined records are listed); 1 a file failed or no exports
    were found; 2 usage error; 3 partial: data files that are not recognised exports were skipped
    (named in the summary; --skip-unknown makes that 0).

    \b
    Example:
        cib load result.json tweets.jsonl crowdtangle.csv --workspace ws
        cib load ct_brazil.csv --tz America/Sao_Paulo
        cib load coortweet.csv --platform facebook
    """
    from cib.ingest import plan, run_jobs
    from cib.plugins import get_loaders
    from cib.progress import record_progress
    from loaders._common import LoadOptions
    from loaders._time import zone

    if tz is not None:
        try:
            zone(tz)
        except CibError as exc:
            raise click.BadParameter(str(exc), param_hint="--tz") from exc
    graph = _graph(neo4j_uri)  # connect first: an unreachable server fails before any loading
    loaders = get_loaders()
    options = LoadOptions(tz=tz, platform=platform)
    for loader in loaders:
        loader.options = options
    todo = plan(paths, loaders)
    failures = [f"{path}: {reason}" for path, reason in todo.failed]
    if not todo.jobs:
        if graph is not None:
            graph.driver.close()
        _print_files(todo, [], as_json)
        for failure in failures:
            click.echo(f"error: {terminal_safe(failure)}", err=True)
        raise click.ClickException(f"no exports found in {terminal_safe(', '.join(str(p) for p in paths))}"
                                   + (f" ({len(todo.skipped)} data file(s) not recognised)" if todo.skipped else ""))
    store = _store(workspace, wait=not no_wait, report_interrupted=False)
    for note in store.begin_load([str(path) for path, _, _ in todo.jobs]):  # takes the writer lock
        _echo_err(terminal_safe(f"note: {note}"))
    with record_progress(silent, len(todo.jobs)) as done:
        reports = run_jobs(todo.jobs, store, on_error=on_error, batch_size=batch_size, workers=jobs, done=done)
    failures += [r.error for r in reports if r.error]
    counts = store.finalize()
    if graph is not None:
        with graph:
            graph.load_from(store)
    _print_load_summary(reports, counts, todo, as_json)
    for report in reports:
        for note, n in sorted(report.notes.items()):
            click.echo(f"warning: {terminal_safe(report.path)}: {n:,} record(s): {note}", err=True)
    for failure in failures:
        click.echo(f"error: {terminal_safe(failure)}", err=True)
    if failures:
        sys.exit(1)
    if todo.skipped and not skip_unknown:
        click.echo(f"partial: {len(todo.skipped)} data file(s) skipped as not recognised exports "
                   "(listed above; --skip-unknown to accept)", err=True)
        sys.exit(EXIT_PARTIAL)


def _print_files(todo: Any, reports: list[Any], as_json: bool) -> None:
    if as_json:
        return
    for path, reason in todo.skipped:
        click.echo(f"skipped  {terminal_safe(str(path))}: {reason}")
    groups: dict[tuple[str, str], list[Path]] = {}
    for path, reason in todo.ignored:
        groups.setdefault((str(path.parent), reason), []).append(path)
    for (folder, reason), members in sorted(groups.items()):
        if len(members) > 3:  # e.g. the photos of a Telegram export: one line (every path is in --json)
            click.echo(f"ignored  {len(members):,} files in {terminal_safe(folder)}: {reason}")
        else:
            for path in members:
                click.echo(f"ignored  {terminal_safe(str(path))}: {reason}")


def _print_load_summary(reports: list[Any], counts: dict[str, int], todo: Any, as_json: bool) -> None:
    from cib.textsafe import json_display_safe

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
               "reconciled": read == loaded + quarantined,
               "failed_files": [{"path": str(p), "reason": r} for p, r in todo.failed],
               "skipped_files": [{"path": str(p), "reason": r} for p, r in todo.skipped],
               "ignored_files": [{"path": str(p), "reason": r} for p, r in todo.ignored],
               "quarantine_reasons": dict(sorted(reasons.items()))}
    if as_json:
        click.echo(json_display_safe(json.dumps(summary, indent=2, ensure_ascii=False)))
        return
    for platform, c in sorted(per_platform.items()):
        click.echo(f"{terminal_safe(platform):9} read {c['read']:>9,}  posts {c['posts']:>9,}  accounts {c['accounts']:>7,}  "
                   f"media {c['media']:>8,}  quarantined {c['quarantined']:>7,}")
    click.echo(f"records read {read:,} = loaded {loaded:,} + quarantined {quarantined:,}"
               f" ({'reconciled' if summary['reconciled'] else 'DOES NOT RECONCILE'})")
    click.echo(f"workspace now: {counts['posts']:,} posts, {counts['accounts']:,} accounts, {counts['media']:,} media, "
               f"{counts['links']:,} links (duplicates merged by id)")
    for reason, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
        click.echo(f"  quarantined {n:>7,} × {terminal_safe(reason)}")
    _print_files(todo, reports, as_json)


_DEFAULT_THRESHOLD = 0.1  # = cib.clustering.ClusterParams().flag_threshold (kept here: no heavy import at start)


def _score_params(window: int, min_shared: int, min_weight: float, threshold: float, seed: int,
                  fdr: float = 0.01, pair_fdr: float = 0.2, account_priors: bool = True) -> Any:
    from cib.clustering import ClusterParams
    from cib.scoring import ScoreParams

    return ScoreParams(window_s=window, min_shared=min_shared, min_weight=min_weight, fdr=fdr, pair_fdr=pair_fdr,
                       cluster=ClusterParams(flag_threshold=threshold, seed=seed, account_priors=account_priors))


def _score_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed([
        click.option("--window", type=click.IntRange(1), default=3600, show_default=True,
                     help="Co-posting time window in seconds."),
        click.option("--min-shared", type=click.IntRange(1), default=3, show_default=True,
                     help="Distinct co-posting events a pair needs."),
        click.option("--min-weight", type=click.FloatRange(0, 1), default=0.0, show_default=True,
                     help="Minimum normalised (IDF) pair weight; significance does the filtering by default."),
        click.option("--threshold", type=click.FloatRange(0, 1), default=_DEFAULT_THRESHOLD, show_default=True,
                     help="Cluster score at which a significant cluster is flagged; score = min(1, -log10(q)/20) "
                          "for the cluster's Benjamini-Hochberg adjusted p-value q."),
        click.option("--fdr", type=click.FloatRange(1e-300, 1), default=0.01, show_default=True,
                     help="False discovery rate (Benjamini-Hochberg) over clusters."),
        click.option("--pair-fdr", type=click.FloatRange(1e-300, 1), default=0.2, show_default=True,
                     help="False discovery rate over candidate account pairs (the edges clustered)."),
        click.option("--account-priors/--no-account-priors", default=True, show_default=True,
                     help="Let verified, large or long-established accounts mark syndication as authentic."),
        click.option("--seed", type=int, default=42, show_default=True, help="Seed for clustering."),
    ]):
        fn = option(fn)
    return fn


@cli.command()
@_workspace_option
@_neo4j_option
@_score_options
@click.option("--top", type=click.IntRange(1), default=20, show_default=True, help="Clusters shown in the table.")
@click.option("--silent", is_flag=True, help="No per-stage figures on stderr.")
@click.option("--xlingual/--no-xlingual", default=False, show_default=True,
              help="Also link the same narrative captioned in other languages (co_caption_xlingual); needs "
                   "pip install 'cib[xlingual]'. Embeds only captions of accounts already in a significant pair, "
                   "cached in the workspace (cache/embeddings/).")
@click.option("--engine", type=click.Choice(["polars", "spark"]), default="polars", show_default=True,
              help="polars: this machine; spark: Apache Spark (pip install 'cib[spark]'), same results.")
@click.option("--master", default=None, metavar="URL",
              help="Spark master for --engine spark (default: the active session, else local[<cores>]).")
@click.option("--input", "input_uri", default=None, metavar="URI",
              help="--engine spark: score the workspace at this path or Hadoop URI (s3a://, abfss://, gs://, "
                   "hdfs://) instead of --workspace; results still go to --workspace.")
@click.option("--driver-edges", type=click.IntRange(0), default=None, metavar="N",
              help="--engine spark: cluster on the driver up to N significant edges, above that per connected "
                   "component in Spark (default 2,000,000; 0 always clusters in Spark).")
@_errors_to_click
def score(workspace: Path | None, neo4j_uri: str | None, window: int, min_shared: int, min_weight: float,
          threshold: float, fdr: float, pair_fdr: float, account_priors: bool, seed: int, top: int,
          silent: bool, xlingual: bool = False, engine: str = "polars", master: str | None = None,
          input_uri: str | None = None, driver_edges: int | None = None) -> None:
    """Detect coordinated clusters and store clusters, members, edges and evidence.

    \b
    Example:
        cib score --workspace ws --window 600
        cib score --workspace ws --engine spark --master 'local[2]'
    """
    from cib.scoring import score as run_score

    store = _store(workspace)
    params = _score_params(window, min_shared, min_weight, threshold, seed, fdr, pair_fdr, account_priors)
    caption_cache = _caption_cache(store.root) if xlingual else None
    if xlingual:
        params = dataclasses.replace(params, xlingual=True)
    if engine == "spark" or input_uri or master or driver_edges is not None:
        if engine != "spark" or neo4j_uri:
            raise click.UsageError("--input, --master and --driver-edges need --engine spark; --engine spark takes "
                                   "no --neo4j")
        from cib.engines.spark import DRIVER_EDGES, run_on_workspace

        result, recorded = run_on_workspace(store, input_uri, master, params, on_stage=_stage_printer(silent),
                                            driver_edges=DRIVER_EDGES if driver_edges is None else driver_edges,
                                            caption_cache=caption_cache)
        _xlingual_figures(result.xlingual, silent)
        store.write_scores(result.tables, {**params.as_dict(), "capped_objects": result.capped_objects,
                                           "xlingual_figures": result.xlingual, **recorded})
        _print_clusters(result.tables["clusters"], top)
        return
    graph = _graph(neo4j_uri)
    if graph is not None and not store.counts()["posts"]:  # nothing loaded here: score what Neo4j holds
        posts, accounts, where = graph.posts(), graph.accounts(), f"Neo4j at {neo4j_uri}"
    else:
        posts, accounts, where = store.posts(), store.accounts(), f"workspace {store.root}"
    _require_posts(posts, where)
    result = run_score(posts, accounts, params, on_stage=_stage_printer(silent), caption_cache=caption_cache)
    _xlingual_figures(result.xlingual, silent)
    store.write_scores(result.tables, {**params.as_dict(), "capped_objects": result.capped_objects,
                                       "inputs": store.inputs(), "xlingual_figures": result.xlingual})
    if graph is not None:  # clusters and coordination edges only, never a reload of the posts
        with graph:
            graph.write_scores(store)
    _print_clusters(result.tables["clusters"], top)


def _xlingual_figures(x: dict[str, Any] | None, silent: bool) -> None:
    if x is not None:
        _echo_err(f"co_caption_xlingual: {x['captions']:,} distinct captions of {x['accounts']:,} candidate "
                  f"accounts, {x['embedded']:,} embedded now, {x['captions'] - x['embedded']:,} from the cache, "
                  f"{x['grouped']:,} in a cross-lingual group", silent)


def _caption_cache(root: Path) -> Callable[[list[str]], Any]:
    """Opener of the workspace's caption-embedding cache; a one-line exit 2 when the model is not installed."""
    from cib.signals.xlingual import MISSING, available, model_id
    from cib.store.embeddings import EmbeddingCache

    if not available():
        raise _UsageLine(MISSING)
    model = model_id()
    return lambda texts: EmbeddingCache.open(root, model, texts)


def _require_posts(posts: Any, where: str) -> None:
    """A one-line error instead of scoring nothing (and instead of a traceback from an empty frame)."""
    if posts.head(1).collect().height == 0:
        raise click.ClickException(f"no posts in {where}: run `cib load EXPORTS` with the same workspace first")


def _stage_printer(silent: bool) -> Callable[[dict[str, Any]], None]:
    return lambda e: _echo_err(f"{e['stage']:>16}: {e['seconds']:7.2f} s  {e['rows']:>10,} rows  "
                               f"rss {e['rss_mb']:,.0f} MB", silent)


def _print_clusters(clusters: Any, top: int) -> None:
    import polars as pl
    from rich.console import Console
    from rich.table import Table

    from cib.textsafe import rich_text

    classes = clusters["cluster_class"] if "cluster_class" in clusters.columns else pl.Series([""] * clusters.height)
    authentic = int((classes == "authentic").sum() or 0)
    table = Table(title=f"{clusters.height} clusters, {int(clusters['flagged'].sum() or 0)} flagged",
                  caption=f"{authentic} authentic coordination (syndication): not flagged")
    for col in ("rank", "cluster", "score", "flag", "size", "platforms", "signals"):
        table.add_column(col)
    for row in clusters.head(top).iter_rows(named=True):  # flag: ● flagged, A authentic coordination
        mark = "●" if row["flagged"] else "A" if row.get("cluster_class") == "authentic" else ""
        # every cell literal: no markup, controls escaped
        table.add_row(*map(rich_text, (row["rank"], row["cluster_id"], f"{row['score']:.2f}", mark, row["size"],
                                       ",".join(row["platforms"]), ",".join(row["signals"]))))
    Console(soft_wrap=True).print(table)


@cli.command()
@_workspace_option
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True, help="Directory for the HTML files.")
@click.option("--flagged-only", is_flag=True, help="Only clusters above the threshold.")
@click.option("--max-edges", type=click.IntRange(1), default=4000, show_default=True, help="Edges drawn per graph.")
@_errors_to_click
def report(workspace: Path | None, output: Path, flagged_only: bool, max_edges: int) -> None:
    """Write the offline HTML report: index, overview graph and one dossier page per cluster.

    \b
    Example:
        cib report --workspace ws -o report/
    """
    from reports import write_report

    store = _store(workspace)
    _warn_if_stale(store)
    files = write_report(output, clusters=store.scores("clusters"), members=store.scores("members"),
                         edges=store.scores("edges"), accounts=store.accounts().collect(),
                         posts=store.posts().select("uid", "account_uid", "created_at", "text", "post_url",
                                                    "source_file").collect(),
                         evidence=store.scores("evidence"), media=store.media().select("post_uid", "kind", "path").collect(),
                         max_edges=max_edges, include_unflagged=not flagged_only)
    click.echo(f"wrote {len(files)} files to {output} (open {output / 'index.html'})")


@cli.group()
def export() -> None:
    """Exports for takedown requests."""


@export.command("takedown")
@_workspace_option
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True,
              help="Main file format.")
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True, help="Main output file.")
@click.option("--stix", is_flag=True, help="Also write a STIX 2.1 bundle.")
@click.option("--include-authentic", is_flag=True,
              help="Also list clusters classed as authentic coordination (syndication); left out by default.")
@click.option("--media-signals", type=click.Path(path_type=Path), default=None,
              help="Also write the flagged accounts' media as ThreatExchange/HMA signals (pdq, video_md5, vpdq).")
@_errors_to_click
def export_takedown(workspace: Path | None, fmt: str, output: Path, stix: bool, include_authentic: bool = False,
                    media_signals: Path | None = None) -> None:
    """One row per account of a flagged cluster, per-platform files and a manifest.

    \b
    Example:
        cib export takedown --format csv -o takedown.csv --workspace ws --stix
    """
    from cib import __version__
    from reports import takedown_rows, write_takedown

    store = _store(workspace)
    import polars as pl

    clusters = store.scores("clusters")
    _warn_if_stale(store)
    if include_authentic and "cluster_class" in clusters.columns:
        clusters = clusters.with_columns(flagged=pl.col("flagged") | (pl.col("cluster_class") == "authentic"))
    rows = takedown_rows(clusters, store.scores("members"), store.accounts().collect(), store.scores("evidence"),
                         store.posts().select("uid", "account_uid", "created_at", "post_url").collect())
    params = store.score_params()
    manifest = {"cib_version": __version__,
                "inputs": {k: {"path": v["path"], "sha256": v["sha256"],
                               **({"assumptions": v["assumptions"]} if v.get("assumptions") else {})}
                           for k, v in params.pop("inputs", {}).items()},
                "parameters": params, "seed": params.get("cluster", {}).get("seed"),
                "workspace_generation": params.get("workspace_generation")}
    manifest["include_authentic"] = include_authentic
    files = write_takedown(rows, output, fmt, manifest=manifest, clusters=clusters, stix=stix)
    click.echo(f"{rows.height} accounts in {rows['cluster_id'].n_unique()} flagged clusters")
    for path in files:
        click.echo(f"wrote {path}")
    if media_signals is not None:
        from cib.mediahash.export import write_media_signals

        flagged = clusters.filter(clusters["flagged"]).select("cluster_id")
        accounts = set(store.scores("members").join(flagged, on="cluster_id")["account_uid"])
        written, skipped = write_media_signals(store.media().collect(), accounts, media_signals)
        click.echo(f"wrote {media_signals} ({written} signals"
                   + (f"; {skipped} videos skipped: file gone or changed since the load)" if skipped else ")"))


@export.command("graph")
@_workspace_option
@click.option("--format", "fmt", type=click.Choice(["graphml", "gexf"]), default="graphml", show_default=True,
              help="Graph file format (Gephi reads both).")
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True, help="Output file.")
@_errors_to_click
def export_graph(workspace: Path | None, fmt: str, output: Path) -> None:
    """The scored account graph with node and edge attributes, for Gephi and other graph tools.

    \b
    Example:
        cib export graph --format gexf -o accounts.gexf --workspace ws
    """
    from cib.graph import write_graph

    store = _store(workspace)
    nodes, edges = write_graph(output, fmt, edges=store.scores("edges"), clusters=store.scores("clusters"),
                               members=store.scores("members"), accounts=store.accounts().collect())
    click.echo(f"wrote {nodes} accounts and {edges} edges to {output}")


@cli.command()
@_workspace_option
@click.option("--truth", type=click.Path(exists=True, path_type=Path), required=True,
              help="ground_truth.json written by the scenario generator.")
@_errors_to_click
def evaluate(workspace: Path | None, truth: Path) -> None:
    """Precision, recall and F1 of the flagged accounts against ground truth (JSON on stdout).

    \b
    Example:
        cib evaluate --workspace ws --truth scenario/ground_truth.json
    """
    from cib.evaluate import evaluate as run

    store = _store(workspace)
    click.echo(json.dumps(run(store.scores("clusters"), store.scores("members"), truth), indent=2))


@cli.command()
@click.option("--output", "-o", type=click.Path(path_type=Path), default=Path("cib-demo"), show_default=True,
              help="Directory for the scenario, workspace, report and takedown list.")
@click.option("--seed", type=int, default=7, show_default=True, help="Scenario seed.")
@click.option("--accounts", type=click.IntRange(50), default=400, show_default=True,
              help="Organic accounts per platform.")
@click.pass_context
def demo(ctx: click.Context, output: Path, seed: int, accounts: int) -> None:
    """Generate a scenario, then load → score → report → takedown list → evaluate, all on the embedded store.

    \b
    Example:
        cib demo -o cib-demo
    """
    from cib.scenario import generate

    scenario = generate(output / "scenario", seed=seed, accounts=accounts)
    click.echo(f"scenario: {sum(scenario.counts.values()):,} posts written to {output / 'scenario'}")
    ws = output / "workspace"
    ctx.invoke(load, paths=(output / "scenario",), workspace=ws, neo4j_uri=None, on_error="quarantine",
               batch_size=50_000, as_json=False, silent=True)
    ctx.invoke(score, workspace=ws, neo4j_uri=None, top=20, silent=False)  # every tuning option at its default
    ctx.invoke(report, workspace=ws, output=output / "report", flagged_only=False, max_edges=4000)
    ctx.invoke(export_takedown, workspace=ws, fmt="csv", output=output / "takedown.csv", stix=True)
    ctx.invoke(evaluate, workspace=ws, truth=output / "scenario" / "ground_truth.json")


@cli.command()
@click.argument("name", required=False)
@click.option("--list", "list_", is_flag=True, help="List the named queries, their parameters and defaults.")
@click.option("--param", "-p", multiple=True, metavar="KEY=VALUE",
              help="Query parameter (repeatable); ASCII integers and decimals are passed as numbers.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="Output format.")
@_neo4j_option
@_errors_to_click
def query(name: str | None, list_: bool, param: tuple[str, ...], fmt: str, neo4j_uri: str | None) -> None:
    """Run a named Cypher query from queries/read against Neo4j.

    \b
    Example:
        cib query --list
        cib query cluster_members -p cluster_id=c-0123abcd --neo4j bolt://localhost:7687
    """
    from cib.store.neo4j import Neo4jStore, bind_parameters

    known = dict(Neo4jStore.named_queries())
    if list_ or not name:
        for qname, purpose in known.items():
            click.echo(f"{qname:36} {purpose}")
        return
    qname = name if "/" in name else f"read/{name}"
    if qname not in known:
        raise click.UsageError(f"unknown query {name!r}; see `cib query --list`")
    pairs = []
    for item in param:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.UsageError(f"--param {item!r} is not KEY=VALUE")
        pairs.append((key, value))
    try:
        values = bind_parameters(qname, pairs)
    except CibError as exc:
        raise _UsageLine(str(exc)) from None
    if not neo4j_uri:
        raise click.UsageError("--neo4j URI (or CIB_NEO4J_URI) is required to run a query")
    with Neo4jStore.from_env(neo4j_uri) as graph:
        rows = graph.query(qname, values)
    _print_rows(rows, fmt)


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _print_rows(rows: list[dict[str, Any]], fmt: str) -> None:
    """Rows as JSON (exact data; control and bidi characters as \\u escapes), CSV (spreadsheet-neutralised,
    control characters escaped) or a table (never interpreted as markup, control characters escaped)."""
    from cib.textsafe import neutralise_cell, rich_text, terminal_safe

    def cell(value: Any) -> str:
        return json.dumps(value, default=str, ensure_ascii=False) if isinstance(value, list | dict) else value

    if fmt == "json":
        text = json.dumps(rows, indent=2, default=str, ensure_ascii=False)
        click.echo(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text))
        return
    columns = list(rows[0]) if rows else []
    if fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow([neutralise_cell(terminal_safe(c)) for c in columns])
        for row in rows:
            writer.writerow([neutralise_cell(v if isinstance(v, int | float) else terminal_safe(cell(v)))
                             for v in row.values()])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for col in columns:
        table.add_column(rich_text(col))
    for row in rows:
        table.add_row(*(rich_text(cell(v)) for v in row.values()))
    Console(soft_wrap=True).print(table)


@cli.group("neo4j")
def neo4j_group() -> None:
    """Neo4j maintenance: bulk import of a workspace."""


@neo4j_group.command("import")
@_workspace_option
@click.option("--neo4j-home", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="NEO4J_HOME of a stopped local server (or a new folder for the test server's data).")
@click.option("--csv-only", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Only write the CSVs and import.args here, for the docker-compose `neo4j-import` service.")
@click.option("--jars", type=click.Path(exists=True, file_okay=False, path_type=Path), envvar="CIB_NEO4J_JARS",
              show_envvar=True, help="Neo4j jars to run the import tool with java when NEO4J_HOME has no bin/neo4j-admin.")
@click.option("--database", default="neo4j", show_default=True, help="Database to create.")
@click.option("--overwrite", is_flag=True, help="Replace an existing database of that name.")
@click.option("--json", "as_json", is_flag=True, help="Print counts and timings as JSON.")
@_errors_to_click
def neo4j_import(workspace: Path | None, neo4j_home: Path | None, csv_only: Path | None, jars: Path | None,
                 database: str, overwrite: bool, as_json: bool) -> None:
    """First load of a workspace into an empty Neo4j database with `neo4j-admin database import full`.

    \b
    Example:
        cib neo4j import --workspace ws --neo4j-home /opt/neo4j      # server stopped; start it afterwards
        cib neo4j import --workspace ws --neo4j-home nh --jars "$(python scripts/neo4j_server.py fetch)"
        cib neo4j import --workspace ws --csv-only neo4j-import   # then: docker compose run --rm neo4j-import
    """
    from cib.store.neo4j_import import export_for_container, import_workspace

    if csv_only is not None:
        args = export_for_container(_store(workspace), csv_only, database=database)
        click.echo(f"wrote {args.parent}; next: docker compose stop neo4j && "
                   "docker compose --profile import run --rm neo4j-import && docker compose up -d neo4j")
        return
    if neo4j_home is None:
        raise click.UsageError("give --neo4j-home (a stopped local server) or --csv-only DIR (docker compose)")

    result = import_workspace(_store(workspace), neo4j_home, database=database, jars=jars, overwrite=overwrite)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    counts, seconds = result["counts"], result["seconds"]
    click.echo(f"imported {counts.get('Post', 0):,} posts, {counts.get('Account', 0):,} accounts, "
               f"{sum(v for k, v in counts.items() if k.isupper()):,} relationships into {database} in "
               f"{seconds['total']:.1f} s (CSV {seconds['export_csv']:.1f} s, import {seconds['import']:.1f} s)")
    click.echo(f"start the server on {neo4j_home}; constraints are created by the next `cib load/score --neo4j`")

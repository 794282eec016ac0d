"""The `searchapp` command: a thin click shell over the library."""

from __future__ import annotations

import functools
import html
import itertools
import json
import logging
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import click

from . import office
from .build import index_corpus
from .config import BACKENDS, Config
from .embedded import IndexReport, current_generation, read_meta
from .engine import connect
from .errors import IndexIncompatible, IndexMissing, SearchAppError
from .export import FORMATS, write_rows
from .highlight import snippet_plain
from .results import MODES, SearchPage, SearchRequest
from .search import DEFAULT_BEST, iter_export_rows, parse_best, run_search, run_trend, town_usage
from .similar import find_similar

log = logging.getLogger(__name__)


def index_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--index",
        "index_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Index folder [default: index/ of the project, or $SEARCHAPP_INDEX].",
    )(func)


def corpus_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--corpus",
        "corpus_dir",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="Folder of reports to index [default: seeds/, or $SEARCHAPP_CORPUS].",
    )(func)


def backend_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--backend, --solr-url and --collection: which engine answers."""
    func = click.option(
        "--collection",
        "solr_collection",
        help="Solr collection [default: searchapp, $SEARCHAPP_SOLR_COLLECTION].",
    )(func)
    func = click.option(
        "--solr-url",
        help="SolrCloud address, e.g. http://127.0.0.1:8983/solr [$SEARCHAPP_SOLR_URL].",
    )(func)
    return click.option(
        "--backend",
        type=click.Choice(BACKENDS),
        help="embedded (a local index folder, the default) or solr [$SEARCHAPP_BACKEND].",
    )(func)


def engine_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--index, --backend, --solr-url and --collection, handed to the command as one
    `where` mapping of Config overrides."""

    @functools.wraps(func)
    def command(
        *args: Any,
        index_dir: Path | None,
        backend: str | None,
        solr_url: str | None,
        solr_collection: str | None,
        **kwargs: Any,
    ) -> Any:
        where = {
            "index_dir": index_dir,
            "backend": backend,
            "solr_url": solr_url,
            "solr_collection": solr_collection,
        }
        return func(*args, where=where, **kwargs)

    return index_option(backend_options(command))


def load_config(**overrides: object) -> Config:
    """The configuration from file, environment and flags; a clear message when it is bad."""
    try:
        return Config.from_env(**overrides)
    except SearchAppError as exc:
        raise fail(exc) from exc


def fail(exc: SearchAppError) -> click.ClickException:
    return click.ClickException(str(exc))


@click.group()
@click.version_option(package_name="searchapp")
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
def main(verbose: bool) -> None:
    """Full-text search over Chinese policy documents."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


# --- index ----------------------------------------------------------------------------------


@main.command("index")
@corpus_option
@engine_options
@click.option("--rebuild", is_flag=True, help="Rebuild from scratch instead of updating.")
@click.option(
    "--user-dict",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Extra words for jieba, one a line (a change re-segments everything).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--shards", type=click.IntRange(1, 64), default=1, show_default=True, help="Solr.")
@click.option(
    "--replicas", type=click.IntRange(1, 8), default=1, show_default=True, help="Solr: per shard."
)
@click.option(
    "--break-lock",
    is_flag=True,
    help="Solr: remove the lock of an indexing run on another machine that is known to be gone.",
)
def index_command(
    corpus_dir: Path | None,
    rebuild: bool,
    user_dict: Path | None,
    as_json: bool,
    shards: int,
    replicas: int,
    break_lock: bool,
    where: dict[str, Any],
) -> None:
    """Build or update the index from a folder of reports.

    Unchanged files are kept, changed and new files re-read, deleted ones removed.
    The exit status is 1 when a file of a supported type could not be read.

    With --backend solr the paragraphs go to a SolrCloud collection (created, with the
    project's configset, when missing: --shards, --replicas); updates are incremental too.
    A full build (--rebuild, or the first) goes into a new collection that the
    --collection name, an alias, is switched to when it is complete: searches go on
    meanwhile, on the old one. One run at a time writes to a collection: a second
    one refuses and names the first.

    Example: searchapp index --corpus seeds --index index
    """
    config = load_config(corpus_dir=corpus_dir, user_dict=user_dict, **where)
    try:
        show = not as_json and sys.stderr.isatty()
        report = run_index(
            config, rebuild, show, shards=shards, replicas=replicas, break_lock=break_lock
        )
    except SearchAppError as exc:
        raise fail(exc) from exc
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(format_index_report(report))
    if report.failed:
        sys.exit(1)


def run_index(
    config: Config,
    rebuild: bool,
    show_progress: bool,
    shards: int = 1,
    replicas: int = 1,
    break_lock: bool = False,
) -> IndexReport:
    """Build or update the index, with a progress bar on stderr when asked."""
    with ExitStack() as stack:
        progress = None
        if show_progress:
            bar = stack.enter_context(
                click.progressbar(length=1, label="indexing", file=sys.stderr)
            )

            def progress(name: str, done: int, total: int) -> None:
                bar.length = total
                bar.update(done - bar.pos, current_item=name)

        return index_corpus(
            config, rebuild, progress, shards=shards, replicas=replicas, break_lock=break_lock
        )


def format_index_report(report: IndexReport) -> str:
    indexed = [f for f in report.files if f.status == "indexed"]
    lines = [
        f"{report.mode} index of {report.corpus_dir} → {report.index_dir} "
        f"({report.generation}, {report.seconds:.1f} s)",
        f"  files indexed: {len(indexed)}   documents: {report.documents}   "
        f"paragraphs: {report.paragraphs}",
    ]
    if report.mode == "incremental":
        lines.append(
            f"  added: {len(report.added)}   updated: {len(report.updated)}   "
            f"removed: {len(report.removed)}"
        )
    if report.skipped:
        lines.append(f"  files skipped: {len(report.skipped)}")
        lines += [f"    {f.path}: {f.reason} — {f.message}" for f in report.skipped]
    if report.scanned:
        lines.append(f"  files read by OCR: {len(report.scanned)}")
        lines += [
            f"    {f.path}: {f.ocr_pages} pages, mean confidence {f.ocr_confidence:.0f}"
            for f in report.scanned
        ]
    if report.warned:
        lines.append(f"  files indexed with warnings: {len(report.warned)}")
        lines += [f"    {f.path}: {'; '.join(f.warnings)}" for f in report.warned]
    return "\n".join(lines)


# --- search ---------------------------------------------------------------------------------


@main.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("--mode", type=click.Choice(MODES), default="keyword", show_default=True)
@click.option("--town", multiple=True, help="Only this town (repeatable).")
@click.option("--year", multiple=True, help="Only this year or range: 2022, 2020-2023, >=2021.")
@click.option("--type", "doc_type", multiple=True, help="Only this document type (repeatable).")
@click.option("--province", multiple=True, help="Only documents of this province.")
@click.option("--city", multiple=True, help="Only documents of this city/prefecture.")
@click.option("--county", multiple=True, help="Only documents of this county/district.")
@click.option("--level", multiple=True, help="national, province, city, county or town.")
@click.option("--section", multiple=True, help="Only under a heading containing this text.")
@click.option(
    "--sort",
    type=click.Choice(["relevance", "newest", "oldest"]),
    default="relevance",
    show_default=True,
    help="newest/oldest: by the report's date, then its year; reports with neither last.",
)
@click.option(
    "--scope",
    type=click.Choice(["paragraph", "sentence", "document"]),
    default="paragraph",
    show_default=True,
    help="Keyword mode: every term in one paragraph, one sentence, or one report.",
)
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--all", "all_hits", is_flag=True, help="Every hit, not one page.")
@click.option(
    "--format",
    "export_format",
    type=click.Choice(FORMATS),
    help="Export every hit as a table (CSV with BOM for Excel/WPS, XLSX) or JSON Lines.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the export to this file [default: stdout; required for xlsx on a terminal].",
)
@click.option("--base-url", help="Make exported permalinks absolute [$SEARCHAPP_BASE_URL].")
@click.option("--by-town", is_flag=True, help="Group the hits by town.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@engine_options
def search_command(
    query: tuple[str, ...],
    mode: str,
    town: tuple[str, ...],
    year: tuple[str, ...],
    doc_type: tuple[str, ...],
    province: tuple[str, ...],
    city: tuple[str, ...],
    county: tuple[str, ...],
    level: tuple[str, ...],
    section: tuple[str, ...],
    sort: str,
    scope: str,
    limit: int,
    page: int,
    all_hits: bool,
    export_format: str | None,
    output: Path | None,
    base_url: str | None,
    by_town: bool,
    as_json: bool,
    where: dict[str, Any],
) -> None:
    """Search the index.

    Keyword mode (default): every term must occur; OR, NOT or -term, "quoted phrases"
    and town:/year:/type: filters work in the query. Phrase mode: the whole query as
    one exact substring. Fuzzy mode: approximate wording. --format exports every hit
    (town, place, year, date, type, title, section, paragraph, permalink).

    Example: searchapp search 三清两建 --by-town

    Example: searchapp search 乡村振兴 --year 2022-2023 --all --format xlsx --output 乡村振兴.xlsx
    """
    config = load_config(base_url=base_url, **where)
    request = SearchRequest(
        q=" ".join(query),
        mode=mode,
        town=list(town),
        year=list(year),
        doc_type=list(doc_type),
        page=page,
        page_size=limit,
        all=all_hits,
        province=list(province),
        city=list(city),
        county=list(county),
        level=list(level),
        section=list(section),
        sort=sort,
        scope=scope,
    )
    if export_format:
        export_hits(config, request, export_format, output)
        return
    try:
        engine = connect(config)
        result = run_search(
            engine, request, max_query_chars=config.max_query_chars, max_page_size=1000
        )
    except SearchAppError as exc:
        raise fail(exc) from exc
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(format_page(result, by_town, color=sys.stdout.isatty()))


def export_hits(config: Config, request: SearchRequest, fmt: str, output: Path | None) -> None:
    """Every hit of the request, streamed into a CSV, XLSX or JSON Lines file (or stdout)."""
    if output is None and fmt == "xlsx" and sys.stdout.isatty():
        raise click.UsageError("an .xlsx file is binary: give --output FILE (or redirect stdout)")
    try:
        engine = connect(config)
        rows = iter_export_rows(
            engine, request, config.base_url or None, max_query_chars=config.max_query_chars
        )
        first = next(rows, None)  # a bad query fails before the file is created
        rows = itertools.chain([] if first is None else [first], rows)
        if output is None:
            count = write_rows(rows, fmt, sys.stdout.buffer)
        else:
            partial = output.with_name(output.name + ".part")
            with partial.open("wb") as out:
                count = write_rows(rows, fmt, out)
            partial.replace(output)  # a file that is there is complete
    except SearchAppError as exc:
        raise fail(exc) from exc
    if output is not None:
        click.echo(f"{count} 段 → {output}", err=True)


def format_page(page: SearchPage, by_town: bool, color: bool) -> str:
    """Results for a terminal: counts by town, then the hits with marked matches."""
    open_tag, close_tag = ("\x1b[1;31m", "\x1b[0m") if color else ("【", "】")
    lines = [f"“{page.query}”（{page.mode}）：{page.total} 段"]
    lines += [f"  注意：{n}" for n in page.notices]
    towns = page.facets.get("town", {})
    if towns:
        lines.append("  按镇：" + "，".join(f"{t} {n}" for t, n in towns.items()))
    lines.append("")
    hits = page.hits
    if by_town:
        order = {t: i for i, t in enumerate(dict.fromkeys(h.town for h in hits))}
        hits = sorted(hits, key=lambda h: order[h.town])
    current = None
    for hit in hits:
        if by_town and hit.town != current:
            current = hit.town
            lines.append(f"== {hit.town}（{towns.get(hit.town, 0)} 段）")
        where = " › ".join(filter(None, [hit.section]))
        score = f"相似度 {hit.similarity:.0f}" if hit.similarity is not None else ""
        lines.append(f"{hit.town} · {hit.year or '—'} · 《{hit.title}》 {where} {score}".rstrip())
        lines.append("  " + snippet_plain(hit.text, hit.spans, open_tag, close_tag))
        lines.append(f"  {hit.url}")
        lines.append("")
    if page.pages > 1:
        lines.append(f"第 {page.page}/{page.pages} 页（--page N 翻页，--all 全部）")
    return "\n".join(lines).rstrip()


def ensure_index(config: Config) -> None:
    """Build the index when there is none, or rebuild it when this version cannot read it."""
    where = (
        f"{config.solr_url} ({config.solr_collection})"
        if config.backend == "solr"
        else str(config.index_dir)
    )
    try:
        connect(config).close()
        return
    except IndexMissing:
        click.echo(f"no index in {where}: indexing {config.corpus_dir} first …")
    except IndexIncompatible as exc:
        if config.backend == "solr":
            raise
        live = current_generation(config.index_dir)
        built_from = read_meta(live).get("corpus_dir") if live else None
        if built_from != str(config.corpus_dir.resolve()):
            raise
        click.echo(f"{exc.message}: rebuilding it from {config.corpus_dir} …")
    report = run_index(config, rebuild=True, show_progress=sys.stderr.isatty())
    click.echo(format_index_report(report))


@main.command("towns")
@click.argument("query", nargs=-1, required=True)
@click.option("--mode", type=click.Choice(MODES), default="phrase", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.option(
    "--best",
    default=str(DEFAULT_BEST),
    show_default=True,
    metavar="N|all",
    help="JSON: the best paragraph of the first N towns only; `all`: of every town.",
)
@engine_options
def towns_command(
    query: tuple[str, ...],
    mode: str,
    as_json: bool,
    best: str,
    where: dict[str, Any],
) -> None:
    """Which towns use a slogan or phrase: paragraphs, occurrences, reports and years.

    Example: searchapp towns 三清两建
    """
    config = load_config(**where)
    request = SearchRequest(q=" ".join(query), mode=mode)
    try:
        engine = connect(config)
        total, usage = town_usage(
            engine,
            request,
            max_query_chars=config.max_query_chars,
            best=parse_best(best) if as_json else 0,  # the text lists no paragraphs
        )
    except SearchAppError as exc:
        raise fail(exc) from exc
    if as_json:
        data: dict[str, Any] = {"query": request.q, "mode": mode, "total": total}
        data["towns"] = [u.to_json() for u in usage]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    lines = [f"“{request.q}”：{len(usage)} 个镇，{total} 段"]
    for u in usage:
        lines.append(f"{u.town}：{u.paragraphs} 段，{u.occurrences} 处")
        for r in u.reports:
            counts = f"{r['paragraphs']} 段 {r['occurrences']} 处"
            lines.append(f"    {r['year'] or '—'} 《{r['title']}》 {counts}")
    click.echo("\n".join(lines))


@main.command("trend")
@click.argument("query", nargs=-1, required=True)
@click.option(
    "--mode", type=click.Choice(["keyword", "phrase"]), default="phrase", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@engine_options
def trend_command(
    query: tuple[str, ...],
    mode: str,
    as_json: bool,
    where: dict[str, Any],
) -> None:
    """Since when and where a phrase is used: per year reports, towns, paragraphs and
    occurrences, and the year each town first used it.

    Example: searchapp trend 三清两建
    """
    config = load_config(**where)
    request = SearchRequest(q=" ".join(query), mode=mode)
    try:
        trend = run_trend(connect(config), request, max_query_chars=config.max_query_chars)
    except SearchAppError as exc:
        raise fail(exc) from exc
    if as_json:
        click.echo(json.dumps(trend.to_json(), ensure_ascii=False, indent=2))
        return
    lines = [f"“{trend.query}”：{trend.total} 段，{len(trend.table)} 个镇"]
    lines += ["年份  报告  镇  段落  次数"]
    for y in trend.years:
        lines.append(
            f"{y.year}  {y.reports:4d}  {y.towns:3d}  {y.paragraphs:4d}  {y.occurrences:4d}"
        )
    if trend.undated:
        lines.append(f"（年份不详：{trend.undated} 段）")
    lines.append("")
    for town, first in trend.first_year.items():
        years = "，".join(f"{y}: {n}" for y, n in sorted(trend.table[town].items()))
        lines.append(f"{town}（{first} 年起）  {years}")
    click.echo("\n".join(lines))


@main.command("similar")
@click.argument("text", nargs=-1, required=True)
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True)
@click.option("--per-town", type=click.IntRange(1, 50), default=3, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@engine_options
def similar_command(
    text: tuple[str, ...],
    limit: int,
    per_town: int,
    as_json: bool,
    where: dict[str, Any],
) -> None:
    """How other reports phrased it: the sentences most like TEXT, grouped by town.

    Characters that differ from TEXT are marked; the score is a 0-100 similarity.

    Example: searchapp similar 持续优化营商环境，推动经济高质量发展。
    """
    config = load_config(**where)
    try:
        engine = connect(config)
        result = find_similar(engine, " ".join(text), limit=limit, per_town=per_town)
    except SearchAppError as exc:
        raise fail(exc) from exc
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    color = sys.stdout.isatty()
    open_tag, close_tag = ("\x1b[1;31m", "\x1b[0m") if color else ("【", "】")
    lines = [f"与“{result.text}”相似的表述：{len(result.sentences)} 处"]
    for town, items in result.by_town.items():
        lines.append(f"== {town}")
        for item in items:
            marked = item.marked.replace("<mark>", open_tag).replace("</mark>", close_tag)
            lines.append(f"  {item.similarity:5.1f}  {html.unescape(marked)}")
            lines.append(f"         《{item.title}》 {item.section}  {item.url}")
    click.echo("\n".join(lines))


def warm_up(app: Any) -> None:
    """Open the live engine (columns), jieba and the suggestion lexicon before the first user."""
    from .web.store import get_engine

    with app.app_context():
        run_search(get_engine(), SearchRequest(q="三清两见"))  # a miss: suggestions load too


# --- serve ----------------------------------------------------------------------------------


@main.command("serve")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="0.0.0.0 opens it to the network."
)
@click.option("--port", type=int, default=5000, show_default=True)
@corpus_option
@engine_options
@click.option(
    "--threads",
    type=click.IntRange(1, 256),
    help="Request threads [default: 8, $SEARCHAPP_THREADS].",
)
def serve_command(
    host: str,
    port: int,
    corpus_dir: Path | None,
    threads: int | None,
    where: dict[str, Any],
) -> None:
    """Serve the web front end (building the index from the corpus first if there is none).

    With --backend solr it searches a SolrCloud collection (indexing the corpus into it
    first when the collection is missing).

    Example: searchapp serve --port 5000
    """
    import waitress

    from .web import create_app

    config = load_config(corpus_dir=corpus_dir, threads=threads, **where)
    try:
        ensure_index(config)
        app = create_app(config, host=host)
        warm_up(app)
    except SearchAppError as exc:
        raise fail(exc) from exc
    click.echo(f"searchapp serving on http://{host}:{port}/  (Ctrl+C to stop)")
    waitress.serve(app, host=host, port=port, threads=config.threads, ident="searchapp")


# --- users ----------------------------------------------------------------------------------


def data_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--data",
        "data_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Data folder of the office service [default: data/, or $SEARCHAPP_DATA].",
    )(func)


@contextmanager
def office_db(data_dir: Path | None) -> Iterator[sqlite3.Connection]:
    """The office database of the configured data folder; account errors as messages."""
    config = load_config(data_dir=data_dir)
    try:
        with office.db.connect(config.data_folder) as conn:
            yield conn
    except SearchAppError as exc:
        raise fail(exc) from exc


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("password", hide_input=True, confirmation_prompt=True))


@main.group("users")
def users_group() -> None:
    """Accounts of the web service: readers search, editors add, correct and remove
    documents, admins also manage users and see the audit log.

    Example: searchapp users add wang --role editor
    """


@users_group.command("add")
@click.argument("name")
@click.option(
    "--role", type=click.Choice(office.accounts.ROLES), default="reader", show_default=True
)
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin (scripts).")
@data_option
def users_add(name: str, role: str, password_stdin: bool, data_dir: Path | None) -> None:
    """Create a user (asks for the password twice unless --password-stdin).

    Example: echo 'long secret' | searchapp users add wang --role editor --password-stdin
    """
    password = read_password(password_stdin)
    with office_db(data_dir) as conn:
        office.accounts.add_user(conn, name, role, password)
        office.db.log_change(conn, "cli", "user-add", name, new=role)
    click.echo(f"user {name} ({role}) added")


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array on stdout.")
@data_option
def users_list(as_json: bool, data_dir: Path | None) -> None:
    """The users, their roles and how many API tokens each holds.

    Example: searchapp users list
    """
    with office_db(data_dir) as conn:
        users = office.accounts.list_users(conn)
    if as_json:
        click.echo(json.dumps(users, ensure_ascii=False, indent=2))
        return
    for u in users:
        click.echo(f"{u['name']}\t{u['role']}\t{u['created_at']}\ttokens: {u['tokens']}")
    if not users:
        click.echo("no users yet: searchapp users add NAME --role admin")


@users_group.command("remove")
@click.argument("name")
@data_option
def users_remove(name: str, data_dir: Path | None) -> None:
    """Remove a user and revoke their tokens (their signed-in sessions end).

    Example: searchapp users remove wang
    """
    with office_db(data_dir) as conn:
        office.accounts.remove_user(conn, name)
        office.db.log_change(conn, "cli", "user-remove", name)
    click.echo(f"user {name} removed")


@users_group.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin (scripts).")
@data_option
def users_passwd(name: str, password_stdin: bool, data_dir: Path | None) -> None:
    """Set a new password (the user's signed-in sessions end).

    Example: searchapp users passwd wang
    """
    password = read_password(password_stdin)
    with office_db(data_dir) as conn:
        office.accounts.set_password(conn, name, password)
        office.db.log_change(conn, "cli", "user-passwd", name)
    click.echo(f"password of {name} changed")


@users_group.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(office.accounts.ROLES))
@data_option
def users_role(name: str, role: str, data_dir: Path | None) -> None:
    """Give a user another role (their signed-in sessions end).

    Example: searchapp users role wang admin
    """
    with office_db(data_dir) as conn:
        office.accounts.set_role(conn, name, role)
        office.db.log_change(conn, "cli", "user-role", name, new=role)
    click.echo(f"{name} is now {role}")


@users_group.command("token")
@click.argument("name")
@data_option
def users_token(name: str, data_dir: Path | None) -> None:
    """Print a new API token for the user (shown once: only its hash is stored).

    Send it as `Authorization: Bearer TOKEN`. Example: searchapp users token wang
    """
    with office_db(data_dir) as conn:
        token = office.accounts.new_token(conn, name)
        office.db.log_change(conn, "cli", "token-add", name)
    click.echo(token)


@users_group.command("tokens")
@click.argument("name", required=False)
@data_option
def users_tokens(name: str | None, data_dir: Path | None) -> None:
    """List API tokens (id, user, first characters, made, last used).

    Example: searchapp users tokens wang
    """
    with office_db(data_dir) as conn:
        tokens = office.accounts.list_tokens(conn, name)
    for t in tokens:
        used = t["last_used"] or "never used"
        click.echo(f"{t['id']}\t{t['name']}\t{t['hint']}…\t{t['created_at']}\t{used}")
    if not tokens:
        click.echo("no tokens")


@users_group.command("revoke")
@click.argument("token_id", type=int)
@data_option
def users_revoke(token_id: int, data_dir: Path | None) -> None:
    """Revoke an API token by its id (from `users tokens`).

    Example: searchapp users revoke 3
    """
    with office_db(data_dir) as conn:
        office.accounts.revoke_token(conn, token_id)
        office.db.log_change(conn, "cli", "token-revoke", str(token_id))
    click.echo(f"token {token_id} revoked")


from .cluster import cluster_group  # noqa: E402  (the `cluster` commands: a local SolrCloud)

main.add_command(cluster_group)

"""The command line: every entry point of the form assistant.

python main.py run [--webhook]              the bot: long polling (BOT_TOKEN), or a webhook server
python main.py run --webhook --updates-only   … leaving the reminder tick and the sender to
python main.py work                           the tick and the sender in a process of their own
python main.py chat [--demo] [--as ROLE]    the same bot in the terminal, no token, no network
python main.py db upgrade                   apply pending database migrations
python main.py invite enterprises [--region CODE] [--out links.csv] [--unbound]
                                            every enterprise's one-time link, for the bureaus
python main.py invite official|group LEVEL [CODE] a reviewer's link, a review group's code
python main.py invite coordinator|admin           a coordinator's or an admin's link
python main.py import FILE [--dry-run] [--format table|json]   add or refresh enterprises
python main.py status [PLACE] [--by city|county] [--format table|json]   progress per place
python main.py export [PLACE] [--status all|submitted|reported] [--enterprise CODE] [--out F]
python main.py chart [PLACE] [--out progress.png]     the /chart picture
python main.py validate FILE [--format table|json]
python main.py score FILE [--format table|json]
python main.py score --submitted              the scoring run: store, tell enterprises and bureaus
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict
from datetime import date, timedelta
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from cli import render
from domain import clock
from domain.campaign import CampaignError
from domain.catalog import Catalog
from domain.regions import RegionTable
from domain.review import Jurisdiction
from domain.validation import Report, check_records
from services.record_files import Record, RecordFileError, open_records, stream_records
from settings import Settings

# What only the commands on the database use is imported by them: `validate` starts in half
# the time without SQLAlchemy, Alembic and numpy (0.4 s, not 0.85).
if TYPE_CHECKING:
    from services.imports import ImportReport
    from services.notifier import Notifier
    from storage.repositories import Store

T = TypeVar("T")

app = typer.Typer(
    help="创新积分制 form assistant",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The database", no_args_is_help=True)
app.add_typer(db_app, name="db")


class Format(StrEnum):
    table = "table"
    json = "json"


FileArgument = Annotated[Path, typer.Argument(help="JSON array, CSV or XLSX of records")]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="table or json")]
CampaignOption = Annotated[
    int | None, typer.Option("--campaign", help="campaign year (default: the newest)")
]


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(message, markup=False, highlight=False)
    return typer.Exit(2)


def _checked(file: Path, catalog: Catalog) -> Iterator[tuple[list[Record], list[Report]]]:
    """A file's records and their reports, a batch at a time: what a command keeps of a batch
    is small, the rest is freed before the next batch is read, and its memory used again (a
    province's file all at once is ~300 MB the kernel must hand out: 7 µs of a record's 55)."""
    stream = stream_records(file, catalog)
    try:
        while batch := list(islice(stream.records, _BATCH)):
            yield batch, check_records([r.answers for r in batch], catalog)
    except RecordFileError as exc:
        raise _unreadable(file, exc) from None
    _ignored(stream.ignored_columns)


_BATCH = 2048  # records


def _all_checked(file: Path, catalog: Catalog) -> tuple[list[Record], list[Report]]:
    """Every record and its report, for an output that needs them all (a table, the cohort)."""
    records: list[Record] = []
    reports: list[Report] = []
    for batch, checked in _checked(file, catalog):
        records.extend(batch)
        reports.extend(checked)
    _kept_to_the_end(records, reports)
    return records, reports


def _catalog(campaign: int | None) -> Catalog:
    try:
        return Settings().catalog(campaign)
    except CampaignError as exc:
        raise _fail(str(exc)) from None


def _unreadable(file: Path, error: RecordFileError) -> typer.Exit:
    from bot.texts import file_problem

    return _fail(file_problem(file.name, error))


def _ignored(columns: list[str]) -> None:
    if columns:
        Console(stderr=True).print(f"已忽略无法识别的列：{'、'.join(columns)}", markup=False)


def _checking_a_file() -> None:
    """`validate` and `score FILE` make millions of objects that all live until the output:
    the cyclic collector would scan them again and again (a fifth of the time) and has
    nothing to free in a process that ends with the output."""
    gc.disable()


_CHECKED: list[object] = []  # the last file checked, its records and reports


def _kept_to_the_end(*made: object) -> None:
    """Freeing a checked file's millions of objects one by one takes a tenth of a second per
    40,000 records; run as a command, the process ends without it (see the end of this file)."""
    _CHECKED[:] = made


def _print_json(data: object) -> None:
    # One line: json's C encoder only runs without indent (13,000 records in 0.1 s, not 10).
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


@app.command()
def validate(
    file: FileArgument, format: FormatOption = Format.table, campaign: CampaignOption = None
) -> None:
    """Check every record against the form and the rules (exit 1 if any strong rule is broken)."""
    _checking_a_file()
    catalog = _catalog(campaign)
    if format is Format.json:  # only what is printed is kept
        out = [
            item
            for batch, checked in _checked(file, catalog)
            for item in render.validation_json(batch, checked, catalog)
        ]
        _kept_to_the_end(out)
        _print_json(out)
        raise typer.Exit(1 if any(item["strong"] for item in out) else 0)
    records, reports = _all_checked(file, catalog)
    render.validation_table(Console(), file.name, records, reports)
    raise typer.Exit(1 if any(r.strong for r in reports) else 0)


@app.command()
def score(
    file: Annotated[
        Path | None, typer.Argument(help="JSON array, CSV or XLSX of records (the cohort)")
    ] = None,
    submitted: Annotated[
        bool,
        typer.Option(
            "--submitted",
            help="score the database's submitted forms, store the results and tell everyone",
        ),
    ] = False,
    format: FormatOption = Format.table,
    campaign: CampaignOption = None,
) -> None:
    """Estimate innovation scores (预估积分): of a file's records, the file being the cohort; or,
    with --submitted, the scoring run of the database's submitted forms."""
    if submitted:
        _score_run(campaign, format)
        return
    if file is None:
        raise _fail("请给出文件，或用 --submitted 计算数据库中已提交的表单")
    _checking_a_file()
    catalog = _catalog(campaign)
    records, reports = _all_checked(file, catalog)
    from domain.scoring import score_cohort

    unscored = {i: r.unscorable for i, r in enumerate(reports) if r.strong}
    scores = score_cohort([r.values for r in reports], catalog.campaign, unscored)
    if format is Format.json:
        _print_json(render.score_json(records, reports, scores))
    else:
        render.score_table(Console(), file.name, records, reports, scores)


def _score_run(campaign: int | None, format: Format) -> None:
    """Scores stored, enterprises' and bureaus' messages queued (sent by the running bot)."""
    from services import scores

    settings, catalog = _settings_and_catalog(campaign)

    async def work(store: Store) -> scores.RunReport:
        return await _queueing(
            settings, catalog, store, lambda n: scores.run(store, catalog, n, None)
        )

    report = _in_database(settings, work)
    if format is Format.json:
        _print_json(asdict(report))
        return
    typer.echo(
        f"已计算 {report.scored:,} 份已提交的表单，{report.changed:,} 份结果有变化，"
        f"{report.removed:,} 份移出；{report.without_core:,} 份只计加分。"
    )
    typer.echo(
        f"已排入发送队列：{report.enterprises_told:,} 家企业、{report.bureaus_told:,} 个审核单位"
        "（机器人运行时发出；同样的结果不会重复发送）。"
    )


async def _queueing(
    settings: Settings, catalog: Catalog, store: Store, work: Callable[[Notifier], Awaitable[T]]
) -> T:
    """`work` with a notifier whose messages go into the store's own transaction (committed with
    what they are about; the running bot sends them)."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from bot.notifier import TelegramNotifier
    from bot.outbox import Outbox
    from storage.db import update_session

    outbox = Outbox(async_sessionmaker(store.session.bind))
    token = update_session.set(store.session)
    try:
        return await work(TelegramNotifier(outbox, catalog, settings.private_alerts))
    finally:
        update_session.reset(token)


@app.command()
def extend(
    place: Annotated[
        str | None,
        typer.Argument(
            help="a city or county (code or name), or a credit code (default: the province)"
        ),
    ] = None,
    until: Annotated[str, typer.Option("--until", help="the new deadline, YYYY-MM-DD")] = "",
    campaign: CampaignOption = None,
) -> None:
    """Extend the submission deadline for the province, a city, a county or one enterprise; the
    contacts of the forms not yet submitted are told (sent by the running bot)."""
    from bot.texts import render as say
    from services import extensions

    settings, catalog = _settings_and_catalog(campaign)
    try:
        day = date.fromisoformat(until)
    except ValueError:
        raise _fail("--until 应为日期，如 --until 2026-07-03") from None
    refused = extensions.refusal(catalog, day)
    if refused:
        raise _fail(say("extend_refused", refused=refused, until=day, campaign=catalog.campaign))

    async def work(store: Store) -> extensions.Extended:
        targets = await extensions.find_targets(store, catalog.campaign.regions, place)
        if len(targets) != 1:
            raise _fail(f"没有找到“{place}”" if not targets else f"“{place}”对应多个地区，请用代码")
        return await _queueing(
            settings,
            catalog,
            store,
            lambda n: extensions.extend(store, catalog, targets[0], day, None, n),
        )

    done = _in_database(settings, work)
    typer.echo(say("extend_done", done=done))


def _settings_and_catalog(campaign: int | None) -> tuple[Settings, Catalog]:
    settings = Settings()
    try:
        catalog = settings.catalog(campaign)
    except CampaignError as exc:
        raise _fail(str(exc)) from None
    if settings.today:
        clock.pin(settings.today, catalog.campaign.zone)
    return settings, catalog


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations to DATABASE_URL (the bot also does it when it starts)."""
    from storage.db import upgrade

    upgrade(Settings().database_url)


def _in_database(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    """Run `work` on a unit of work of DATABASE_URL (migrated first)."""
    from storage.db import create_engine, session_factory, upgrade_async
    from storage.repositories import Store

    done: list[T] = []

    async def run() -> None:
        await upgrade_async(settings.database_url)
        engine = create_engine(settings.database_url)
        try:
            async with session_factory(engine)() as session:
                done.append(await work(Store(session)))
        finally:
            await engine.dispose()

    # The result is not the main task's: Python 3.11's asyncio.run formats that task, result
    # and all, when it puts back the SIGINT handler (65 MiB for a 53,000-row import report).
    asyncio.run(run())
    return done[0]


@app.command()
def invite(
    kind: Annotated[str, typer.Argument(help="enterprises, official, group, coordinator or admin")],
    level: Annotated[str, typer.Argument(help="county, city or province")] = "province",
    code: Annotated[
        str, typer.Argument(help="the county or city code (the province needs none)")
    ] = "",
    days: Annotated[int, typer.Option(help="days the code stays valid")] = 14,
    region: Annotated[
        str | None, typer.Option(help="enterprises: only those of this county, city")
    ] = None,
    out: Annotated[Path, typer.Option(help="enterprises: the CSV of links to write")] = Path(
        "links.csv"
    ),
    unbound: Annotated[
        bool, typer.Option("--unbound", help="enterprises: only those with no contact yet")
    ] = False,
) -> None:
    """One-time invitations: every enterprise's link (a CSV for the bureaus to send out), an
    official's, a coordinator's or an admin's link, or a /bindgroup code."""
    from services import officials

    if kind not in ("enterprises", "official", "group", "coordinator", "admin"):
        raise _fail("kind 应为 enterprises、official、group、coordinator 或 admin")
    settings, catalog = _settings_and_catalog(None)
    regions = catalog.campaign.regions
    code = officials.code_or_province(regions, level, code)
    if kind == "enterprises":
        try:
            where = officials.jurisdiction_of(regions, region) if region else None
        except officials.UnknownJurisdiction as exc:
            raise _fail(str(exc)) from None
        _invite_enterprises(settings, catalog, where, timedelta(days=days), out, unbound)
        return

    async def issue(store: Store) -> str:
        token = await officials.invite(
            store,
            regions,
            kind,  # type: ignore[arg-type]
            level,
            code,
            timedelta(days=days),
        )
        await store.commit()
        return token

    try:
        token = _in_database(settings, issue)
    except officials.UnknownJurisdiction as exc:
        raise _fail(str(exc)) from None
    link = _deep_link(settings, token)
    if kind != "group":  # a /bindgroup code is no link
        _without_username(settings)
    if kind in ("coordinator", "admin"):
        role = "填报协调人" if kind == "coordinator" else "管理员"
        typer.echo(f"{role}链接（一次有效，{days} 天）：{link}")
        return
    name = officials.jurisdiction_name(regions, level, code)
    if kind == "official":
        typer.echo(f"{name} 审核人员链接（一次有效，{days} 天）：{link}")
    else:
        typer.echo(f"{name} 审核群绑定码（一次有效，{days} 天）：/bindgroup {token}")


def _deep_link(settings: Settings, token: str) -> str:
    return f"https://t.me/{settings.bot_username or '<bot>'}?start={token}"


def _without_username(settings: Settings) -> None:
    if not settings.bot_username:
        Console(stderr=True).print("未设置 BOT_USERNAME：链接中的 <bot> 请换成机器人的用户名")


def _invite_enterprises(
    settings: Settings,
    catalog: Catalog,
    where: Jurisdiction | None,
    valid_for: timedelta,
    out: Path,
    unbound: bool,
) -> None:
    from services.binding import EnterpriseLink, invite_enterprises, links_csv

    async def issue(store: Store) -> list[EnterpriseLink]:
        links = await invite_enterprises(store, where, valid_for, unbound)
        await store.commit()
        return links

    links = _in_database(settings, issue)
    out.write_bytes(links_csv(links, catalog, lambda token: _deep_link(settings, token)))
    _without_username(settings)
    typer.echo(f"已为 {len(links)} 家企业生成邀请链接（一次有效），写入 {out}")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX (or a JSON array) of enterprises")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="check and report, write nothing")
    ] = False,
    format: FormatOption = Format.table,
    campaign: CampaignOption = None,
) -> None:
    """Add or refresh the pre-loaded enterprises (exit 1 if any row was rejected)."""
    from services.imports import import_records

    catalog = _catalog(campaign)
    try:
        records = open_records(file, catalog)  # checked whole, then read again as imported
    except RecordFileError as exc:
        raise _unreadable(file, exc) from None
    _ignored(records.ignored_columns)

    async def work(store: Store) -> ImportReport:
        return await import_records(store, catalog, records, None, dry_run=dry_run)

    report = _in_database(Settings(), work)
    report.ignored_columns = records.ignored_columns
    if format is Format.json:
        _print_json(render.import_json(report))
    else:
        render.import_table(Console(), file.name, report, dry_run)
    raise typer.Exit(1 if report.counts["rejected"] else 0)


@app.command()
def status(
    place: Annotated[
        str | None, typer.Argument(help="a city or county: code or name (default: the province)")
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="city or county (default: one level down)")
    ] = None,
    format: FormatOption = Format.table,
    campaign: CampaignOption = None,
) -> None:
    """How far the campaign is: enterprises by status and the submission rate, per place."""
    from services import overview

    settings, catalog = _settings_and_catalog(campaign)
    regions = catalog.campaign.regions
    scope = _place(regions, place)
    if by not in (None, "city", "county"):
        raise _fail("--by 应为 city 或 county")

    async def work(store: Store) -> overview.Overview:
        return await overview.board(store, catalog, scope, by)  # type: ignore[arg-type]

    view = _in_database(settings, work)
    if format is Format.json:
        _print_json(render.overview_json(view))
    else:
        render.overview_table(Console(), view, catalog.campaign.year)


@app.command()
def export(
    place: Annotated[
        str | None, typer.Argument(help="a city or county: code or name (default: the province)")
    ] = None,
    status: Annotated[str, typer.Option("--status", help="all, submitted or reported")] = "all",
    enterprise: Annotated[
        str | None, typer.Option(help="one enterprise's credit code: its form as an HTML page")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="the file to write")] = None,
    campaign: CampaignOption = None,
) -> None:
    """The forms as XLSX (one row per enterprise, the catalog's columns, an audit sheet), or one
    enterprise's form with its signed commitment as HTML."""
    from services import exports
    from services.officials import place_name

    settings, catalog = _settings_and_catalog(campaign)
    regions = catalog.campaign.regions
    scope = _place(regions, place)
    if status not in exports.WHICH_NAMES:
        raise _fail("--status 应为 all、submitted 或 reported")
    which: exports.Which = status  # type: ignore[assignment]
    zone = catalog.campaign.zone

    async def page(store: Store) -> str | None:
        from bot.documents import form_html

        record = await exports.one_form(store, catalog, scope, enterprise or "")
        return form_html(catalog, record, await exports.people(store)) if record else None

    async def workbook(store: Store) -> tuple[int, bytes]:
        records = await exports.forms(store, catalog, scope, which)
        trail = await exports.audit_trail(store, scope, which, catalog.campaign.year)
        names = await exports.people(store)
        return len(records), exports.workbook(catalog, records, trail, names, zone)

    if enterprise:
        html = _in_database(settings, page)
        if html is None:
            raise _fail(f"没有找到统一社会信用代码为 {enterprise} 的企业（或不在所选地区）")
        target = out or Path(f"{enterprise.upper()}-表单.html")
        target.write_text(html, encoding="utf-8")
        typer.echo(f"已写入 {target}")
        return
    count, data = _in_database(settings, workbook)
    name = place_name(regions, scope)
    target = out or Path(exports.export_name(name, which, clock.now().astimezone(zone)))
    target.write_bytes(data)
    typer.echo(f"已导出 {count:,} 家企业（{name} · {exports.WHICH_NAMES[which]}）到 {target}")


@app.command()
def chart(
    place: Annotated[
        str | None, typer.Argument(help="a city or county: code or name (default: the province)")
    ] = None,
    out: Annotated[Path, typer.Option(help="the PNG to write")] = Path("progress.png"),
    campaign: CampaignOption = None,
) -> None:
    """Progress by place and daily submissions against the deadlines, as a PNG (as /chart)."""
    from bot.charts import progress_png
    from services import overview

    settings, catalog = _settings_and_catalog(campaign)
    c = catalog.campaign
    scope = _place(c.regions, place)

    async def work(store: Store) -> bytes:
        view = await overview.tally(store, c.regions, c.year, scope)
        daily = await overview.daily_submissions(store, c.year, scope, c.zone)
        return progress_png(view, daily, c, clock.today(c.zone))

    out.write_bytes(_in_database(settings, work))
    typer.echo(f"已写入 {out}")


def _place(regions: RegionTable, place: str | None) -> Jurisdiction:
    """The province, or the one city or county the text names; exits 2 otherwise."""
    from services.overview import find_places

    if not place:
        return Jurisdiction("province", regions.code)
    places = find_places(regions, place)
    if len(places) != 1:
        raise _fail(f"没有找到地区“{place}”" if not places else f"“{place}”对应多个地区，请用代码")
    return places[0]


@app.command()
def run(
    campaign: CampaignOption = None,
    webhook: Annotated[
        bool,
        typer.Option(
            "--webhook",
            help="serve Telegram's webhook (WEBHOOK_URL, WEBHOOK_SECRET) instead of polling",
        ),
    ] = False,
    host: Annotated[str, typer.Option(help="--webhook: the address to listen on")] = "0.0.0.0",
    port: Annotated[int, typer.Option(help="--webhook: the port to listen on")] = 8080,
    updates_only: Annotated[
        bool,
        typer.Option(
            "--updates-only",
            help="leave the reminder tick and the sender to `python main.py work`",
        ),
    ] = False,
) -> None:
    """Run the bot: long polling (one instance), or a webhook server (any number of instances
    with REDIS_URL and a PostgreSQL DATABASE_URL). BOT_TOKEN; BOT_API_BASE for another server."""
    from bot import webhook as hook

    settings, catalog = _settings_and_catalog(campaign)
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    try:
        address = hook.check(settings.webhook_url, secret) if webhook else None
    except hook.WebhookError as exc:
        raise _fail(str(exc)) from None
    bot = _bot(settings)

    async def serve(running: Any) -> None:
        await _reach(bot, settings)
        if address is None:
            await bot.delete_webhook()
            await running.dispatcher.start_polling(bot)
        else:
            await _serve_webhook(running.dispatcher, bot, settings, address, host, port)

    asyncio.run(_with_bot(bot, settings, catalog, serve, background=not updates_only))


@app.command()
def work(campaign: CampaignOption = None) -> None:
    """The reminder tick and the delivery queue's sender, without serving updates: with
    `run --webhook --updates-only` instances, they get an event loop of their own. Run one, or
    two for a standby (one leads at a time)."""
    settings, catalog = _settings_and_catalog(campaign)

    async def until_stopped(running: Any) -> None:
        await _stopped()

    asyncio.run(_with_bot(_bot(settings), settings, catalog, until_stopped))


def _bot(settings: Settings) -> Any:
    """The Bot from BOT_TOKEN (BOT_API_BASE), secrets kept out of the logs from here on."""
    from bot import app as bot_app
    from bot import logs

    token = settings.bot_token.get_secret_value() if settings.bot_token else None
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    try:
        bot = bot_app.bot(token, settings.bot_api_base)
    except bot_app.TokenError as exc:
        raise _fail(str(exc)) from None
    logs.setup([token, secret, logs.database_password(settings.database_url)])
    return bot


async def _reach(bot: Any, settings: Settings) -> None:
    """The first call to the Bot API, with the command list: a server that cannot be reached or
    a token it refuses is said in one line, not a traceback."""
    from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError

    from bot.app import COMMANDS

    try:
        await bot.set_my_commands(COMMANDS)
    except TelegramUnauthorizedError:
        raise _fail("Bot API 不认这个 BOT_TOKEN：请核对 @BotFather 给的令牌") from None
    except TelegramNetworkError as exc:
        server = settings.bot_api_base or "https://api.telegram.org"
        said = f"连不上 Bot API（{server}）：{exc.message}；请检查网络或 BOT_API_BASE"
        raise _fail(said) from None


async def _with_bot(
    bot: Any,
    settings: Settings,
    catalog: Catalog,
    body: Callable[[Any], Awaitable[None]],
    background: bool = True,
) -> None:
    """The bot's parts over the migrated database around `body`; with `background`, the
    reminder tick and the sender (when this process leads) until `body` ends."""
    from bot import app as bot_app
    from storage.db import create_engine, session_factory, upgrade_async

    await upgrade_async(settings.database_url)
    engine = create_engine(settings.database_url)
    running = bot_app.assemble(
        bot,
        session_factory(engine),
        catalog,
        private_alerts=settings.private_alerts,
        admins=frozenset(settings.admin_ids),
        redis_url=settings.redis_url,
    )
    stop = asyncio.Event()
    tasks = [asyncio.create_task(running.background(stop))] if background else []
    bot_app.settle()
    try:
        await body(running)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await bot.session.close()
        await engine.dispose()


async def _stopped() -> None:
    """Until SIGINT or SIGTERM."""
    import signal

    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    await stopped.wait()


async def _serve_webhook(
    dispatcher: Any, bot: Any, settings: Settings, address: tuple[str, str], host: str, port: int
) -> None:
    """The webhook server until SIGINT or SIGTERM; Telegram is told where to post."""
    from aiohttp import web

    from bot.webhook import web_app

    url, secret = address
    runner = web.AppRunner(web_app(dispatcher, bot, settings.webhook_path, secret))
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    await bot.set_webhook(
        url + settings.webhook_path,
        secret_token=secret,
        allowed_updates=dispatcher.resolve_used_update_types(),
    )
    logging.getLogger(__name__).info(
        "webhook: listening on %s:%s%s", host, port, settings.webhook_path
    )
    try:
        await _stopped()
    finally:
        await runner.cleanup()


@app.command()
def chat(
    demo: Annotated[bool, typer.Option("--demo", help="load the demo enterprises")] = False,
    role: Annotated[
        str,
        typer.Option(
            "--as",
            help="who to be first: contact, county, city, province, admin, coordinator "
            "(企业、区县、市、省、管理员、协调人; all but contact need --demo)",
        ),
    ] = "contact",
    user: Annotated[int, typer.Option(help="the contact's Telegram user id")] = 10_000,
    campaign: CampaignOption = None,
) -> None:
    """Talk to the bot in the terminal: no token, no network, the default database."""
    from cli import cast, terminal  # aiogram takes seconds to import; the other commands need none

    if role not in cast.NAMES:
        raise _fail(f"--as 只能是 {', '.join(cast.NAMES)}。")
    if not demo and role not in cast.NAMES[:2]:
        raise _fail("审核人员等角色只在演示模式里有：python main.py chat --demo --as " + role)
    settings, catalog = _settings_and_catalog(campaign)
    console = Console()
    _log_to_file()
    if demo:
        day = cast.demo_day(catalog)
        console.print(f"演示日期：{day.year}年{day.month}月{day.day}日（征集期内）。")

    async def talk() -> None:
        from storage.db import create_engine, session_factory, upgrade_async

        await upgrade_async(settings.database_url)
        engine = create_engine(settings.database_url)
        sessions = session_factory(engine)
        try:
            people = (
                await cast.demo_cast(sessions, catalog, user) if demo else cast.contact_only(user)
            )
            first = cast.find(people, role)
            assert first is not None
            if demo:
                unbound = first.key == "contact" and not await cast.is_bound(sessions, user)
                bind = "按 [bold]#0[/bold]（分享手机号）即可绑定第一家。" if unbound else ""
                console.print("已载入演示企业。" + bind)
            await terminal.chat(sessions, catalog, console, people, first.key)
        finally:
            await engine.dispose()

    asyncio.run(talk())


def _log_to_file() -> None:
    """The chat's warnings and errors go to a file, not between the messages."""
    import tempfile

    from bot import logs

    path = Path(tempfile.gettempdir()) / "cxjf-chat.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.addFilter(logs.Redact([]))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)


if __name__ == "__main__":
    try:
        app()
    except SystemExit as done:
        if not _CHECKED:
            raise
        # A file was checked and its report written: end here, without freeing its objects.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(done.code if isinstance(done.code, int) else 0 if done.code is None else 1)

"""``anthill ingest run``: what a MarketFeed's CronJob pod executes.

Exit codes: 0 ok, 1 anything unforeseen (named in the summary), 2 invalid feed config, 3 API key rejected,
4 upstream failure (after retries), 5 a response surprised us (kept under ``_quarantine/``). On exit, one JSON line (result, rows, files,
watermark, requests) goes to the termination-message path, where the operator reads it into status.lastRun.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import re
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from anthill_ingest.config import ConfigError, load_feed
from anthill_ingest.errors import IngestError

if TYPE_CHECKING:
    from anthill_ingest.datasets.base import Progress as ProgressFn
    from anthill_ingest.runner import Summary

KEY_VARIABLES = ("MASSIVE_API_KEY", "POLYGON_API_KEY")
HEADER_SAFE = re.compile(r"[\x21-\x7e]+")  # printable ASCII: what a bearer token in a header can be
app = typer.Typer(help="Market data ingestion: the Massive (Polygon.io) API -> the lake's bronze layer.",
                  no_args_is_help=True)  # fmt: skip
log = logging.getLogger("anthill_ingest")


@app.callback()
def ingest() -> None:
    """Market data ingestion: the Massive (Polygon.io) API -> the lake's bronze layer."""


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body = {"time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(),
                "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}  # fmt: skip
        if record.exc_info:  # one line of JSON, not a bare traceback
            body["exception"] = self.formatException(record.exc_info)
        fields = getattr(record, "fields", None)  # a structured report's keys, at the top of the line
        if isinstance(fields, dict):
            body.update(fields)
        return json.dumps(body)


def _configure_logging(interactive: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if not interactive:
        handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer", "RESTClient", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def api_key_from_environment() -> str:
    """The API key, without the line break a Secret made from a file often ends in. A key holding anything
    an HTTP header cannot carry is refused here, naming the variable: the HTTP library would raise an error
    quoting the header, key included, into the log and the termination message."""
    for name in KEY_VARIABLES:
        if value := os.environ.get(name, "").strip():
            if not HEADER_SAFE.fullmatch(value):
                raise ConfigError(
                    f"{name} holds characters an API key cannot carry in an HTTP header (a line break, another "
                    "control character, a space or non-ASCII); store the key alone, on one line"
                )
            return value
    raise ConfigError(f"no API key: set {' or '.join(KEY_VARIABLES)}")


@app.command("run")
def run(
    feed: Annotated[Path, typer.Option(help="MarketFeed manifest, or the feed.json the operator mounts.")],
    api_url: Annotated[
        str | None, typer.Option(envvar="ANTHILL_MARKET_DATA_URL", help="API base URL (default: Massive's).")
    ] = None,
    termination_log: Annotated[
        Path, typer.Option(envvar="ANTHILL_TERMINATION_LOG", help="Where the one-line JSON summary goes.")
    ] = Path("/dev/termination-log"),
    today: Annotated[
        datetime.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Run as if on this date (default: today, UTC)."),
    ] = None,
    chunk_rows: Annotated[
        int | None,
        typer.Option(
            min=1,
            envvar="ANTHILL_CHUNK_ROWS",
            help="Most rows held at once: a window is fetched and "
            "written in chunks of consecutive days this size (default: 200,000, about 150 MiB).",
        ),
    ] = None,
) -> None:
    """Fetch the feed's window into bronze, then advance its watermark."""
    interactive = sys.stderr.isatty()
    _configure_logging(interactive)
    now = datetime.datetime.now(datetime.UTC)
    if today is not None:
        now = today.replace(tzinfo=datetime.UTC, hour=12)
    # The client, Parquet and S3 libraries load here, not whenever the `anthill` command starts.
    from anthill_ingest.client import MarketData  # noqa: PLC0415
    from anthill_ingest.runner import CHUNK_ROWS, Run, Summary  # noqa: PLC0415
    from anthill_ingest.sink import open_sink  # noqa: PLC0415
    from anthill_ingest.transport import RetryPolicy  # noqa: PLC0415

    summary = Summary()
    code = 0
    try:
        config = load_feed(feed)
        rate = config.spec.rate_limit.requests_per_minute if config.spec.rate_limit else None
        api = MarketData(api_key_from_environment(), api_url, rate, RetryPolicy())
        with _progress(interactive) as bar:
            sink = open_sink(config.spec.destination.uri)
            ingestion = Run(config, api, sink, now, _reporter(bar), chunk_rows or CHUNK_ROWS)
            summary = ingestion.summary  # filled in as the run goes, so a failure still reports its counts
            ingestion.execute()
        log.info("ingested %d rows into %d files; watermark %s; %d requests",
                 summary.rows, summary.files, summary.watermark, summary.requests)  # fmt: skip
    except IngestError as exc:
        code = exc.exit_code
        summary.result = "Failed"
        summary.message = summary.message or str(exc)
        log.error("%s", summary.message)
    except Exception as exc:  # a defect still ends in a summary the operator can show
        code = 1
        summary.result = "Failed"
        summary.message = f"internal error: {type(exc).__name__}: {str(exc)[:300]}"
        log.error("%s", summary.message, exc_info=exc)
    _write_termination_message(termination_log, summary)
    raise typer.Exit(code)


@app.command("stream")
def stream(
    stream_config: Annotated[
        Path,
        typer.Option(
            "--stream",
            help="MarketStream manifest, or the stream.json the operator mounts (re-read "
            "while streaming: channel and ticker edits apply without a restart).",
        ),
    ],
    stream_url: Annotated[
        str | None,
        typer.Option(
            envvar="ANTHILL_MARKET_STREAM_URL",
            help="WebSocket base URL, ws://host:port or wss://host (default: Massive's real-time feed).",
        ),
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option(
            envvar="ANTHILL_MARKET_DATA_URL", help="REST API base URL for the gap fill (default: Massive's)."
        ),
    ] = None,
) -> None:
    """Stream real-time events into bronze until SIGTERM; log a StreamStats line after every flush."""
    _configure_logging(interactive=False)  # the operator reads StreamStats lines from the log: always JSON
    for noisy in ("WebSocketClient", "websockets"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    import asyncio  # noqa: PLC0415

    from massive.websocket.models import Feed  # noqa: PLC0415

    from anthill_ingest.client import MarketData  # noqa: PLC0415
    from anthill_ingest.sink import open_sink  # noqa: PLC0415
    from anthill_ingest.stream.config import parse_stream  # noqa: PLC0415
    from anthill_ingest.stream.protocol import feed_from_url  # noqa: PLC0415
    from anthill_ingest.stream.session import Session  # noqa: PLC0415
    from anthill_ingest.transport import RetryPolicy  # noqa: PLC0415

    try:
        try:
            text = stream_config.read_text()
        except OSError as exc:
            raise ConfigError(
                f"stream config {stream_config} cannot be read ({type(exc).__name__})"
            ) from None
        config = parse_stream(text, str(stream_config))
        key = api_key_from_environment()
        feed = feed_from_url(stream_url, Feed.RealTime.value)
        sink = open_sink(config.spec.destination.uri)
    except (ConfigError, ValueError) as exc:
        log.error("%s", exc)
        raise typer.Exit(ConfigError.exit_code) from None
    api = MarketData(key, api_url, None, RetryPolicy()) if config.spec.gap_fill else None
    asyncio.run(Session(stream_config, text, config, key, feed, api, sink).run())


def _progress(interactive: bool) -> AbstractContextManager[Progress | None]:
    if not interactive:
        return nullcontext()
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    transient=False)  # fmt: skip


def _reporter(bar: Progress | None) -> ProgressFn:
    if bar is None:

        def log_tasks(description: str, total: int) -> None:
            if description:
                log.info("%s", description)

        return log_tasks
    task_ids: list[TaskID] = []

    def report(description: str, total: int) -> None:
        if description:
            task_ids.append(bar.add_task(description, total=total))
        elif task_ids:
            bar.advance(task_ids[-1], total)

    return report


def _write_termination_message(path: Path, summary: Summary) -> None:
    line = summary.to_json() + "\n"
    try:
        path.write_text(line)
    except OSError:
        sys.stdout.write(line)  # outside a pod (no /dev/termination-log): print it

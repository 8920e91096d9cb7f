"""``anthill sandbox market-data`` and ``anthill sandbox databricks``: local servers for demos and tests."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from anthill_sandbox.server import Faults, SandboxServer, SandboxState
from anthill_sandbox.ticks import DEFAULT_RATE

app = typer.Typer(help="Local stand-ins for external services.", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)


@app.callback()
def sandbox() -> None:
    """Local stand-ins for external services."""


@app.command("market-data")
def market_data(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8765,
    api_key: Annotated[list[str] | None, typer.Option(help="Accepted API keys (repeatable).")] = None,
    page_size: Annotated[int, typer.Option(help="Results per page before next_url.")] = 50_000,
    rate_limit_every: Annotated[int, typer.Option(help="Answer every N-th request with 429.")] = 0,
    rate_limit_first: Annotated[int, typer.Option(help="Answer the first N requests with 429.")] = 0,
    retry_after: Annotated[float, typer.Option(help="Retry-After seconds sent with each 429.")] = 1.0,
    server_error_every: Annotated[int, typer.Option(help="Answer every N-th request with 502.")] = 0,
    malformed_every: Annotated[int, typer.Option(help="Truncate every N-th successful body.")] = 0,
    delay: Annotated[float, typer.Option(help="Seconds added to every response.")] = 0.0,
    requests_per_minute: Annotated[int, typer.Option(help="Enforce a plan budget with 429s (0: none).")] = 0,
    quirks: Annotated[
        bool, typer.Option(help="Serve a vendor's quirks: a few bad prints, a preliminary newest day.")
    ] = True,
    stream_port: Annotated[int, typer.Option(help="WebSocket port on 127.0.0.1 (0: any free port).")] = 8767,
    stream_rate: Annotated[
        int, typer.Option(help="Trades (and quotes) per second per ticker, streamed and in /v3/trades.")
    ] = DEFAULT_RATE,
    stream_channels: Annotated[
        str, typer.Option(help="The plan's channels, comma-separated (e.g. T,AM); others get a status error.")
    ] = "",
    stream_drop_after: Annotated[
        int, typer.Option(help="Drop each stream connection after N events, abnormally (0: never).")
    ] = 0,
    stream_refuse_auth: Annotated[bool, typer.Option(help="Answer every stream login auth_failed.")] = False,
) -> None:
    """Serve synthetic, deterministic market data with the Massive/Polygon REST and WebSocket APIs' shapes
    until Ctrl-C."""
    # The stream loads only for this command: `anthill` stays quick for the others.
    from anthill_sandbox.stream import StreamServer, StreamSettings  # noqa: PLC0415

    faults = Faults(rate_limit_first=rate_limit_first, rate_limit_every=rate_limit_every, retry_after=retry_after,
                    server_error_every=server_error_every, malformed_every=malformed_every, delay=delay,
                    requests_per_minute=requests_per_minute)  # fmt: skip
    state = SandboxState(faults=faults, api_keys=frozenset(api_key or ["sandbox"]), page_size=page_size,
                         quirks=quirks, tick_rate=stream_rate)  # fmt: skip
    channels = frozenset(c.strip() for c in stream_channels.split(",") if c.strip()) or None
    try:
        settings = StreamSettings(
            channels=channels, refuse_auth=stream_refuse_auth, drop_after=stream_drop_after
        )
        stream = StreamServer(stream_port, state, settings)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    server = SandboxServer(port, state)
    stream.start()
    err.print(f"sandbox market data at {server.url} (API keys: {', '.join(sorted(state.api_keys))})")
    err.print(f"  export ANTHILL_MARKET_DATA_URL={server.url} MASSIVE_API_KEY={sorted(state.api_keys)[0]}")
    err.print(f"sandbox market stream at {stream.url}/stocks and {stream.url}/crypto "
              f"({stream.rate} trades and quotes per second per ticker)")  # fmt: skip
    err.print(f"  export ANTHILL_MARKET_STREAM_URL={stream.url}")
    try:
        server.serve_until_interrupted(err.print)
    finally:
        stream.stop()


@app.command("databricks")
def databricks(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8766,
    token: Annotated[
        list[str] | None, typer.Option(help="Accepted personal access tokens (repeatable).")
    ] = None,
    throttle_rate: Annotated[float, typer.Option(help="Fraction of API requests answered 429.")] = 0.0,
    retry_after: Annotated[int, typer.Option(help="Retry-After seconds sent with each 429.")] = 1,
    server_error_rate: Annotated[float, typer.Option(help="Fraction of API requests answered 500.")] = 0.0,
    delay: Annotated[float, typer.Option(help="Seconds added to every API response.")] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the fault schedule.")] = 0,
    hold_runs: Annotated[
        bool, typer.Option(help="Keep runs RUNNING instead of executing them (for clients' own tests).")
    ] = False,
    volume: Annotated[
        list[str] | None,
        typer.Option(
            help="Unity Catalog volumes the Files API serves, /Volumes/<catalog>/<schema>/<volume> "
            "(repeatable)."
        ),
    ] = None,
) -> None:
    """Serve a local Databricks Jobs API (2.2) for databricks-sdk clients until Ctrl-C."""
    # The SDK loads only for this command: `anthill` stays quick for the others.
    from anthill_sandbox.databricks import (  # noqa: PLC0415
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        DEFAULT_USER,
        DatabricksFaults,
        DatabricksServer,
        WorkspaceState,
    )

    faults = DatabricksFaults(throttle_rate=throttle_rate, retry_after=retry_after,
                              server_error_rate=server_error_rate, delay=delay, seed=seed)  # fmt: skip
    state = WorkspaceState(
        faults=faults, run_mode="hold" if hold_runs else "execute", volumes=set(volume or [])
    )
    if token:
        state.tokens = dict.fromkeys(token, DEFAULT_USER)
    server = DatabricksServer(port, state)
    err.print(f"sandbox Databricks Jobs API at {server.url}")
    err.print(f"  export DATABRICKS_HOST={server.url} DATABRICKS_TOKEN={sorted(state.tokens)[0]}")
    err.print(
        f"  OAuth M2M: DATABRICKS_CLIENT_ID={DEFAULT_CLIENT_ID} DATABRICKS_CLIENT_SECRET={DEFAULT_CLIENT_SECRET}"
    )
    server.serve_until_interrupted(err.print)
    server.jobs.runner.shutdown()  # the runs still executing end CANCELED, their processes with them

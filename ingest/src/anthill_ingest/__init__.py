"""The ingestion workload a MarketFeed's CronJob runs: Massive (Polygon.io) API -> bronze Parquet."""

from importlib.metadata import version

__version__ = version("anthill-ingest")

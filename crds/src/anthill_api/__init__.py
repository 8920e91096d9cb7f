"""The anthill.io/v1alpha1 API: pydantic models that parse resources and generate their CRDs.

The operator and the ingest workload depend on it; it depends on none of the other packages. It also holds
the root of the `anthill` command, the one part every image carries.
"""

from importlib.metadata import version

from anthill_api.common import API_VERSION, GROUP, VERSION
from anthill_api.connection import (
    DATABRICKSCONNECTION_PRINTER_COLUMNS,
    DatabricksConnectionSpec,
    DatabricksConnectionStatus,
)
from anthill_api.crdgen import Kind
from anthill_api.marketfeed import MARKETFEED_PRINTER_COLUMNS, MarketFeedSpec, MarketFeedStatus
from anthill_api.marketstream import MARKETSTREAM_PRINTER_COLUMNS, MarketStreamSpec, MarketStreamStatus
from anthill_api.pipeline import (
    MEDALLIONPIPELINE_PRINTER_COLUMNS,
    MedallionPipelineSpec,
    MedallionPipelineStatus,
)

MARKETFEED = Kind(
    kind="MarketFeed",
    plural="marketfeeds",
    short_names=("mf",),
    description="A MarketFeed declares which market data to pull from the Massive (Polygon.io) API into the "
    "lake's bronze layer, and when. The operator runs it as a CronJob it owns.",
    spec=MarketFeedSpec,
    status=MarketFeedStatus,
    printer_columns=MARKETFEED_PRINTER_COLUMNS,
)
MARKETSTREAM = Kind(
    kind="MarketStream",
    plural="marketstreams",
    short_names=("ms",),
    description="A MarketStream subscribes to real-time trades, quotes or aggregates from the Massive "
    "(Polygon.io) WebSocket API and writes them to the lake's bronze layer in micro-batches. The operator "
    "runs it as a Deployment it owns.",
    spec=MarketStreamSpec,
    status=MarketStreamStatus,
    printer_columns=MARKETSTREAM_PRINTER_COLUMNS,
)
MEDALLIONPIPELINE = Kind(
    kind="MedallionPipeline",
    plural="medallionpipelines",
    short_names=("mp",),
    description="A MedallionPipeline refines its feeds' bronze data into silver and gold Delta tables, as a "
    "Databricks job or a Kubernetes Spark job the operator manages.",
    spec=MedallionPipelineSpec,
    status=MedallionPipelineStatus,
    printer_columns=MEDALLIONPIPELINE_PRINTER_COLUMNS,
)
DATABRICKSCONNECTION = Kind(
    kind="DatabricksConnection",
    plural="databricksconnections",
    short_names=("dbc",),
    description="A DatabricksConnection names a Databricks workspace and the Secret with its credentials.",
    spec=DatabricksConnectionSpec,
    status=DatabricksConnectionStatus,
    printer_columns=DATABRICKSCONNECTION_PRINTER_COLUMNS,
)
KINDS = (MARKETFEED, MARKETSTREAM, MEDALLIONPIPELINE, DATABRICKSCONNECTION)
__version__ = version("anthill-api")

__all__ = ["API_VERSION", "GROUP", "KINDS", "VERSION", "Kind", "__version__"]

"""The datasets a MarketFeed can ingest, one module each, registered by the name ``spec.dataset`` uses.

Adding a dataset is a module here (a :class:`~anthill_ingest.datasets.base.RowDataset`; for data read into
Arrow columns page by page a :class:`~anthill_ingest.datasets.base.ColumnarDataset`; for data too large to
hold a day of a :class:`~anthill_ingest.datasets.base.PagedDataset`) and its line in :data:`DATASETS`; the
runner needs no change. A test keeps this registry and the API's ``Dataset`` names equal.
"""

from __future__ import annotations

from anthill_ingest.datasets.aggregates import Aggregates
from anthill_ingest.datasets.base import ColumnarDataset, Dataset, PagedDataset, RowDataset
from anthill_ingest.datasets.dividends import Dividends
from anthill_ingest.datasets.financials import Financials
from anthill_ingest.datasets.grouped_daily import GroupedDaily
from anthill_ingest.datasets.market_holidays import MarketHolidays
from anthill_ingest.datasets.news import News
from anthill_ingest.datasets.options_contracts import OptionsContracts
from anthill_ingest.datasets.splits import Splits
from anthill_ingest.datasets.tickers import Tickers
from anthill_ingest.datasets.ticks import Quotes, Trades

DATASETS: dict[str, RowDataset | ColumnarDataset | PagedDataset] = {
    dataset.name: dataset
    for dataset in (
        Aggregates(),
        GroupedDaily(),
        Dividends(),
        Splits(),
        Tickers(),
        MarketHolidays(),
        News(),
        OptionsContracts(),
        Financials(),
        Trades(),
        Quotes(),
    )
}


def dataset_for(name: str) -> RowDataset | ColumnarDataset | PagedDataset:
    """The dataset ``spec.dataset`` names (admission allows no other; KeyError for a name it would refuse)."""
    return DATASETS[name]


__all__ = ["DATASETS", "ColumnarDataset", "Dataset", "PagedDataset", "RowDataset", "dataset_for"]

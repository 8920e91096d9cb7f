"""MarketStream: a one-replica Deployment that streams market data into bronze."""

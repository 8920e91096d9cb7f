"""DataFrame -> DataFrame transforms, chained with ``df.transform(...)``; no I/O here."""

"""``anthill ingest stream``: real-time events of a MarketStream from the WebSocket API into bronze.

``config`` reads the mounted spec, ``events`` turns WebSocket events and REST results into the same bronze
rows, ``buffer`` holds them until a flush, ``bronze`` writes files and the checkpoint, ``gapfill`` fetches
what a restart missed, ``stats`` builds the report line and ``session`` runs the connection.
"""

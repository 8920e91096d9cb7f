"""``anthill databricks deploy``: the anthill-spark wheel into a Unity Catalog volume, where jobs install it from.

``wheel`` inspects a built wheel (is it one, is it anthill-spark, its content hash), ``upload`` puts it and its
version's ``CURRENT`` pointer in the volume through the Files API, ``cli`` wires the command (credentials from
the environment, exit codes). The layout is :mod:`anthill.pipeline.wheels`', which the operator reads.
"""

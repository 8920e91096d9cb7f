"""Anthill's control side: the ``anthill`` CLI, the operator and the local control-plane harness."""

from importlib.metadata import version

__version__ = version("anthill")

"""Anthill's operator: reconcilers for MarketFeeds and MedallionPipelines, their external clients, settings."""

from importlib.metadata import version

__version__ = version("anthill-operator")

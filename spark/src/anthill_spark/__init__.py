"""PySpark medallion jobs a MedallionPipeline runs: bronze -> silver -> gold on Delta."""

from importlib.metadata import version

__version__ = version("anthill-spark")

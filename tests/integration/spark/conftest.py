"""The Spark job tests read bronze that the ingest tests' sandbox server produces."""

from tests.integration.ingest.conftest import sandbox

__all__ = ["sandbox"]

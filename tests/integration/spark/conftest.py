"""The Spark job tests read bronze that the ingest tests' sandbox server (and moto S3 server) produce."""

from tests.integration.ingest.conftest import bucket, moto_endpoint, sandbox

__all__ = ["bucket", "moto_endpoint", "sandbox"]

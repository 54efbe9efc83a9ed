"""Project-wide pytest configuration: shared fixture plugins (PostgreSQL schemas, the Samba AD DC)."""

pytest_plugins = ["tests.pgfixture", "tests.integration.samba.fixtures"]

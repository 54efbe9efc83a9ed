"""Project-wide pytest configuration: shared fixture plugins (PostgreSQL schemas, the Samba AD DC) and the scan of
every output for secrets (tests/secretscan.py)."""

pytest_plugins = ["tests.pgfixture", "tests.integration.samba.fixtures", "tests.secretscan"]

"""Project-wide pytest configuration: shared fixture plugins."""

pytest_plugins = ["tests.pgfixture"]

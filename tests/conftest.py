"""Test-wide wiring: the bench fixtures live in plugins, one file per real component."""

pytest_plugins = ["tests.bench.postgres", "tests.bench.asterisk"]

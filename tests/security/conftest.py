"""The security tests use the same real benches as the end-to-end and API tests."""

from tests.e2e.conftest import routing, routing_each_db  # noqa: F401 - fixtures, found by name

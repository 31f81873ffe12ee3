"""Browser tests: a real headless Chromium (Debian's package) driven by Playwright, against the real daemon and bench."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.e2e.conftest import routing  # noqa: F401 - the bench fixture, found by name


def chromium_path() -> str:
    """Debian's chromium (scripts/provision.sh installs it); Playwright's own download is not used."""
    found = os.environ.get("TEAMFONED_CHROMIUM") or shutil.which("chromium")
    if found is None:
        reason = "no chromium on PATH (install Debian's chromium package: scripts/provision.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"chromium is required in CI: {reason}", pytrace=False)
        pytest.skip(f"chromium unavailable: {reason} (run `make test`, which provisions it)")
    return found


@pytest_asyncio.fixture(loop_scope="session")
async def browser() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    path = chromium_path()
    async with async_playwright() as playwright:
        # Root in a container cannot use Chromium's user-namespace sandbox.
        launched = await playwright.chromium.launch(executable_path=path, headless=True,
                                                    args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()

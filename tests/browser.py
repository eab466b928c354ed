"""Chromium for browser tests: Debian's /usr/bin/chromium driven by Playwright.

One Chromium serves a test module. Playwright's sync API drives it from one worker thread; a
test hands that thread a scenario (a plain function of the browser) and awaits it, while Parley
keeps serving on the test's event loop. Without /usr/bin/chromium the tests skip; under CI=true
they fail instead (.ci/browser.sh installs it). Never `playwright install`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp.test_utils import TestServer
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.conftest import IN_CI

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 10_000
"""How long the browser waits for something to appear before the test fails."""

T = TypeVar("T")


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if IN_CI:
        pytest.fail(f"CI=true but {CHROMIUM} is missing: .ci/browser.sh installs it")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")


class BrowserThread:
    """Chromium owned by one worker thread; `run` executes a scenario there."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.pool = pool
        self.playwright: Playwright | None = None
        self.browser: Browser | None = None

    def start(self) -> None:
        self.playwright = sync_playwright().start()
        self.browser = self.playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        expect.set_options(timeout=WAIT_MS)

    def stop(self) -> None:
        if self.browser:
            self.browser.close()
        if self.playwright:
            self.playwright.stop()

    async def run(self, scenario: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, scenario, self.browser, *args)


@pytest.fixture(scope="module", name="chromium")
def chromium_fixture() -> Iterator[BrowserThread]:
    """One Chromium for the test module that imports this fixture."""
    require_chromium()
    with ThreadPoolExecutor(1, thread_name_prefix="chromium") as pool:
        thread = BrowserThread(pool)
        try:
            pool.submit(thread.start).result()
            yield thread
        finally:
            pool.submit(thread.stop).result()


def base_url_of(server: TestServer) -> str:
    return str(server.make_url("")).rstrip("/")


# In the browser thread


def new_page(browser: Browser, base_url: str, errors: list[str]) -> tuple[BrowserContext, Page]:
    """A fresh browser profile (its own cookies) on a page whose script errors are recorded."""
    context = browser.new_context(base_url=base_url)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page

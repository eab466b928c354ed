"""The web client (static/) in a real browser: two users chat live, history, the admin page.

Browser scenarios run in the Chromium thread (tests/browser.py); the pages' own HTTP routes are
checked without a browser at the end.
"""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestServer
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from yarl import URL

from tests.browser import BrowserThread, base_url_of, chromium_fixture, new_page  # noqa: F401 (fixture)
from tests.clients import PASSWORD, Account, Api
from tests.test_admin import act, make_admin


def log_in(page: Page, login: str, password: str = PASSWORD) -> None:
    page.goto("/")
    form = page.get_by_role("form", name="Log in")
    form.get_by_label("Email or username").fill(login)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Log in").click()
    expect(page.locator("#connection")).to_have_text("connected")


def create_chat(page: Page, kind: str, usernames: str, name: str = "") -> None:
    form = page.get_by_role("form", name="New chat")
    form.get_by_label("Kind").select_option(kind)
    form.get_by_label("Usernames").fill(usernames)
    if name:
        form.get_by_label("Group name").fill(name)
    form.get_by_role("button", name="Create").click()


def send(page: Page, text: str) -> None:
    composer = page.get_by_role("form", name="Send a message")
    composer.get_by_label("Message").fill(text)
    composer.get_by_role("button", name="Send").click()


def chat_button(page: Page, title: str) -> Locator:
    return page.get_by_role("list", name="Chats").get_by_role("button", name=re.compile(title))


def messages(page: Page) -> Locator:
    return page.get_by_role("list", name="Messages").get_by_role("listitem")


def dm_between_two_users(browser: Browser, base_url: str, bob: Account) -> list[str]:
    errors: list[str] = []
    alice_context, alice = new_page(browser, base_url, errors)
    bob_context, bob_page = new_page(browser, base_url, errors)
    try:
        alice.goto("/")
        register = alice.get_by_role("form", name="Create an account")
        register.get_by_label("Email").fill("alice@example.com")
        register.get_by_label("Username").fill("alice")
        register.get_by_label("Display name").fill("Alice")
        register.get_by_label("Password").fill(PASSWORD)
        register.get_by_role("button", name="Register").click()
        expect(alice.locator("#me")).to_have_text("Alice (@alice)")
        expect(alice.locator("#connection")).to_have_text("connected")
        log_in(bob_page, bob.user["username"])

        create_chat(alice, "dm", bob.user["username"])
        expect(alice.locator("#chat-title")).to_have_text("Bob")
        expect(alice.locator("#chat-presence")).to_have_text("online")
        chat_button(bob_page, "Alice").click()  # the DM reached Bob live (chat:new)
        expect(bob_page.locator("#chat-title")).to_have_text("Alice")

        send(alice, "Hello Bob")
        send(alice, "Are you there?")  # typed while the first may still be on its way
        expect(messages(bob_page)).to_have_count(2)
        expect(messages(bob_page).first).to_contain_text("Alice")
        expect(messages(bob_page).first).to_contain_text("Hello Bob")
        expect(messages(bob_page).nth(1)).to_contain_text("Are you there?")
        expect(messages(alice)).to_have_count(2)

        bob_page.get_by_role("form", name="Send a message").get_by_label("Message").fill("Hi")
        expect(alice.locator("#typing")).to_have_text("Bob is typing…")
        send(bob_page, "Hi Alice")
        expect(messages(alice).nth(2)).to_contain_text("Hi Alice")
        expect(alice.locator("#typing")).to_have_text("")

        bob_context.close()  # Bob's last socket goes: Alice sees him leave
        expect(alice.locator("#chat-presence")).to_have_text(re.compile(r"^last seen "))
    finally:
        alice_context.close()
        bob_context.close()
    return errors


async def test_two_users_chat_live_in_the_web_client(
    chromium: BrowserThread, server: TestServer, api: Api
) -> None:
    bob = await api.register("bob", display_name="Bob")
    errors = await chromium.run(dm_between_two_users, base_url_of(server), bob)
    assert errors == []


def group_history_and_restored_session(
    browser: Browser, base_url: str, alice: Account, bob: Account, carol: Account
) -> list[str]:
    errors: list[str] = []
    alice_context, alice_page = new_page(browser, base_url, errors)
    bob_context, bob_page = new_page(browser, base_url, errors)
    try:
        log_in(alice_page, alice.user["username"])
        usernames = f"{bob.user['username']}, @{carol.user['username']}"
        create_chat(alice_page, "group", usernames, name="Weekend plans")
        expect(alice_page.locator("#chat-title")).to_have_text("Weekend plans")
        expect(alice_page.locator("#chat-presence")).to_have_text("3 members, 1 online")
        send(alice_page, "Hike on Saturday?")
        expect(messages(alice_page)).to_have_count(1)

        log_in(bob_page, bob.user["email"])  # after the message: it comes from history
        group = chat_button(bob_page, "Weekend plans")
        expect(group).to_contain_text("Hike on Saturday?")
        expect(group.get_by_label("unread")).to_have_text("1")
        group.click()
        expect(messages(bob_page)).to_have_count(1)
        expect(messages(bob_page).first).to_contain_text("Alice")
        expect(group.get_by_label("unread")).to_have_count(0)
        expect(bob_page.locator("#chat-presence")).to_have_text("3 members, 2 online")
        expect(alice_page.locator("#chat-presence")).to_have_text("3 members, 2 online")

        alice_page.reload()  # the refresh cookie restores the session without a login
        expect(alice_page.locator("#connection")).to_have_text("connected")
        expect(alice_page.get_by_role("form", name="Log in")).to_be_hidden()
        alice_group = chat_button(alice_page, "Weekend plans")
        expect(alice_group).to_contain_text("Hike on Saturday?")
        send(bob_page, "Count me in")
        expect(alice_group).to_contain_text("Count me in")
        expect(alice_group.get_by_label("unread")).to_have_text("1")
    finally:
        alice_context.close()
        bob_context.close()
    return errors


async def test_group_history_unread_and_restored_session(
    chromium: BrowserThread, server: TestServer, api: Api
) -> None:
    alice = await api.register(display_name="Alice")
    bob = await api.register(display_name="Bob")
    carol = await api.register(display_name="Carol")
    errors = await chromium.run(
        group_history_and_restored_session, base_url_of(server), alice, bob, carol
    )
    assert errors == []


def admin_dashboard(browser: Browser, base_url: str, admin: Account, user: Account) -> list[str]:
    errors: list[str] = []
    admin_context, page = new_page(browser, base_url, errors)
    user_context, user_page = new_page(browser, base_url, errors)
    try:
        for tab, account in ((page, admin), (user_page, user)):
            tab.goto("/admin")
            form = tab.get_by_role("form", name="Administrator log in")
            form.get_by_label("Email or username").fill(account.user["username"])
            form.get_by_label("Password").fill(PASSWORD)
            form.get_by_role("button", name="Log in").click()
        users = page.get_by_role("region", name="users")
        expect(users.get_by_role("row", name="total")).to_have_text(re.compile(r"total\s*2$"))
        expect(page.get_by_role("table", name="messages per day").get_by_role("row")).to_have_count(
            14
        )
        expect(user_page.get_by_role("alert")).to_have_text("This account is not an administrator.")
        expect(user_page.get_by_role("main", name="Statistics")).to_be_hidden()
    finally:
        admin_context.close()
        user_context.close()
    return errors


async def test_admin_dashboard_shows_stats_to_admins_only(
    chromium: BrowserThread, server: TestServer, api: Api
) -> None:
    admin = await make_admin(api)
    user = await api.register()
    errors = await chromium.run(admin_dashboard, base_url_of(server), admin, user)
    assert errors == []


def logged_in_page(
    browser: Browser, base_url: str, account: Account
) -> tuple[BrowserContext, Page]:
    context, page = new_page(browser, base_url, [])
    log_in(page, account.user["username"])
    return context, page


def signed_out(browser: Browser, page: Page) -> None:
    expect(page.get_by_role("form", name="Log in")).to_be_visible()
    expect(page.locator("#me")).to_have_text("")


async def test_a_banned_user_is_signed_out_of_the_web_client(
    chromium: BrowserThread, server: TestServer, api: Api
) -> None:
    admin = await make_admin(api)
    bob = await api.register()
    context, page = await chromium.run(logged_in_page, base_url_of(server), bob)
    try:
        status, _ = await act(api, admin, bob.id, "ban")
        assert status == 200
        await chromium.run(signed_out, page)
    finally:
        await chromium.run(lambda browser: context.close())


# The pages over plain HTTP (no browser needed)


async def test_web_client_pages_and_files_are_served_outside_the_api(api: Api) -> None:
    for path in ("/", "/admin"):
        async with api.http.get(api.base_url + path) as response:
            assert response.status == 200
            assert response.content_type == "text/html"
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    async with api.http.get(api.base_url + "/static/vendor/socket.io.min.js") as response:
        assert response.status == 200
        assert response.content_type in ("text/javascript", "application/javascript")
        assert (await response.text()).startswith("/*!\n * Socket.IO v4.")
    status, spec = await api.get("/api/openapi.json")
    assert status == 200
    assert not {"/", "/admin"} & set(spec["paths"])
    assert not [path for path in spec["paths"] if path.startswith("/static")]


@pytest.mark.parametrize(
    "path", ["/static/", "/static/nothing.js", "/static/%2e%2e/server.py", "/static/../server.py"]
)
async def test_static_serves_only_files_inside_static(api: Api, path: str) -> None:
    url = URL(api.base_url + path, encoded=True)
    async with api.http.get(url) as response:
        assert response.status in (403, 404)
        assert "create_app" not in await response.text()

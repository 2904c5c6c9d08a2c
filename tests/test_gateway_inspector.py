"""The inspector's message-journal pages (``/inspector/journal``), as the operator meets them:
through HTTP, and in a real browser (Debian's chromium, driven over the DevTools protocol).

Messages go through ЭҮШ / ШЭП's SyncChannel unsigned and are refused (SCE001, SCE003, SCE004):
each refusal is one journal entry with the raw XML, sender password included, which is all the
pages need to show."""

from __future__ import annotations

import asyncio
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import lxml.html
import pytest
import pytest_asyncio
from lxml import etree

from egovsim.app import RunningSimulator
from gateway import soap
from gateway.inspector import COOKIE, display_xml, issue_session, session_is_valid
from tests.conftest import ADMIN, ADMIN_TOKEN
from tests.nca_helpers import served

pytestmark = pytest.mark.asyncio(loop_scope="module")

SYNC = "/shep/bip-sync-wss-gost/"
SENDER = "inspected-system"
PASSWORD = "sender-password-never-shown"
WRONG_PASSWORD = "wrong-password-Қате"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'"
SURNAME = "ӘБІЛҚАСЫМОВА"
BROKEN = b"<Envelope><password>raw-secret-7</password><script>alert(3)</script>"


def envelope(message_id: str, service_id: str, data: str, password: str = PASSWORD) -> bytes:
    return soap.to_bytes(
        soap.build_sync_request(
            soap.SyncRequest(
                message_id=message_id,
                service_id=service_id,
                message_date=datetime.now().astimezone(),
                sender=soap.Sender(SENDER, password),
                data=etree.fromstring(data),
            )
        )
    )


MESSAGES = {  # name → (messageId, body); posted in this order
    "cyrillic": (
        "INSP-CYR",
        envelope("INSP-CYR", "NO_SUCH_SERVICE", f"<data><iin>900115300013</iin><surname>{SURNAME}</surname></data>"),
    ),
    "wrong_password": (
        "INSP-PWD",
        envelope("INSP-PWD", "OTHER_SERVICE", "<data><iin>900115300013</iin></data>", WRONG_PASSWORD),
    ),
    "script": (
        "INSP-XSS",
        envelope(
            "INSP-XSS",
            "NO_SUCH_SERVICE",
            "<data><script>alert(1)</script><note>&lt;/pre&gt;&lt;script&gt;alert(2)&lt;/script&gt;</note></data>",
        ),
    ),
    "broken": (None, BROKEN),
    "long": (  # longer than journal_max_xml_bytes (64 KiB): the journal keeps its beginning only
        "INSP-LONG",
        envelope("INSP-LONG", "LONG_SERVICE", f"<data><note>{'Ұзын хабарлама. ' * 6000}</note></data>"),
    ),
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def journal(nca: RunningSimulator) -> AsyncIterator[dict[str, int]]:
    """The messages of MESSAGES put through the gateway; name → journal entry id."""
    async with nca.client() as http:
        r = await http.post("/shep/api/senders", json={"senderId": SENDER, "password": PASSWORD}, headers=ADMIN)
        assert r.status_code == 201, r.text
        ids = {}
        for name, (_, body) in MESSAGES.items():
            r = await http.post(SYNC, content=body, headers={"Content-Type": "text/xml; charset=utf-8"})
            assert r.status_code == 500, r.text  # every one of them is refused with a SOAP fault
            newest = (await http.get("/shep/api/journal", params={"limit": 1}, headers=ADMIN)).json()["entries"][0]
            ids[name] = newest["id"]
        yield ids


def rows(page: httpx.Response) -> list[dict[str, str]]:
    """The journal table as dicts keyed by its column headings."""
    doc = lxml.html.fromstring(page.text)
    heads = [th.text_content() for th in doc.xpath("//table/thead/tr/th")]
    return [
        dict(zip(heads, (td.text_content() for td in tr.xpath("td")), strict=True))
        for tr in doc.xpath("//table/tbody/tr")
        if len(tr.xpath("td")) == len(heads)
    ]


def assert_safe_html_page(r: httpx.Response) -> None:
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-security-policy"] == CSP
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.text.startswith('<!DOCTYPE html>\n<html lang="en">') and '<meta charset="utf-8">' in r.text


# -- who may see the journal ------------------------------------------------------------------------
async def test_without_credentials_a_browser_is_sent_to_login_and_a_client_gets_a_401_problem(
    nca: RunningSimulator, journal: dict[str, int]
) -> None:
    async with nca.client() as http:
        for path in ("/inspector/journal", f"/inspector/journal/{journal['cyrillic']}", "/inspector/journal/999999"):
            r = await http.get(path, headers=BROWSER)
            assert (r.status_code, r.headers["location"]) == (303, "/inspector/login"), path
            assert r.headers["content-security-policy"] == CSP
            r = await http.get(path, headers={"Accept": "application/json"})
            assert r.status_code == 401 and r.json()["code"] == "ADMIN_AUTH_REQUIRED", path
            assert r.headers["content-type"] == "application/problem+json"
            assert (await http.get(path, headers=ADMIN)).status_code in (200, 404)


async def test_a_forged_expired_or_unsigned_cookie_is_not_a_session(nca: RunningSimulator) -> None:
    now = datetime.now().astimezone()
    forged = [
        ADMIN_TOKEN,  # the raw token is not what the cookie holds
        issue_session("another-admin-token"),
        issue_session(ADMIN_TOKEN, now - timedelta(days=1)),  # expired
        jwt.encode({"sub": "admin", "aud": "egovsim-inspector", "exp": now + timedelta(hours=1)}, "", "none"),
    ]
    async with nca.client() as http:
        for cookie in forged:
            assert not session_is_valid(cookie, ADMIN_TOKEN)
            r = await http.get("/inspector/journal", headers=BROWSER | {"Cookie": f"{COOKIE}={cookie}"})
            assert r.status_code == 303, cookie
    assert session_is_valid(issue_session(ADMIN_TOKEN), ADMIN_TOKEN)


async def test_a_wrong_token_does_not_sign_in(nca: RunningSimulator) -> None:
    async with nca.client() as http:
        form = await http.get("/inspector/login", headers=BROWSER)
        assert form.status_code == 200 and 'name="token"' in form.text and 'type="password"' in form.text
        assert_safe_html_page(form)
        for wrong in ("wrong-token", "", "қате-кілт", ADMIN_TOKEN + "x"):
            r = await http.post("/inspector/login", data={"token": wrong}, headers=BROWSER)
            assert r.status_code == 401 and "That is not the admin token." in r.text, wrong
            assert 'name="token"' in r.text and "set-cookie" not in r.headers
            assert_safe_html_page(r)
        flood = await http.post("/inspector/login", content="&".join(f"f{i}=x" for i in range(50)), headers=BROWSER)
        assert flood.status_code == 401
        assert (await http.get("/inspector/journal", headers=BROWSER)).status_code == 303


async def test_the_right_token_sets_a_strict_httponly_cookie_and_the_journal_lists_the_entries(
    nca: RunningSimulator, journal: dict[str, int]
) -> None:
    async with nca.client() as http:
        r = await http.post("/inspector/login", data={"token": ADMIN_TOKEN}, headers=BROWSER)
        assert (r.status_code, r.headers["location"]) == (303, "/inspector/journal")
        cookie = r.headers["set-cookie"]
        attributes = {part.strip().lower() for part in cookie.split(";")}
        assert {"httponly", "samesite=strict", "path=/inspector"} <= attributes
        assert cookie.startswith(f"{COOKIE}=") and ADMIN_TOKEN not in cookie
        page = await http.get("/inspector/journal", headers=BROWSER)
        assert page.status_code == 200
        assert_safe_html_page(page)
        listed = rows(page)
        ids = [int(row["#"]) for row in listed]
        assert ids == sorted(ids, reverse=True)  # newest first
        by_id = {int(row["#"]): row for row in listed}
        cyrillic = by_id[journal["cyrillic"]]
        assert (cyrillic["serviceId"], cyrillic["messageId"], cyrillic["sender"]) == (
            "NO_SUCH_SERVICE",
            "INSP-CYR",
            SENDER,
        )
        assert (cyrillic["outcome"], cyrillic["code"], cyrillic["channel"]) == ("rejected", "SCE004", "sync")
        assert by_id[journal["wrong_password"]]["code"] == "SCE003"
        assert by_id[journal["broken"]]["code"] == "SCE001"
        assert int(cyrillic["request, B"]) == len(MESSAGES["cyrillic"][1])
        assert f'href="/inspector/journal/{journal["cyrillic"]}"' in page.text
        # signing out clears the cookie: the next visit goes to the login page
        out = await http.post("/inspector/logout", headers=BROWSER)
        assert (out.status_code, out.headers["location"]) == (303, "/inspector/login")
        assert out.headers["set-cookie"].startswith(f'{COOKIE}=""') and "max-age=0" in out.headers["set-cookie"].lower()
        assert (await http.get("/inspector/journal", headers=BROWSER)).status_code == 303


# -- the journal page -------------------------------------------------------------------------------
async def test_the_journal_filters_by_service_sender_message_and_outcome(
    nca: RunningSimulator, journal: dict[str, int]
) -> None:
    async def listed(**params: str) -> list[dict[str, str]]:
        r = await http.get("/inspector/journal", params=params, headers=ADMIN)
        assert r.status_code == 200, r.text
        return rows(r)

    async with nca.client() as http:
        by_service = await listed(serviceId="NO_SUCH_SERVICE")
        assert {r["messageId"] for r in by_service} == {"INSP-CYR", "INSP-XSS"}
        by_sender = await listed(senderId=SENDER, outcome="rejected")
        assert {r["messageId"] for r in by_sender} == {"INSP-CYR", "INSP-PWD", "INSP-XSS", "INSP-LONG"}
        assert [r["code"] for r in await listed(messageId="INSP-PWD")] == ["SCE003"]
        assert await listed(outcome="ok") == []
        assert len(await listed(outcome="nonsense", senderId="", serviceId="")) == len(MESSAGES)
        page = await http.get("/inspector/journal", params={"outcome": "ok"}, headers=ADMIN)
        assert "No entries match." in page.text and '<option value="ok" selected>' in page.text
        kept = await http.get("/inspector/journal", params={"serviceId": "NO_SUCH_SERVICE"}, headers=ADMIN)
        assert 'name="serviceId" value="NO_SUCH_SERVICE"' in kept.text


async def test_the_journal_pages_back_with_an_older_link(nca: RunningSimulator, journal: dict[str, int]) -> None:
    async with nca.client() as http:
        seen: list[int] = []
        url = "/inspector/journal?limit=1"
        for _ in range(len(MESSAGES)):
            r = await http.get(url, headers=ADMIN)
            seen += [int(row["#"]) for row in rows(r)]
            older = lxml.html.fromstring(r.text).xpath('//a[@rel="next"]/@href')
            assert older, r.text
            url = older[0]
            assert "limit=1" in url and "beforeId=" in url
        assert seen == sorted(journal.values(), reverse=True)
        last = await http.get(url, headers=ADMIN)
        assert rows(last) == [] and ">newest</a>" in last.text
        assert (await http.get("/inspector/journal?beforeId=abc&limit=-5", headers=ADMIN)).status_code == 200


async def test_filter_values_are_escaped_in_the_page(nca: RunningSimulator, journal: dict[str, int]) -> None:
    async with nca.client() as http:
        hostile = '"><script>alert(4)</script>'
        r = await http.get("/inspector/journal", params={"serviceId": hostile, "limit": "1"}, headers=ADMIN)
        assert r.status_code == 200 and "<script" not in r.text
        assert "&quot;&gt;&lt;script&gt;alert(4)&lt;/script&gt;" in r.text


# -- one entry --------------------------------------------------------------------------------------
async def entry(nca: RunningSimulator, entry_id: int | str) -> httpx.Response:
    async with nca.client() as http:
        return await http.get(f"/inspector/journal/{entry_id}", headers=ADMIN | BROWSER)


def pre(page: httpx.Response, name: str) -> str:
    texts = lxml.html.fromstring(page.text).xpath(f'//pre[@id="{name}-xml"]')
    assert len(texts) == 1, page.text
    return str(texts[0].text_content())


async def test_the_entry_page_shows_the_xml_indented_escaped_and_with_passwords_masked(
    nca: RunningSimulator, journal: dict[str, int]
) -> None:
    r = await entry(nca, journal["cyrillic"])
    assert r.status_code == 200
    assert_safe_html_page(r)
    request = pre(r, "request")
    assert SURNAME in r.text and f"<surname>{SURNAME}</surname>" in request  # Cyrillic as characters, UTF-8
    assert "&lt;surname&gt;" in r.text  # the XML's markup is text in the page
    assert "<password>***</password>" in request and PASSWORD not in r.text
    assert "\n  " in request  # indented
    assert "INSP-CYR" in request and "SCE004" in pre(r, "response")
    for label in ("serviceId", "NO_SUCH_SERVICE", "rejected", "simulated time"):
        assert label in r.text
    wrong = await entry(nca, journal["wrong_password"])
    assert "<password>***</password>" in pre(wrong, "request") and WRONG_PASSWORD not in wrong.text


async def test_a_script_in_a_message_is_shown_as_text_never_run(nca: RunningSimulator, journal: dict[str, int]) -> None:
    r = await entry(nca, journal["script"])
    assert r.status_code == 200 and "<script" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "<script>alert(1)</script>" in pre(r, "request")
    assert not lxml.html.fromstring(r.text).xpath("//script")
    broken = await entry(nca, journal["broken"])
    assert "Not well-formed XML" in broken.text and "<script" not in broken.text
    assert pre(broken, "request") == BROKEN.decode().replace("raw-secret-7", "***")


async def test_a_message_the_journal_cut_is_shown_as_stored_with_its_password_masked(
    nca: RunningSimulator, journal: dict[str, int]
) -> None:
    r = await entry(nca, journal["long"])
    assert r.status_code == 200 and "Not well-formed XML" in r.text and "the rest is cut" in r.text
    request = pre(r, "request")
    assert "<password>***</password>" in request and PASSWORD not in r.text
    assert "Ұзын хабарлама." in request and request.endswith("<!-- egovsim: cut, the message was longer -->")
    assert len(request.encode()) < len(MESSAGES["long"][1])


@pytest.mark.parametrize("entry_id", ["999999", "abc", "99999999999999999999999", "-1", "１２"])
async def test_an_unknown_entry_is_a_404_page_naming_the_code(
    nca: RunningSimulator, journal: dict[str, int], entry_id: str
) -> None:
    r = await entry(nca, entry_id)
    assert r.status_code == 404
    assert_safe_html_page(r)
    assert "JOURNAL_ENTRY_NOT_FOUND" in r.text and "The journal holds no such message." in r.text


# -- how the XML is shown ---------------------------------------------------------------------------
async def test_hostile_xml_is_shown_as_stored_and_never_expanded() -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        "<x><password>p</password>&b;</x>"
    )
    shown, well_formed = display_xml(laughs)
    assert not well_formed and "lollol" not in shown and "<password>***</password>" in shown
    external = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    assert display_xml(external) == (external, False)


async def test_every_password_element_is_masked_whatever_its_namespace_or_content() -> None:
    xml = (
        '<a xmlns:s="urn:s"><s:password>one</s:password><password><b>two</b>three</password>'
        "<passwordHint>kept</passwordHint></a>"
    )
    shown, well_formed = display_xml(xml)
    assert well_formed
    assert "one" not in shown and "two" not in shown and "three" not in shown and "kept" in shown
    assert shown.count("***") == 2
    cut = "<a><sender><password>secret-cut-here\n<!-- egovsim: cut, the message was longer -->"
    assert display_xml(cut) == ("<a><sender><password>***", False)
    assert display_xml("<a><password a='1'>x</password><ns:password>y</ns:password></a")[0] == (
        "<a><password a='1'>***</password><ns:password>***</ns:password></a"
    )


# -- in a real browser ------------------------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = "Debian's chromium is not installed (apt-get install chromium; ./run test does it as root)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI is set, so the browser test must run")
    pytest.skip(reason)


class Chromium:
    """Headless chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
    NUL-separated JSON on file descriptors 3 and 4), so the test needs no websocket client or
    webdriver."""

    def __init__(self, profile: Path) -> None:
        commands_read, self._commands = os.pipe()
        self._events, events_write = os.pipe()
        self._log = (profile / "chromium.log").open("wb")

        def wire_pipes() -> None:  # in the child: the pipes where chromium looks for them
            os.dup2(commands_read, 3)
            os.dup2(events_write, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--remote-debugging-pipe", f"--user-data-dir={profile / 'user-data'}", "about:blank"],
            pass_fds=(3, 4), preexec_fn=wire_pipes, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
        )  # fmt: skip
        os.close(commands_read)
        os.close(events_write)
        self._buffer = b""
        self._next_id = 0
        self.session = ""
        page = next(t for t in self.call("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]

    def call(self, method: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self._events], [], [], left)[0]:
                    raise TimeoutError(f"chromium did not answer {method} within {timeout} s")
                chunk = os.read(self._events, 1 << 16)
                if not chunk:
                    raise EOFError(f"chromium exited ({self.proc.poll()}) during {method}")
                self._buffer += chunk
            raw, _, self._buffer = self._buffer.partition(b"\0")
            answer = json.loads(raw)
            if answer.get("id") == self._next_id:  # anything else is an event: not needed here
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]  # type: ignore[no-any-return]

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for_page(self, path: str, timeout: float = 20.0) -> None:
        """Until the page at ``path`` (and query) has loaded; a navigation in flight is retried."""
        deadline = time.monotonic() + timeout
        probe = "location.pathname + location.search + ' ' + document.readyState"
        seen = None
        while time.monotonic() < deadline:
            try:
                seen = self.evaluate(probe)
            except RuntimeError:  # the old document went away mid-call
                seen = None
            if seen == f"{path} complete":
                return
            time.sleep(0.05)
        raise AssertionError(f"the browser did not reach {path}: {seen!r}")

    def close(self) -> None:
        try:
            self.session = ""
            self.call("Browser.close", timeout=5)
        except (TimeoutError, EOFError, RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._commands)
        os.close(self._events)
        self._log.close()


def browse(base: str, journal: dict[str, int], profile: Path) -> dict[str, Any]:
    """An operator's visit: sign in through the form, read the journal, open an entry."""
    browser = Chromium(profile)
    try:
        browser.call("Page.navigate", url=f"{base}/inspector/journal")
        browser.wait_for_page("/inspector/login")  # not signed in: sent to the login page
        browser.evaluate(f"document.querySelector('input[name=token]').value = {json.dumps(ADMIN_TOKEN)}")
        browser.evaluate("document.querySelector('form[action=\"/inspector/login\"] button[type=submit]').click()")
        browser.wait_for_page("/inspector/journal")
        seen: dict[str, Any] = {
            "journal": browser.evaluate("document.body.innerText"),
            "lang": browser.evaluate("document.documentElement.lang"),
            "charset": browser.evaluate("document.characterSet"),
            "script_cookie": browser.evaluate("document.cookie"),
            "cookies": browser.call("Network.getCookies")["cookies"],
        }
        link = f'a[href="/inspector/journal/{journal["script"]}"]'
        browser.evaluate(f"document.querySelector({json.dumps(link)}).click()")
        browser.wait_for_page(f"/inspector/journal/{journal['script']}")
        seen["script_entry"] = browser.evaluate("document.getElementById('request-xml').textContent")
        seen["scripts"] = browser.evaluate("document.scripts.length")
        browser.call("Page.navigate", url=f"{base}/inspector/journal/{journal['cyrillic']}")
        browser.wait_for_page(f"/inspector/journal/{journal['cyrillic']}")
        seen["cyrillic_entry"] = browser.evaluate("document.getElementById('request-xml').textContent")
        return seen
    finally:
        browser.close()


@pytest.mark.slow
async def test_an_operator_signs_in_with_chromium_and_reads_the_journal(
    nca: RunningSimulator, journal: dict[str, int], tmp_path: Path
) -> None:
    require_chromium()
    async with served(nca) as base:
        seen = await asyncio.wait_for(asyncio.to_thread(browse, base, journal, tmp_path), timeout=120)
    assert "NO_SUCH_SERVICE" in seen["journal"] and "INSP-CYR" in seen["journal"] and "SCE004" in seen["journal"]
    assert (seen["lang"], seen["charset"]) == ("en", "UTF-8")
    session = next(c for c in seen["cookies"] if c["name"] == COOKIE)
    assert session["httpOnly"] and session["sameSite"] == "Strict" and session["path"] == "/inspector"
    assert COOKIE not in seen["script_cookie"]  # HttpOnly: page scripts cannot read it
    assert "<script>alert(1)</script>" in seen["script_entry"] and seen["scripts"] == 0
    assert "INSP-XSS" in seen["script_entry"] and PASSWORD not in seen["script_entry"]
    assert f"<surname>{SURNAME}</surname>" in seen["cyrillic_entry"]
    assert "<password>***</password>" in seen["cyrillic_entry"]

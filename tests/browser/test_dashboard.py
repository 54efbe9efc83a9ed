"""The dashboard in headless Chromium (DESIGN.md section 13), against one real `syncd run` for the whole module.

Its database is filled by real syncs from the AXL simulator (a user's display name is ``<script>alert(1)</script>``),
a purchase and a Demonstration grant by the CLI, and hosts by ``POST /api/v1/meetings``. ``[cwms]`` reads the CWMS
simulator (its accounts mirror the CUCM users) with ``push = "on"`` and ``push_activations``: the first sync
deactivates one leak (an inactive CUCM user whose account is ACTIVATED) and has one activation refused by the
site's host limit, so the CWMS outbox shows a done row and a failed one. The daemon has a read
token, so the browser logs in first; each page must then load with no console error and no failed request, the
overview must show the figures of ``GET /api/v1/licenses``, a search must find a person by CUCM userid, and the
hostile name must show as text and run nothing. Screenshots of every page go to the artifacts folder; the
overview's and a person's also to docs/ with SYNCD_DOCS_SCREENSHOTS=1 (README's Dashboard section shows them).
"""

from __future__ import annotations

import os
import shutil
import urllib.parse
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from connectors.axlsim import Simulator
from connectors.cwmssim import Simulator as CwmsSimulator
from tests.browser.harness import REPO, Browser, artifacts, ensure_chromium
from tests.e2e.cwmssite import mirror
from tests.integration.daemon.harness import TOKEN, Daemon

XSS = "<script>alert(1)</script>"
READ_TOKEN = "read-" + uuid.uuid4().hex
HOSTS = 7           # 3 Permanent (purchased), 2 Demonstration (the grant), 2 Grace (the limit)

pytestmark = pytest.mark.slow


class Dashboard:
    def __init__(self, daemon: Daemon, sim: Simulator, leak: str, refused: str) -> None:
        self.daemon, self.sim = daemon, sim
        self.leak, self.refused = leak, refused        # the e-mails of the pushed leak and the refused activation
        self.base = daemon.base_url

    def api(self, path: str, token: str | None = READ_TOKEN) -> httpx.Response:
        with self.daemon.client(token) as c:
            return c.get(path)

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    ensure_chromium()
    root = tmp_path_factory.mktemp("dashboard")
    with Simulator(300, seed=5, tls=True) as sim, CwmsSimulator(0, tls=True, host_limit=0) as cwms:
        sim.add_user("xss.user", "xss.user@example.com", XSS, None)
        ids = mirror(sim, cwms)
        mailed = [u for u in sim.population if u.mailid and u.mailid.casefold() in ids]
        leak = next(u.mailid.casefold() for u in mailed if u.status != 1)
        refused = next(u.mailid.casefold() for u in mailed if u.status == 1 and u.userid != "xss.user")
        cwms.set_active(ids[leak], "ACTIVATED")         # inactive in CUCM: a leak, deactivated by the push
        cwms.set_active(ids[refused], "DEACTIVATED")    # active in CUCM: activated, which the host limit refuses
        d = Daemon(root, f"sqlite:///{root}/syncd.db", sim.url, sim.username, sim.password, str(sim.ca_file),
                   incremental_every="1h")
        read = d.write_secret("read.token", READ_TOKEN)
        cwms_secret = d.write_secret("cwms.secret", cwms.password)
        d.secrets += [READ_TOKEN, cwms.password]
        d.config_text = d.config_text.replace("[api]\n", f'[api]\nread_token_file = "{read}"\n', 1) + (
            f'\n[cwms]\nurl = "{cwms.url}"\nsite_name = "{cwms.site_name}"\nusername = "{cwms.username}"\n'
            f'password_file = "{cwms_secret}"\nca_file = "{cwms.ca_file}"\npush = "on"\npush_activations = true\n'
            "retries = 1\ntimeout = 5\n")
        d.config.write_text(d.config_text)
        d.run("sync")
        d.run("licenses", "purchase", "3")
        d.run("licenses", "demo", "2", "--expires", (datetime.now(UTC) + timedelta(days=40)).date().isoformat())
        d.start()
        try:
            with d.client(TOKEN) as c:
                active = c.get("/api/v1/people", params={"state": "active", "limit": HOSTS}).json()["people"]
                hosts = [p["email"] for p in active if not p["conflict"]]
                for i, host in enumerate(hosts):
                    r = c.post("/api/v1/meetings", json={"host": host, "meeting_id": f"m{i}"})
                    assert r.status_code == 201, r.text
                assert c.post("/api/v1/sync", json={"wait": True}).status_code == 200
            yield Dashboard(d, sim, leak, refused)
        finally:
            d.close()
    for line in d.lines:
        assert READ_TOKEN not in line and TOKEN not in line, line


@pytest.fixture(scope="module")
def browser(dashboard: Dashboard) -> Iterator[Browser]:
    b = Browser()
    try:
        login(b, dashboard, "/ui/")
        yield b
    finally:
        b.close()


def login(b: Browser, dash: Dashboard, path: str) -> None:
    from selenium.webdriver.common.by import By

    b.driver.get(dash.url(path))
    assert "/ui/login" in b.driver.current_url, b.driver.current_url
    b.driver.find_element(By.ID, "token").send_keys(READ_TOKEN)
    b.driver.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
    assert urllib.parse.urlsplit(b.driver.current_url).path == path, b.driver.current_url


def visit(b: Browser, dash: Dashboard, path: str, shot: str | None = None) -> Any:
    """Load ``path``; no console error and no failed request; a screenshot under ``shot``; the driver."""
    from selenium.webdriver.common.by import By

    b.console_errors()          # drop what earlier pages logged
    b.driver.get(dash.url(path))
    assert "/ui/login" not in b.driver.current_url, f"{path}: sent to the login"
    assert b.driver.find_element(By.TAG_NAME, "h1").text
    assert b.console_errors() == [], path
    assert b.failed_requests() == [], path
    if shot:
        b.screenshot(artifacts() / f"{shot}.png")
    return b.driver


def _grace_holder(dash: Dashboard) -> str:
    pool = dash.api("/api/v1/licenses/pool").json()
    assert pool["grace"], pool
    return str(pool["grace"][0]["email"])


def test_the_read_token_guards_pages_and_api(dashboard: Dashboard) -> None:
    assert dashboard.api("/api/v1/licenses", token=None).status_code == 401
    assert dashboard.api("/api/v1/people?q=user1", token="wrong").status_code == 401
    assert dashboard.api("/healthz", token=None).status_code == 401
    assert dashboard.api("/api/v1/licenses").status_code == 200
    assert dashboard.api("/api/v1/licenses", token=TOKEN).status_code == 200      # the mutating token reads too
    with httpx.Client(base_url=dashboard.base) as c:
        r = c.get("/ui/people", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/ui/login?next=")
        wrong = c.post("/ui/login", content="token=nope&next=%2Fui%2F",
                       headers={"Content-Type": "application/x-www-form-urlencoded"}, follow_redirects=False)
        assert wrong.status_code == 401 and "not the read token" in wrong.text
        c.cookies.set("syncd_session", "0" * 64)                                  # a made-up cookie
        assert c.get("/ui/", follow_redirects=False).status_code == 303
    b = Browser()
    try:
        b.driver.get(dashboard.url("/ui/licenses"))
        assert "/ui/login" in b.driver.current_url
        b.screenshot(artifacts() / "login.png")
        login(b, dashboard, "/ui/licenses")
        cookie = b.driver.get_cookie("syncd_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        status = b.driver.execute_async_script(
            "const done = arguments[0]; fetch('/api/v1/licenses').then(r => done(r.status));")
        assert status == 200                                                       # the session cookie reads the API
    finally:
        b.close()


def test_every_page_loads_without_an_error(dashboard: Dashboard, browser: Browser) -> None:
    from selenium.webdriver.common.by import By

    holder = _grace_holder(dashboard)
    pages = {"overview": "/ui/", "people": "/ui/people", "people-filtered": "/ui/people?state=active&license=grace",
             "person": f"/ui/people/{urllib.parse.quote(holder)}", "licenses": "/ui/licenses", "runs": "/ui/runs",
             "conflicts": "/ui/conflicts", "journal": "/ui/journal",
             "journal-person": "/ui/journal?" + urllib.parse.urlencode({"person": holder, "event": "license"})}
    nav = {a.get_attribute("href") for a in visit(browser, dashboard, "/ui/").find_elements(By.CSS_SELECTOR,
                                                                                             "header nav a")}
    assert dashboard.url("/ui/outbox") in nav           # [cwms] is configured
    pages.update({"outbox": "/ui/outbox", "outbox-failed": "/ui/outbox?state=failed"})
    assert {dashboard.url(p) for p in pages.values() if "?" not in p} >= nav
    for name, path in pages.items():
        driver = visit(browser, dashboard, path, shot=name)
        assert driver.execute_script("return document.contentType") == "text/html"
        if name in ("overview", "person") and os.environ.get("SYNCD_DOCS_SCREENSHOTS") == "1":
            shutil.copyfile(artifacts() / f"{name}.png", REPO / "docs" / f"dashboard-{name}.png")
    # the next page of people is one more keyset range, and it loads as cleanly
    driver = visit(browser, dashboard, "/ui/people")
    driver.find_element(By.CSS_SELECTOR, "a[rel=next]").click()
    assert "after=" in driver.current_url and driver.find_elements(By.CSS_SELECTOR, "#people tbody tr")
    assert browser.console_errors() == []


def test_the_outbox_shows_the_pushed_leak_and_the_refused_activation(dashboard: Dashboard,
                                                                     browser: Browser) -> None:
    from selenium.webdriver.common.by import By

    driver = visit(browser, dashboard, "/ui/outbox")
    counts = {s: int(driver.find_element(By.ID, f"outbox_{s}").text) for s in ("pending", "failed", "done")}
    assert counts == {"pending": 0, "failed": 1, "done": 1}, counts
    rows = {r.find_element(By.TAG_NAME, "a").text: r for r in driver.find_elements(By.CSS_SELECTOR, "tbody tr")}
    assert set(rows) == {dashboard.leak, dashboard.refused}, set(rows)
    failed = rows[dashboard.refused]

    def cells(row: Any) -> list[str]:
        return [td.text for td in row.find_elements(By.TAG_NAME, "td")]

    assert "failed" in failed.get_attribute("class").split() and cells(failed)[2:4] == ["activate", "failed"]
    assert failed.find_element(By.TAG_NAME, "code").text == "030048"      # CWMS's exceptionID, as it said it
    assert cells(rows[dashboard.leak])[2:4] == ["deactivate", "done"]
    driver = visit(browser, dashboard, "/ui/outbox?state=failed")
    assert [r.find_element(By.TAG_NAME, "a").text for r in driver.find_elements(By.CSS_SELECTOR, "tbody tr")] \
        == [dashboard.refused]


def test_the_overview_shows_the_api_figures(dashboard: Dashboard, browser: Browser) -> None:
    from selenium.webdriver.common.by import By

    driver = visit(browser, dashboard, "/ui/")
    report = dashboard.api("/api/v1/licenses").json()

    def shown(element_id: str) -> int:
        return int(driver.find_element(By.ID, element_id).text)

    assert shown("installed_permanent") == report["installed_permanent"] == 3
    assert shown("free_permanent") == report["free_permanent"]
    assert shown("grace_limit") == report["grace_limit"]
    assert shown("grace_in_use") == report["in_use"]["grace"] == 2
    assert shown("open_meetings") == report["open_meetings"] == HOSTS
    for kind, n in report["in_use"].items():
        assert shown(f"in_use_{kind}") == n, kind
    for management, n in report["by_management"].items():
        assert shown(f"by_management_{management}") == n, management
    assert len(driver.find_elements(By.CSS_SELECTOR, "svg.chart")) == 2        # the Grace timeline, the runs chart


def test_a_search_finds_a_person_by_cucm_userid(dashboard: Dashboard, browser: Browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    listed = dashboard.api("/api/v1/people?limit=300").json()["people"]
    person = next(p for p in listed if p["userids"] and not p["email"].startswith(p["userids"][0].lower()))
    userid = person["userids"][0]
    driver = visit(browser, dashboard, "/ui/people")
    box = driver.find_element(By.NAME, "q")
    box.send_keys(userid.upper(), Keys.ENTER)               # userids match whatever their case
    WebDriverWait(driver, 10).until(lambda d: "q=" in d.current_url            # the search's page, not the last
                                    and d.execute_script("return document.readyState") == "complete")
    rows = driver.find_elements(By.CSS_SELECTOR, "#people tbody tr")
    found = {r.find_element(By.TAG_NAME, "a").text: r.text for r in rows}
    assert person["email"] in found, (userid, found)
    assert userid in found[person["email"]]
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(driver.current_url).query)["q"] == [userid.upper()]
    assert browser.console_errors() == [] and browser.failed_requests() == []


def test_a_hostile_display_name_shows_as_text(dashboard: Dashboard, browser: Browser) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    for path in ("/ui/people?q=%3Cscript", "/ui/people/xss.user%40example.com"):
        driver = visit(browser, dashboard, path)
        with pytest.raises(NoAlertPresentException):
            driver.switch_to.alert.text     # noqa: B018 (reading it is the check)
        assert XSS in driver.find_element(By.TAG_NAME, "main").text
        assert driver.execute_script("return document.querySelectorAll('main script').length") == 0
    assert driver.find_element(By.ID, "name").text == XSS
    assert driver.find_element(By.TAG_NAME, "h1").text == XSS


def test_narrow_screen_keyboard_and_sorting(dashboard: Dashboard, browser: Browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = browser.driver
    size = driver.get_window_size()
    driver.set_window_size(390, 844)
    try:
        for name, path in (("overview-narrow", "/ui/"), ("people-narrow", "/ui/people")):
            visit(browser, dashboard, path, shot=name)
            assert driver.execute_script(
                "return document.documentElement.scrollWidth <= window.innerWidth + 1"), f"{path} scrolls sideways"
    finally:
        driver.set_window_size(size["width"], size["height"])
    visit(browser, dashboard, "/ui/people")
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    focused = driver.switch_to.active_element
    assert focused.text == "Skip to content" and focused.tag_name == "a"
    header = driver.find_element(By.CSS_SELECTOR, "#people thead th:nth-child(2) button")
    header.send_keys(Keys.ENTER)                             # a real button: the keyboard sorts as the mouse does
    th = driver.find_element(By.CSS_SELECTOR, "#people thead th:nth-child(2)")
    assert th.get_attribute("aria-sort") == "ascending"
    names = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#people tbody td:nth-child(2)")]
    assert names == driver.execute_script("return arguments[0].slice().sort((a, b) => a.localeCompare(b));", names)
    header.send_keys(Keys.ENTER)
    again = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#people tbody td:nth-child(2)")]
    assert th.get_attribute("aria-sort") == "descending" and again == names[::-1]
    times = driver.find_elements(By.CSS_SELECTOR, "main time")
    assert all(t.get_attribute("title").endswith("UTC") for t in times)

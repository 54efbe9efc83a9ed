"""Headless Chromium from Debian's packages (``chromium``, ``chromium-driver``), driven by Selenium.

The packages are installed on first use when running as root with apt-get (as the Samba harness installs Samba);
without them the browser tests skip, or fail where ``SYNCD_REQUIRE_BROWSER=1`` (``.ci/run``) says they must run.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from tests.needs import unavailable

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PACKAGES = ("chromium", "chromium-driver")
REQUIRE = "SYNCD_REQUIRE_BROWSER"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--lang=en-US")
REPO = Path(__file__).resolve().parents[2]


def _installed() -> bool:
    return os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)


def ensure_chromium() -> None:
    """Install Debian's Chromium and its driver unless present (as root); skip or fail when that cannot be."""
    if _installed():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        unavailable(f"{CHROMIUM} and {CHROMEDRIVER} are missing (apt-get install {' '.join(PACKAGES)} as root)",
                    REQUIRE)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *PACKAGES]):
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, env=env, check=False)
        if proc.returncode != 0:
            unavailable(f"{' '.join(cmd[:2])} failed: {(proc.stderr or proc.stdout).strip()[-300:]}", REQUIRE)
    if not _installed():
        unavailable(f"{' '.join(PACKAGES)} installed but {CHROMIUM} or {CHROMEDRIVER} is still missing", REQUIRE)


def artifacts() -> Path:
    """Where the screenshots go: ``$SYNCD_ARTIFACTS/browser``, else ``tests/.artifacts/browser`` (gitignored)."""
    base = os.environ.get("SYNCD_ARTIFACTS")
    folder = (Path(base) if base else REPO / "tests" / ".artifacts") / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Browser:
    """One headless Chromium with a fresh profile, its console log kept for the tests to read."""

    def __init__(self, width: int = 1280, height: int = 900) -> None:
        try:
            from selenium import webdriver
            from selenium.webdriver.chrome.service import Service
        except ImportError:
            unavailable("selenium is not installed (pip install -e '.[test]')", REQUIRE)
        self.profile = tempfile.mkdtemp(prefix="syncd-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*FLAGS, f"--user-data-dir={self.profile}", f"--window-size={width},{height}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver: Any = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(30)

    def console_errors(self) -> list[str]:
        """The SEVERE console entries since the last call (a failed request, a CSP refusal, a script error)."""
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    def failed_requests(self) -> list[str]:
        """The page's own load and every resource it loaded that did not answer 200, or came from elsewhere."""
        entries = self.driver.execute_script(
            "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
            ".map(e => [e.name, e.responseStatus || 0]);")
        origin = self.driver.execute_script("return location.origin;")
        return [f"{name} ({status})" for name, status in entries
                if status != 200 or not name.startswith(origin)]

    def screenshot(self, path: Path) -> None:
        """The whole page, beyond the window's height, as PNG (Chrome's DevTools capture)."""
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        width = self.driver.execute_script("return document.documentElement.clientWidth;")
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": min(size["height"], 8000), "scale": 1}})
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

"""A minimal W3C WebDriver client over urllib, for the browser tests: chromedriver drives
Debian's headless Chromium, and no Python package is needed beyond the standard library."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
KEYS = {"left": "\ue012", "right": "\ue014", "home": "\ue011", "end": "\ue010", "space": " "}


class WebDriverError(RuntimeError):
    pass


class Browser:
    """One session: navigate, find elements, type, click, move the pointer, run scripts."""

    def __init__(self, url: str, session: str):
        self.base = f"{url}/session/{session}"

    def call(self, method: str, path: str, body: dict | None = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())["value"]
        except urllib.error.HTTPError as exc:
            raise WebDriverError(exc.read().decode(errors="replace")[:500]) from None

    def open(self, url: str) -> None:
        self.call("POST", "/url", {"url": url})

    def script(self, source: str, *args: object) -> object:
        return self.call("POST", "/execute/sync", {"script": source, "args": list(args)})

    def find(self, css: str) -> str:
        found = self.call("POST", "/element", {"using": "css selector", "value": css})
        return found[ELEMENT]  # type: ignore[index]

    def click(self, element: str) -> None:
        self.call("POST", f"/element/{element}/click", {})

    def keys(self, element: str, text: str) -> None:
        self.call("POST", f"/element/{element}/value", {"text": text})

    def text(self, element: str) -> str:
        return str(self.call("GET", f"/element/{element}/text"))

    def move_to(self, x: float, y: float) -> None:
        """Move the mouse to viewport pixel (x, y)."""
        move = {"type": "pointerMove", "duration": 0, "origin": "viewport", "x": round(x),
                "y": round(y)}  # fmt: skip
        self.call(
            "POST",
            "/actions",
            {"actions": [{"type": "pointer", "id": "mouse", "actions": [move]}]},
        )

    def resize(self, width: int, height: int) -> None:
        self.call("POST", "/window/rect", {"width": width, "height": height})

    def screenshot(self, path: Path) -> Path:
        path.write_bytes(base64.b64decode(str(self.call("GET", "/screenshot"))))
        return path

    def wait_for(self, source: str, timeout: float = 20.0) -> object:
        """Poll a script until it returns something truthy."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.script(source)
            if value:
                return value
            time.sleep(0.05)
        raise WebDriverError(f"timed out waiting for: {source}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator[Browser]:
    """Start chromedriver and a headless Chromium session; both end with the block."""
    port = _free_port()
    driver = subprocess.Popen(
        [str(CHROMEDRIVER), f"--port={port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/status", timeout=2) as r:
                    if json.loads(r.read())["value"]["ready"]:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise WebDriverError("chromedriver did not start")
            time.sleep(0.1)
        options = {
            "binary": str(CHROMIUM),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-background-networking",
                     f"--window-size={width},{height}"],
        }  # fmt: skip
        body = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}}
        request = urllib.request.Request(
            f"{url}/session",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            session = json.loads(response.read())["value"]["sessionId"]
        browser = Browser(url, session)
        try:
            yield browser
        finally:
            with contextlib.suppress(OSError, WebDriverError):
                browser.call("DELETE", "")
    finally:
        driver.terminate()
        try:
            driver.wait(timeout=10)
        except subprocess.TimeoutExpired:
            driver.kill()

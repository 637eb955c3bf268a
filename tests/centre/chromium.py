"""Headless Chromium (Debian's /usr/bin/chromium) driven over the Chrome DevTools protocol on loopback.

Small on purpose: start the browser with a fresh profile, open one page, evaluate JavaScript, set the viewport,
take a screenshot. Shared by the browser tests and benchmarks/centre_page.py.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import websocket

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-default-apps", "--mute-audio", "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]  # fmt: skip


def chromium_path() -> str:
    """The browser, or a failure with the install hint."""
    path = shutil.which("chromium")
    if path is None:
        raise RuntimeError("chromium not found: `apt-get install chromium` (make test installs it)")
    return path


class Browser:
    """One headless Chromium with one page; ``evaluate`` runs JavaScript in it and returns the JSON value."""

    def __init__(self, width: int = 1280, height: int = 800) -> None:
        self._profile = tempfile.mkdtemp(prefix="kvms-chromium-")
        self._proc = subprocess.Popen(
            [chromium_path(), *FLAGS, f"--user-data-dir={self._profile}", f"--window-size={width},{height}",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            browser_ws = self._read_ws_url(30.0)
            port = browser_ws.split(":")[2].split("/")[0]
            self._next = 0
            ws = websocket.create_connection(browser_ws, timeout=30)
            target = self._call(ws, "Target.createTarget", {"url": "about:blank"})["targetId"]
            ws.close()
            self._ws = websocket.create_connection(f"ws://127.0.0.1:{port}/devtools/page/{target}", timeout=30)
            self.call("Page.enable")
            self.call("Runtime.enable")
            self.viewport(width, height)
        except BaseException:
            self.close()
            raise

    def _read_ws_url(self, timeout: float) -> str:
        found: list[str] = []
        done = threading.Event()
        assert self._proc.stderr is not None
        stderr = self._proc.stderr

        def read() -> None:
            for line in stderr:
                if "DevTools listening on " in line and not found:
                    found.append(line.split("DevTools listening on ", 1)[1].strip())
                    done.set()
            done.set()

        threading.Thread(target=read, daemon=True).start()  # keeps draining stderr afterwards
        if not done.wait(timeout) or not found:
            raise RuntimeError("chromium did not start its DevTools endpoint")
        return found[0]

    def _call(self, ws: websocket.WebSocket, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._next += 1
        ident = self._next
        ws.send(json.dumps({"id": ident, "method": method, "params": params or {}}))
        while True:
            msg = json.loads(ws.recv())
            if msg.get("id") == ident:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return dict(msg.get("result", {}))

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """One DevTools command on the page; its result."""
        return self._call(self._ws, method, params)

    def viewport(self, width: int, height: int, *, mobile: bool = False) -> None:
        """Emulate a screen of this size (CSS pixels)."""
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})  # fmt: skip

    def goto(self, url: str) -> None:
        """Open ``url`` and wait for its load event."""
        self.call("Page.navigate", {"url": url})
        self.wait_for("document.readyState === 'complete' && location.href !== 'about:blank'", 20.0)

    def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript (promises awaited); its value as JSON."""
        res = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in res:
            raise RuntimeError(f"page error: {res['exceptionDetails'].get('text')} in {expression[:80]}")
        return res["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 10.0, step: float = 0.05) -> Any:
        """Poll ``expression`` until truthy; its value. Raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"not true after {timeout} s: {expression[:120]}")
            time.sleep(step)

    def screenshot(self, path: Path) -> Path:
        """A PNG of the viewport."""
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        """Stop the browser and remove its profile."""
        ws = getattr(self, "_ws", None)
        if ws is not None:
            ws.close()
        self._proc.terminate()
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(5)
        if self._proc.stderr is not None:
            self._proc.stderr.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""The centre page in headless Chromium (Debian) against a running centre fed through a real nats-server."""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from kedirivms.analytics import Event
from kedirivms.centre_web import CentreData, CentreWeb, hash_password

from .chromium import Browser
from .conftest import SITE_OF, CentreRig, wait_until

REFRESH_BOUND = 5.0  # the page polls every second; the centre fetches every second: 5 s is generous

TILE_STATE = "(c) => document.querySelector(`.tile[data-camera='${c}']`)?.dataset.state"


@pytest.fixture(scope="module")
def browser(rig: CentreRig) -> Iterator[Browser]:
    now = time.time()
    for cam in SITE_OF:
        rig.running(cam)
        rig.publish(Event(camera=cam, source="queue", kind="queue_stats", time=now,
                          data={"length_mean": 1.0, "length_max": 2, "wait_mean_s": 20.0}))  # fmt: skip
    rig.publish(Event(camera="w-pare", source="worker", kind="worker_state", time=now,
                      data={"worker": "w-pare", "cameras": [], "dropped": 7}))  # fmt: skip
    last = rig.publish(Event(camera="loket-c", source="queue", kind="queue_stats", time=now,
                             data={"length_mean": 2.0, "length_max": 3, "wait_mean_s": 25.0}))  # fmt: skip
    rig.stored(last)
    with Browser(1920, 1080) as b:
        b.goto(rig.web.url)
        yield b


def state_of(browser: Browser, camera: str) -> str | None:
    value = browser.evaluate(f"({TILE_STATE})({camera!r})")
    return None if value is None else str(value)


def test_a_tile_for_every_counter_grouped_by_site(browser: Browser) -> None:
    browser.wait_for(f"document.querySelectorAll('.tile').length === {len(SITE_OF)}")
    cams = browser.evaluate("[...document.querySelectorAll('.tile')].map((t) => t.dataset.camera)")
    assert sorted(cams) == sorted(SITE_OF)
    headings = browser.evaluate("[...document.querySelectorAll('#counters h2, #counters h3')].map(h => h.textContent)")
    assert headings == ["kediri-kota", "mpp-kota", "pare", "kec-pare"]
    assert browser.wait_for(f"({TILE_STATE})('loket-c') === 'ok'")
    assert browser.evaluate("document.querySelector('#link').textContent") == "live"


def test_header_says_which_worker_lost_events(browser: Browser) -> None:
    browser.wait_for("document.querySelector('#dropped') !== null", REFRESH_BOUND)
    totals = browser.evaluate("document.querySelector('#totals').textContent")
    assert "6 counters" in totals and "w-pare dropped 7" in totals


def test_a_view_warning_shows_on_its_tile(rig: CentreRig, browser: Browser) -> None:
    """A camera whose queue analytics found its view unreliable (``view_warning``) says so on its tile, once per
    code; the other tiles say nothing about their view."""
    data = {"code": "desk_zone_thin", "message": "the service zone is 13 px tall ...", "value": 0.14, "limit": 0.2}
    for _ in range(2):  # (sent again after the worker restarts)
        rig.publish(Event(camera="loket-2", source="queue", kind="view_warning", time=time.time(), zone="desk",
                          data=data))  # fmt: skip
    view = "(c) => document.querySelector(`.tile[data-camera='${c}'] .view`)?.textContent ?? null"
    browser.wait_for(f"({view})('loket-2') === 'view: desk_zone_thin'", REFRESH_BOUND)
    assert browser.evaluate(f"({view})('loket-1')") is None
    assert browser.evaluate(f"({TILE_STATE})('loket-2')") == "ok"  # a finding about the view, not an alert


def test_pile_up_turns_its_tile_red_first_and_ack_round_trips(rig: CentreRig, browser: Browser) -> None:
    rig.publish(Event(camera="loket-b", source="queue", kind="pile_up", time=time.time(), data={"length": 9}))
    browser.wait_for(f"({TILE_STATE})('loket-b') === 'pile_up'", REFRESH_BOUND)
    colour = browser.evaluate(
        "getComputedStyle(document.querySelector(`.tile[data-camera='loket-b']`)).backgroundColor"
    )
    r, g, b = (int(x) for x in colour[colour.index("(") + 1 : colour.index(")")].split(",")[:3])
    assert r > 100 and r > 3 * g and r > 3 * b, colour  # red
    assert browser.evaluate("document.querySelector('.tile').dataset.camera") == "loket-b"  # alerts sort first
    browser.wait_for("!!document.querySelector(`#alerts tr[data-camera='loket-b'] .ack-btn`)", REFRESH_BOUND)
    browser.evaluate("document.querySelector(`#alerts tr[data-camera='loket-b'] .ack-btn`).click()")
    browser.evaluate(
        "(() => { const f = document.querySelector('#ack'); f.elements.name.value = 'siti';"
        " f.elements.note.value = 'second clerk sent'; f.requestSubmit(); })()"
    )
    browser.wait_for(
        "document.querySelector(`#alerts tr[data-camera='loket-b'] .acked`)?.textContent === 'siti: second clerk sent'",
        REFRESH_BOUND,
    )
    assert browser.evaluate("document.querySelector('#ack').getBoundingClientRect().height") == 0  # form closed
    acks = rig.store.events(camera="loket-b", kind="alert_ack")
    assert [(a.data["name"], a.data["note"], a.data["alert"]) for a in acks] == [
        ("siti", "second clerk sent", "pile_up")]  # fmt: skip
    rig.publish(Event(camera="loket-b", source="queue", kind="pile_up_cleared", time=time.time()))
    browser.wait_for(f"({TILE_STATE})('loket-b') === 'ok'", REFRESH_BOUND)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


LAYOUT = """(() => {
  const vw = document.documentElement.clientWidth;
  const tiles = [...document.querySelectorAll('.tile')].map((t) => t.getBoundingClientRect());
  return {vw, scroll: document.documentElement.scrollWidth, count: tiles.length,
          inside: tiles.every((r) => r.left >= 0 && r.right <= vw + 0.5 && r.width >= 120),
          firstTop: tiles.length ? tiles[0].top : null, innerHeight};
})()"""


@pytest.mark.parametrize(("width", "height", "mobile"), [(1920, 1080, False), (390, 844, True)])
def test_layout_at_wall_screen_and_phone_width(
    browser: Browser, tmp_path: Path, width: int, height: int, mobile: bool
) -> None:
    browser.viewport(width, height, mobile=mobile)
    browser.wait_for(f"document.documentElement.clientWidth === {width}")
    shot = browser.screenshot(tmp_path / f"centre-{width}.png")
    assert png_size(shot) == (width, height)
    layout = browser.evaluate(LAYOUT)
    assert layout["count"] == len(SITE_OF)
    assert layout["scroll"] <= layout["vw"], layout  # no horizontal overflow
    assert layout["inside"], layout  # every tile within the width, none squeezed
    assert 0 <= layout["firstTop"] < layout["innerHeight"], layout  # counters visible without scrolling
    if width >= 1920:  # the wall screen shows all six counters at once
        assert browser.evaluate(
            "[...document.querySelectorAll('.tile')].every((t) => t.getBoundingClientRect().bottom <= innerHeight)"
        )
    # the screenshot itself: every tile the DOM places in view is painted there, whole, in its state's colour
    tiles = browser.evaluate(TILE_RECTS)
    painted = painted_tiles(shot, tiles)
    visible = [t for t in tiles if t["bottom"] <= height]
    assert visible and [t["camera"] for t in painted] == [t["camera"] for t in visible], (tiles, painted)
    if width >= 1920:
        assert len(painted) == len(SITE_OF)
        # and the comparison sees what a person would: a tile covered by something else is not "painted"
        first = visible[0]
        browser.evaluate(
            f"(() => {{ const d = document.createElement('div'); d.id = 'cover'; d.style.cssText = 'position:fixed;"
            f"left:{first['left'] + 20}px;top:{first['top'] - 4}px;width:60px;height:30px;background:#fff;z-index:9';"
            " document.body.append(d); })()"
        )
        try:
            covered = painted_tiles(browser.screenshot(tmp_path / "covered.png"), browser.evaluate(TILE_RECTS))
        finally:
            browser.evaluate("document.querySelector('#cover').remove()")
        assert [t["camera"] for t in covered] == [t["camera"] for t in visible[1:]]


TILE_RECTS = """[...document.querySelectorAll('.tile')].map((t) => {
  const r = t.getBoundingClientRect(), c = getComputedStyle(t).borderTopColor;
  return {camera: t.dataset.camera, left: r.left, top: r.top, right: r.right, bottom: r.bottom,
          border: c.slice(c.indexOf('(') + 1, c.indexOf(')')).split(',').slice(0, 3).map(Number)};
})"""


def painted_tiles(shot: Path, tiles: list[dict[str, Any]], tolerance: int = 24) -> list[dict[str, Any]]:
    """The tiles whose border is painted in the screenshot where the DOM says, in their border colour: the four
    edges (corners left out: they are rounded) match it, and the page just right of the tile does not (the tile is
    not wider than its rectangle). Pixels, not text: font rendering cannot change the answer."""
    image = np.asarray(Image.open(shot).convert("RGB")).astype(np.int16)
    h, w = image.shape[:2]
    out = []
    for t in tiles:
        left, top, right, bottom = int(t["left"] + 1), int(t["top"] + 1), int(t["right"] - 1), int(t["bottom"] - 1)
        if left < 0 or top < 0 or right >= w or bottom >= h:
            continue  # (partly) outside the screenshot: not shown whole
        colour = np.array(t["border"], np.int16)
        edges = [image[top, left + 8 : right - 7], image[bottom, left + 8 : right - 7],
                 image[top + 8 : bottom - 7, left], image[top + 8 : bottom - 7, right]]  # fmt: skip
        match = [float((np.abs(e - colour).max(axis=1) <= tolerance).mean()) for e in edges]
        beside = image[top + 8 : bottom - 7, min(right + 3, w - 1)]
        if min(match) >= 0.95 and float((np.abs(beside - colour).max(axis=1) <= tolerance).mean()) < 0.5:
            out.append(t)
    return out


def test_page_reconnects_after_the_server_restarts(rig: CentreRig, browser: Browser) -> None:
    port = int(rig.web.url.rsplit(":", 1)[1].strip("/"))
    data = rig.web.data
    rig.web.close()
    browser.wait_for("document.querySelector('#link').textContent === 'reconnecting…'", REFRESH_BOUND)
    rig.web = CentreWeb(data, port=port).start()
    browser.wait_for("document.querySelector('#link').textContent === 'live'", 10.0)
    # the restarted server has a new CSRF token: the page picked it up, so an acknowledgement still works
    rig.publish(Event(camera="loket-1", source="queue", kind="counter_unstaffed", time=time.time()))
    browser.wait_for("!!document.querySelector(`#alerts tr[data-camera='loket-1'] .ack-btn`)", REFRESH_BOUND)
    browser.evaluate(
        "(() => { document.querySelector(`#alerts tr[data-camera='loket-1'] .ack-btn`).click();"
        " const f = document.querySelector('#ack'); f.elements.name.value = 'budi'; f.requestSubmit(); })()"
    )
    wait_until(lambda: rig.store.events(camera="loket-1", kind="alert_ack"), REFRESH_BOUND)


def test_login_in_the_browser(rig: CentreRig, browser: Browser) -> None:
    users = {"siti": hash_password("tall-tree-42")}
    data = CentreData(rig.store)
    with CentreWeb(data, port=0, users=users) as web:
        browser.goto(web.url)
        browser.wait_for("!document.querySelector('#login').hidden")
        assert browser.evaluate("document.querySelectorAll('.tile').length") == 0
        login = (
            "((u, p) => { const f = document.querySelector('#login'); f.elements.user.value = u;"
            " f.elements.password.value = p; f.requestSubmit(); })"
        )
        browser.evaluate(f"{login}('siti', 'wrong')")
        browser.wait_for("document.querySelector('#login-error').textContent.includes('wrong')")
        browser.evaluate(f"{login}('siti', 'tall-tree-42')")
        browser.wait_for(f"document.querySelectorAll('.tile').length === {len(SITE_OF)}", REFRESH_BOUND)
        assert browser.evaluate("document.cookie") == ""  # HttpOnly: the session id is not readable by scripts
        browser.evaluate("document.querySelector('#logout').click()")
        browser.wait_for("!document.querySelector('#login').hidden")
    data.close()

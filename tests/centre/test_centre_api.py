"""The centre page's JSON API over real HTTP, fed through a real nats-server by a worker's JetStream sink."""

from __future__ import annotations

import csv
import http.client
import io
import json
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from kedirivms.analytics import Event
from kedirivms.centre_web import (
    CentreData,
    CentreWeb,
    SnapshotThrottle,
    hash_password,
    load_users,
    parse_bind,
    snapshot_event,
    verify_password,
)
from kedirivms.errors import ConfigError

from .conftest import SITE_OF, CentreRig, wait_until


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
            return r.status, body, r.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


def get_json(url: str, headers: dict[str, str] | None = None) -> Any:
    status, body, _ = get(url, headers)
    assert status == 200, body
    return json.loads(body)


def post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read()), r.headers
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), exc.headers


def tiles(rig: CentreRig) -> dict[str, dict[str, Any]]:
    return {t["camera"]: t for t in get_json(rig.web.url + "api/counters")["counters"]}


def test_tiles_states_groups_and_order(rig: CentreRig) -> None:
    now = time.time()
    rig.running("loket-1")
    rig.running("loket-2")
    rig.running("loket-a", when=now - 120)  # its last frame two minutes ago: offline
    for cam in ("loket-1", "loket-a"):
        rig.publish(Event(camera=cam, source="queue", kind="queue_stats", time=now,
                          data={"length_mean": 3.5, "length_max": 5, "wait_mean_s": 42.0}))  # fmt: skip
    last = rig.publish(Event(camera="loket-3", source="queue", kind="pile_up", time=now, data={"length": 9}))
    rig.stored(last)
    # answers are shared by all pages for up to 1 s: wait for one computed after the last event
    t = wait_until(lambda: (t := tiles(rig))["loket-a"]["queue_length"] is not None and t["loket-3"]["alerts"] and t)
    assert set(t) == set(SITE_OF)  # every counter of the fleet file, with or without events
    assert {c: t[c]["state"] for c in t} == {
        "loket-1": "ok", "loket-2": "no_analytics", "loket-3": "pile_up",
        "loket-a": "offline", "loket-b": "offline", "loket-c": "offline",
    }  # fmt: skip
    assert (t["loket-1"]["district"], t["loket-1"]["office"]) == ("kediri-kota", "mpp-kota")
    assert (t["loket-b"]["district"], t["loket-b"]["office"]) == ("pare", "kec-pare")
    assert t["loket-1"]["queue_length"] == 3.5 and t["loket-1"]["wait_s"] == 42.0
    order = [c["camera"] for c in get_json(rig.web.url + "api/counters")["counters"]]
    assert order[0] == "loket-3"  # in alert: first
    fleet = get_json(rig.web.url + "api/fleet")
    assert fleet["counters"] == 6 and fleet["states"]["offline"] == 3
    spark = get_json(rig.web.url + "api/sparklines")
    assert spark["series"]["loket-1"][-1] == 3.5 and len(spark["series"]["loket-1"]) == 60


def test_a_tile_lists_its_cameras_view_warnings(rig: CentreRig) -> None:
    last = rig.publish(Event(camera="loket-c", source="queue", kind="view_warning", time=time.time(), zone="desk",
                             data={"code": "desk_zone_thin", "value": 0.14, "limit": 0.2}))  # fmt: skip
    rig.stored(last)
    t = wait_until(lambda: (t := tiles(rig))["loket-c"]["view_warnings"] and t)
    assert t["loket-c"]["view_warnings"] == ["desk_zone_thin"] and t["loket-b"]["view_warnings"] == []


def test_fleet_lists_events_a_worker_dropped(rig: CentreRig) -> None:
    rig.publish(Event(camera="w-kota", source="worker", kind="worker_state", time=time.time(),
                      data={"worker": "w-kota", "cameras": ["loket-1"], "dropped": 12}))  # fmt: skip
    workers = wait_until(lambda: [w for w in get_json(rig.web.url + "api/fleet")["workers"] if w["worker"] == "w-kota"])
    assert workers[0]["dropped"] == 12


def test_unchanged_counters_answer_304(rig: CentreRig) -> None:
    status, _, headers = get(rig.web.url + "api/alerts")
    assert status == 200
    status, body, _ = get(rig.web.url + "api/alerts", {"If-None-Match": headers["ETag"]})
    assert (status, body) == (304, b"")


def test_acknowledge_is_stored_published_and_listed(rig: CentreRig) -> None:
    opened = rig.publish(Event(camera="loket-2", source="queue", kind="counter_unstaffed", time=time.time()))
    rig.stored(opened)
    url = rig.web.url

    def alert_of(camera: str) -> Any:
        return next((a for a in get_json(url + "api/alerts")["alerts"] if a["camera"] == camera), None)

    alert = wait_until(lambda: alert_of("loket-2"), 5.0)  # answers are shared for up to 1 s
    assert (alert["kind"], alert["site"], alert["ack"]) == ("counter_unstaffed", "mpp-kota", None)
    assert alert["since"] == pytest.approx(opened.timestamp)
    body = {"camera": "loket-2", "kind": "counter_unstaffed", "name": "siti", "note": "clerk on break"}
    assert post(url + "api/alerts/ack", body)[0] == 403  # no CSRF token
    assert post(url + "api/alerts/ack", body, {"X-CSRF-Token": "forged"})[0] == 403
    csrf = get_json(url + "api/session")["csrf"]
    assert post(url + "api/alerts/ack", {**body, "kind": "pile_up"}, {"X-CSRF-Token": csrf})[0] == 400
    assert post(url + "api/alerts/ack", {**body, "name": " "}, {"X-CSRF-Token": csrf})[0] == 400
    dup_before = rig.store.duplicates()
    status, ack, _ = post(url + "api/alerts/ack", body, {"X-CSRF-Token": csrf})
    assert status == 200 and ack["name"] == "siti"
    alert = alert_of("loket-2")  # an acknowledgement through this server is seen at once
    assert (alert["ack"]["name"], alert["ack"]["note"]) == ("siti", "clerk on break")
    # published to JetStream: the centre consumes its own acknowledgement back (stored once: a duplicate)
    wait_until(lambda: rig.store.duplicates() > dup_before)
    assert len(rig.store.events(kind="alert_ack")) == 1
    history = get_json(url + "api/history?site=mpp-kota")["events"]
    assert any(e["kind"] == "alert_ack" and e["data"]["note"] == "clerk on break" for e in history)


def test_history_and_csv_by_site_and_day(rig: CentreRig) -> None:
    day = datetime(2026, 3, 4, 9, 0, tzinfo=UTC).timestamp()
    evs = [
        Event(camera="loket-b", source="queue", kind="queue_stats", time=day, data={"length_mean": 2.0,
              "length_max": 3, "wait_mean_s": 60.0}),
        Event(camera="loket-b", source="queue", kind="queue_stats", time=day + 600, data={"length_mean": 4.0,
              "length_max": 7, "wait_mean_s": 120.0}),
        Event(camera="loket-b", source="queue", kind="pile_up", time=day + 700),
        Event(camera="loket-b", source="queue", kind="pile_up_cleared", time=day + 900),
        Event(camera="loket-1", source="queue", kind="pile_up", time=day + 30),
        Event(camera="loket-b", source="queue", kind="pile_up", time=day + 86400),  # the next day
    ]  # fmt: skip
    for ev in evs:
        rig.publish(ev)
    for ev in evs:
        rig.stored(ev)
    url = rig.web.url
    pare = get_json(url + "api/history?day=2026-03-04&site=kec-pare")["events"]
    assert [e["kind"] for e in pare] == ["pile_up_cleared", "pile_up"]  # newest first, no queue_stats
    both = get_json(url + "api/history?day=2026-03-04")["events"]
    assert {e["camera"] for e in both} == {"loket-b", "loket-1"}
    status, body, headers = get(url + "api/export.csv?day=2026-03-04")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    rows = {r["camera"]: r for r in csv.DictReader(io.StringIO(body.decode()))}
    assert set(rows) == {"loket-b", "loket-1"}
    b = rows["loket-b"]
    assert (b["date"], b["district"], b["office"]) == ("2026-03-04", "pare", "kec-pare")
    assert (b["intervals"], b["queue_mean"], b["queue_max"], b["wait_mean_s"], b["pile_ups"]) == (
        "2", "3.0", "7", "90.0", "1")  # fmt: skip
    assert (rows["loket-1"]["intervals"], rows["loket-1"]["pile_ups"]) == ("0", "1")
    assert get(url + "api/history?day=March")[0] == 400


def test_snapshots_are_small_jpegs(rig: CentreRig) -> None:
    frame = np.random.default_rng(1).integers(0, 255, (1080, 1920, 3), dtype=np.uint8)
    ev = rig.publish(snapshot_event("loket-1", frame))
    rig.stored(ev)
    assert len(ev.model_dump_json()) < 200_000
    status, jpeg, headers = get(rig.web.url + "api/snapshots/loket-1.jpg")
    assert status == 200 and headers["Content-Type"] == "image/jpeg" and jpeg[:3] == b"\xff\xd8\xff"
    assert ev.data["width"] == 320 and ev.data["height"] == 180
    assert wait_until(lambda: tiles(rig)["loket-1"]["snapshot_time"]) == pytest.approx(ev.timestamp)
    assert get(rig.web.url + "api/snapshots/loket-c.jpg")[0] == 404
    throttle = SnapshotThrottle(5.0)
    assert [throttle.due("c", now=t) for t in (0.0, 4.9, 5.0, 6.0)] == [True, False, True, False]


def test_page_and_static_files(rig: CentreRig) -> None:
    status, html, headers = get(rig.web.url)
    assert status == 200 and b"/static/app.js" in html
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    for path in ("static/app.js", "static/app.css"):
        assert get(rig.web.url + path)[0] == 200
    assert get(rig.web.url + "api/nothing")[0] == 404


@pytest.fixture()
def login_web(rig: CentreRig) -> Any:
    users = {"siti": hash_password("correct horse")}
    data = CentreData(rig.store)
    with CentreWeb(data, port=0, users=users) as web:
        yield web
    data.close()


def test_login_sessions_and_csrf(login_web: CentreWeb) -> None:
    url = login_web.url
    assert get_json(url + "api/session") == {"login_required": True, "user": None, "csrf": None}
    assert get(url + "api/counters")[0] == 401
    assert post(url + "api/login", {"user": "siti", "password": "wrong"})[0] == 401
    assert post(url + "api/login", {"user": "nobody", "password": "correct horse"})[0] == 401
    status, who, headers = post(url + "api/login", {"user": "siti", "password": "correct horse"})
    assert status == 200 and who["user"] == "siti"
    cookie = headers["Set-Cookie"]
    for flag in ("HttpOnly", "Secure", "SameSite=Strict"):
        assert flag in cookie
    jar = {"Cookie": cookie.split(";")[0]}
    assert get(url + "api/counters", jar)[0] == 200
    assert get_json(url + "api/session", jar)["csrf"] == who["csrf"]
    assert post(url + "api/logout", {}, jar)[0] == 403  # a POST without the token
    assert post(url + "api/logout", {}, {**jar, "X-CSRF-Token": who["csrf"]})[0] == 200
    assert get(url + "api/counters", jar)[0] == 401


def test_no_secret_reaches_the_browser(rig: CentreRig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KVMS_TEST_CENTRE_PW", "camera-secret-8f3a")
    bodies = b"".join(get(rig.web.url + p)[1] for p in (
        "api/session", "api/fleet", "api/counters", "api/alerts", "api/history", "api/export.csv"))  # fmt: skip
    assert b'"counters"' in bodies  # the API answered
    for secret in (b"camera-secret-8f3a", b"KVMS_TEST_CENTRE_PW", b"password", b"admin", b"9000"):
        assert secret not in bodies  # nor the camera's password, its account or its address


@pytest.mark.parametrize(
    ("host", "users", "error"),
    [("0.0.0.0", None, "needs logins"), ("192.0.2.1", None, "needs logins"), ("127.0.0.1", None, None)],
)
def test_non_loopback_bind_needs_users(rig: CentreRig, host: str, users: Any, error: str | None) -> None:
    data = CentreData(rig.store)
    try:
        if error is None:
            CentreWeb(data, host=host, port=0).close()
            return
        with pytest.raises(ConfigError, match=error):
            CentreWeb(data, host=host, port=0, users=users)
    finally:
        data.close()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("127.0.0.1:8088", ("127.0.0.1", 8088)), ("[::1]:80", ("::1", 80)), (":9000", ("127.0.0.1", 9000)),
     ("localhost", ConfigError), ("127.0.0.1:99999", ConfigError), ("h:x", ConfigError)],
)  # fmt: skip
def test_parse_bind(value: str, expected: Any) -> None:
    if expected is ConfigError:
        with pytest.raises(ConfigError):
            parse_bind(value)
    else:
        assert parse_bind(value) == expected


def test_password_hashes_and_users_file(tmp_path: Any) -> None:
    h = hash_password("pw")
    assert h.startswith("scrypt$") and h != hash_password("pw")  # salted
    assert verify_password("pw", h) and not verify_password("pW", h) and not verify_password("pw", "scrypt$x")
    good = tmp_path / "users.yaml"
    good.write_text(f'users:\n  siti: "{h}"\n')
    assert load_users(good) == {"siti": h}
    bad = tmp_path / "bad.yaml"
    bad.write_text("users:\n  siti: plain-password\n")
    with pytest.raises(ConfigError, match="never written"):
        load_users(bad)
    with pytest.raises(ConfigError):
        load_users(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"not json", {}, 400),
        (b"[1, 2]", {}, 400),
        (b"x" * 20000, {}, 400),
        (b"{}", {"Content-Length": "abc"}, 400),
        (b'{"camera": "loket-c", "kind": "pile_up", "name": "siti"}', {}, 400),  # no such open alert
    ],
)
def test_bad_acknowledgements_are_refused(rig: CentreRig, body: bytes, headers: dict[str, str], status: int) -> None:
    csrf = get_json(rig.web.url + "api/session")["csrf"]
    host, port = rig.web.url.split("//")[1].strip("/").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    hdrs = {"Content-Type": "application/json", "X-CSRF-Token": csrf, "Content-Length": str(len(body)), **headers}
    conn.putrequest("POST", "/api/alerts/ack")
    for key, value in hdrs.items():
        conn.putheader(key, value)
    conn.endheaders(body if "abc" not in hdrs["Content-Length"] else b"")
    r = conn.getresponse()
    answer = json.loads(r.read())
    conn.close()
    assert r.status == status and answer["error"]


def test_https_with_a_certificate(rig: CentreRig, tmp_path: Any) -> None:
    openssl = shutil.which("openssl")
    assert openssl, "openssl not found: apt-get install openssl"
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    users = {"siti": hash_password("correct horse")}
    data = CentreData(rig.store)
    try:
        with CentreWeb(data, port=0, users=users, tls=(cert, key)) as web:
            assert web.url.startswith("https://127.0.0.1:")
            ctx = ssl.create_default_context(cafile=str(cert))
            req = urllib.request.Request(web.url + "api/login", data=b'{"user": "siti", "password": "correct horse"}',
                                         method="POST", headers={"Content-Type": "application/json"})  # fmt: skip
            with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
                assert r.status == 200 and "Secure" in r.headers["Set-Cookie"]
            with pytest.raises(OSError):  # plain HTTP is not answered
                urllib.request.urlopen(web.url.replace("https", "http") + "api/session", timeout=5)
        with pytest.raises(ConfigError, match="TLS certificate"):
            CentreWeb(data, port=0, users=users, tls=(key, key))
    finally:
        data.close()

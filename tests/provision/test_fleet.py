"""Plan and apply over 20 virtual cameras with mixed capabilities: Digest-only, clock years off, an NVR, options
narrower than the defaults, a camera without PTZ, wrong credentials and an address where nothing listens."""

from __future__ import annotations

import copy
import json
import logging
import pickle
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from _prov_helpers import ADMIN_PW, OPERATOR_PW, ROTATED_PW, assert_no_secret, write
from pydantic import SecretStr

from clitools import free_port
from kedirivms import Camera
from kedirivms.errors import ConfigError, InvalidArgument
from kedirivms.fleet import load_fleet
from kedirivms.provision import ApplyReport, Plan, apply, plan
from kedirivms.sim import EncoderOptions, EncoderSpec, UserAccount, VirtualCamera, VirtualCameraConfig
from kedirivms.sim._models_ptz import PTZNodeSpec

SKEW_S = -6 * 365 * 86400.0  # six years behind
DIGEST, SKEWED, NOPTZ, WRONG = "cam01", "cam02", "cam03", "cam19"
NVR, NARROW, UNREACHABLE = "cam11", "cam12", "cam20"
SHORT_PAN = "cam05"  # PTZ node that pans -0.5..0.5 only


def _config(index: int) -> VirtualCameraConfig:
    fields: dict[str, object] = {
        "host": f"127.0.3.{index}",
        "password": SecretStr(ADMIN_PW),
        "serial_number": f"PROV-{index:03d}",
        "name": f"Virtual {index}",
    }
    name = f"cam{index:02d}"
    if name == DIGEST:
        fields["auth"] = "digest"
    elif name == SKEWED:
        fields["clock_skew_s"] = SKEW_S
    elif name == NOPTZ:
        fields["ptz"] = False
    elif name == NVR:
        fields["channels"] = 4
    elif name == SHORT_PAN:
        fields["ptz_node"] = PTZNodeSpec(pan_range=(-0.5, 0.5))
    elif name == NARROW:
        fields["encoder_options"] = EncoderOptions(
            resolutions=[(1280, 720), (640, 480), (640, 360)], fps_range=(1, 12), bitrate_range_kbps=(64, 2048)
        )
        fields["main"] = EncoderSpec(width=1280, height=720, fps=12, bitrate_kbps=2048)
    return VirtualCameraConfig.model_validate(fields)


def _inventory_text(cams: dict[str, VirtualCamera], dead: str) -> str:
    def entry(name: str) -> str:
        address = dead if name == UNREACHABLE else f"{cams[name].host}:{cams[name].port}"
        extra = ""
        if name == NOPTZ:
            extra = ", ptz: null"
        elif name == NARROW:
            extra = ", encoders: {main: {resolution: 640x480, fps: 10}}"
        elif name == WRONG:
            extra = ", credentials: {username: admin, password_env: KVMS_TEST_WRONG_PW}"
        elif name == UNREACHABLE:
            extra = ", timeout: 1"
        return f"      - {{name: {name}, address: '{address}', counter: 'Loket {name[3:]}'{extra}}}"

    kota = "\n".join(entry(f"cam{i:02d}") for i in range(1, 11))
    kabupaten = "\n".join(entry(f"cam{i:02d}") for i in range(11, 21))
    return f"""\
# fleet test inventory
version: 1
x-admin: &admin {{username: admin, password_env: KVMS_TEST_ADMIN_PW}}
defaults:
  credentials: *admin
  timeout: 3
  hostname: "{{site}}-{{name}}"
  time: {{ntp_servers: [10.20.0.1, ntp.kediri.go.id], time_zone: WIB-7}}
  encoders:
    main: {{resolution: 1280x720, fps: 15, bitrate_kbps: 2048, gop: 30}}
    sub: {{resolution: 640x360, fps: 5, bitrate_kbps: 256}}
  users:
    - {{name: operator, role: Operator, password_env: KVMS_TEST_OPERATOR_PW}}
    - {{name: installer, state: absent}}
  imaging: {{brightness: 55, ir_cut_filter: AUTO}}
sites:
  kota:
    location: kediri/kota
    defaults:
      ptz: {{presets: [{{name: Entrance, pan: 0.25, tilt: 0.1, zoom: 0.0}}]}}
    cameras:
{kota}
  kabupaten:
    location: kediri/kabupaten
    defaults:
      time: {{time_zone: WITA-8}}
    cameras:
{kabupaten}
"""


@dataclass
class Run:
    cams: dict[str, VirtualCamera]
    inventory: Path
    audit: Path
    plan1: Plan
    apply1: ApplyReport
    plan2: Plan
    apply2: ApplyReport
    logs: str
    writes_during_plan: list[str]
    reads_during_apply: list[str]


@pytest.fixture(scope="module")
def fleet() -> Iterator[dict[str, VirtualCamera]]:
    cams: dict[str, VirtualCamera] = {}
    try:
        for i in range(1, 20):
            cams[f"cam{i:02d}"] = VirtualCamera(_config(i)).start()
        for name in ("cam04", "cam05", NVR):  # an account the inventory wants gone
            with cams[name].state.lock:
                cams[name].state.users.append(UserAccount(username="installer", password=SecretStr("x"), level="User"))
        yield cams
    finally:
        with ThreadPoolExecutor(8) as pool:  # each stop waits for its server's poll interval
            list(pool.map(VirtualCamera.stop, cams.values()))


@pytest.fixture(scope="module")
def run(fleet: dict[str, VirtualCamera], secrets_env: None, tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("fleet")
    inventory = write(root / "inventory.yaml", _inventory_text(fleet, f"127.0.3.250:{free_port('127.0.3.250')}"))
    audit = root / "audit.jsonl"
    inv = load_fleet(inventory)
    handler = _Capture()
    logging.getLogger().addHandler(handler)
    old_level = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        plan1 = plan(inv, concurrency=8)
        writes = [r.operation for cam in fleet.values() for r in cam.request_log if not r.operation.startswith("Get")]
        for cam in fleet.values():
            cam.clear_request_log()
        apply1 = apply(inv, plan=plan1, concurrency=8, audit=audit)  # writes what the plan found
        reads = [
            f"{name} {r.operation}"
            for name, cam in fleet.items()
            for r in cam.request_log
            if r.operation.startswith("Get") and r.operation != "GetStatus"  # GetStatus: waiting for a PTZ move
        ]
        plan2 = plan(inv, concurrency=8)
        apply2 = apply(inv, concurrency=8, audit=audit)
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(old_level)
    return Run(fleet, inventory, audit, plan1, apply1, plan2, apply2, "\n".join(handler.lines), writes, reads)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def _by_name(items: list) -> dict:  # type: ignore[type-arg]
    return {c.name: c for c in items}


def test_first_plan_lists_changes_and_failures(run: Run) -> None:
    cams = _by_name(run.plan1.cameras)
    assert len(cams) == 20
    assert cams[UNREACHABLE].status == "failed" and "could not reach" in (cams[UNREACHABLE].error or "")
    assert cams[WRONG].status == "failed" and "refused" in (cams[WRONG].error or "")
    ok = [c for c in run.plan1.cameras if c.name not in (UNREACHABLE, WRONG)]
    assert all(c.status == "changes" for c in ok), [(c.name, c.problems) for c in ok if c.status != "changes"]
    items = {str(ch) for ch in cams["cam04"].changes}
    assert "hostname: hostname: kvc-prov-004 -> kota-cam04" in items
    assert "scopes: location: Kediri -> kediri/kota" in items
    assert "time: time_zone: UTC0 -> WIB-7" in items
    assert "encoders: main resolution: 1920x1080 -> 1280x720" in items
    assert "users: + user operator (Operator)" in items and "users: - user installer" in items
    assert "ptz: + preset Entrance (pan=0.25 tilt=0.1 zoom=0)" in items
    # the skewed camera runs on a manual clock; the NVR has four channels of main and sub streams
    assert "time: source: Manual -> NTP" in {str(ch) for ch in cams[SKEWED].changes}
    nvr_items = {ch.item for ch in cams[NVR].changes if ch.section == "encoders"}
    assert {f"ch{n} {role} fps" for n in range(1, 5) for role in ("main", "sub")} <= nvr_items
    assert "time: time_zone: UTC0 -> WITA-8" in {str(ch) for ch in cams[NVR].changes}
    assert not any(ch.section == "ptz" for ch in cams[NOPTZ].changes)
    assert run.writes_during_plan == []  # plan only reads


def test_apply_converges_every_reachable_camera(run: Run) -> None:
    results = _by_name(run.apply1.cameras)
    assert not run.apply1.ok
    assert {n for n, r in results.items() if r.status == "failed"} == {UNREACHABLE, WRONG}
    assert run.apply1.count("changed") == 18
    assert "could not reach" in (results[UNREACHABLE].error or "")
    for name, cam in run.cams.items():
        if name == WRONG:
            continue
        st = cam.state
        site = "kota" if int(name[3:]) <= 10 else "kabupaten"
        assert st.hostname == f"{site}-{name}"
        assert f"onvif://www.onvif.org/location/kediri/{site}" in st.scopes
        assert [h.address for h in st.ntp_servers] == ["10.20.0.1", "ntp.kediri.go.id"]
        assert st.date_time_type == "NTP"
        assert st.time_zone == ("WIB-7" if site == "kota" else "WITA-8")
        operator = st.user("operator")
        assert operator is not None and operator.level == "Operator"
        assert operator.password.get_secret_value() == OPERATOR_PW
        assert st.user("installer") is None
        for token, spec in st.encoders.items():
            if token.endswith("_main"):
                want = (640, 480, 10) if name == NARROW else (1280, 720, 15)
                assert (spec.width, spec.height, spec.fps) == want, (name, token)
            else:
                assert (spec.width, spec.height, spec.fps, spec.bitrate_kbps) == (640, 360, 5, 256)
    assert len(run.cams[NVR].state.encoders) == 8
    untouched = run.cams[WRONG].state
    assert untouched.hostname == "kvc-prov-019" and untouched.user("operator") is None
    assert run.reads_during_apply == []  # applied from the plan: no camera was read again


def test_presets_and_imaging_were_applied(run: Run) -> None:
    with Camera(run.cams["cam05"].device_url, username="admin", password=ADMIN_PW) as cam:
        presets = {p.name: p for p in cam.ptz.presets()}
        assert presets["Entrance"].position is not None
        assert presets["Entrance"].position.pan == pytest.approx(0.25, abs=0.01)
        settings = cam.imaging.settings()
        assert settings.brightness == pytest.approx(55) and settings.ir_cut_filter == "AUTO"
    with Camera(run.cams[NVR].device_url, username="admin", password=ADMIN_PW) as nvr:
        for channel in range(1, 5):
            assert nvr.imaging.settings(f"VideoSource_{channel}").brightness == pytest.approx(55)


def test_second_plan_and_apply_have_nothing_to_do(run: Run) -> None:
    plans = _by_name(run.plan2.cameras)
    for name, p in plans.items():
        if name in (UNREACHABLE, WRONG):
            assert p.status == "failed"
            continue
        assert p.status == "in_sync" and p.changes == [], (name, [str(c) for c in p.changes])
    results = _by_name(run.apply2.cameras)
    assert {n for n, r in results.items() if r.status == "unchanged"} == set(results) - {UNREACHABLE, WRONG}
    assert all(r.changes == [] for r in results.values())


def test_digest_only_and_skewed_cameras_were_reached(run: Run) -> None:
    log = run.cams[DIGEST].request_log
    writes = [r for r in log if r.operation.startswith("Set") and r.status == 200]
    assert writes and all(r.auth == "digest" for r in writes)
    skewed = run.cams[SKEWED].state
    assert skewed.hostname == "kota-cam02" and skewed.clock_skew_s < -5 * 365 * 86400


def test_audit_log_records_each_camera_without_secrets(run: Run) -> None:
    text = run.audit.read_text()
    records = [json.loads(line) for line in text.splitlines()]
    cameras = [r for r in records if r["event"] == "camera"]
    runs = [r for r in records if r["event"] == "run"]
    assert len(cameras) == 40 and len(runs) == 2
    assert [r["run_id"] for r in runs] == [run.apply1.run_id, run.apply2.run_id]
    first = {r["name"]: r for r in cameras if r["run_id"] == run.apply1.run_id}
    assert first["cam07"]["status"] == "changed" and first["cam07"]["site"] == "kota"
    assert {"section": "hostname", "item": "hostname"}.items() <= first["cam07"]["changes"][0].items()
    assert first[UNREACHABLE]["status"] == "failed" and first[UNREACHABLE]["error"]
    assert runs[0]["changed"] == 18 and runs[1]["unchanged"] == 18 and runs[1]["failed"] == 2
    assert all(r["time"].endswith("+00:00") for r in records)
    assert_no_secret(text)


def test_no_secret_in_any_output(run: Run) -> None:
    outputs = [r.model_dump_json() for r in (run.plan1, run.apply1, run.plan2, run.apply2)]
    outputs += [repr(r) for r in (run.plan1, run.apply1)]
    assert_no_secret(*outputs, run.logs, run.inventory.read_text())


def test_only_filters_by_site_and_camera(run: Run) -> None:
    inv = load_fleet(run.inventory)
    p = plan(inv, only=["kota", NVR])
    assert [c.name for c in p.cameras] == [f"cam{i:02d}" for i in range(1, 11)] + [NVR]
    assert all(c.status == "in_sync" for c in p.cameras)


def test_values_outside_the_options_are_reported_by_plan_and_not_applied(run: Run, tmp_path: Path) -> None:
    text = run.inventory.read_text().replace(
        "encoders: {main: {resolution: 640x480, fps: 10}}", "encoders: {main: {resolution: 1920x1080, fps: 25}}"
    )
    inv = load_fleet(write(tmp_path / "narrow.yaml", text))
    p = plan(inv, only=[NARROW]).cameras[0]
    assert p.status == "invalid"
    assert any("resolution 1920x1080 is not offered" in x and "1280x720" in x for x in p.problems), p.problems
    r = apply(inv, only=[NARROW]).cameras[0]
    assert r.status == "failed" and "cannot take" in (r.error or "") and r.changes == []
    assert run.cams[NARROW].state.encoders["VideoEncoder_1_main"].fps == 10


def test_preset_outside_the_ptz_range_is_reported_by_plan(run: Run, tmp_path: Path) -> None:
    text = run.inventory.read_text().replace(
        "{name: Entrance, pan: 0.25, tilt: 0.1, zoom: 0.0}", "{name: Entrance, pan: 0.75, tilt: 0.1, zoom: 0.0}"
    )
    inv = load_fleet(write(tmp_path / "far.yaml", text))
    p = {c.name: c for c in plan(inv, only=[SHORT_PAN, "cam06"]).cameras}
    assert p[SHORT_PAN].status == "invalid"
    assert p[SHORT_PAN].problems == ["ptz: preset Entrance: pan=0.75 is outside the camera's [-0.5, 0.5]"]
    assert p["cam06"].status == "changes"
    assert [str(c) for c in p["cam06"].changes] == [
        "ptz: preset Entrance: pan=0.25 tilt=0.1 zoom=0 -> pan=0.75 tilt=0.1 zoom=0"
    ]


def test_rotate_passwords_only_on_request(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    inv = load_fleet(run.inventory)
    monkeypatch.setenv("KVMS_TEST_OPERATOR_PW", ROTATED_PW)
    assert apply(inv, only=["cam08"]).cameras[0].status == "unchanged"
    rotated = apply(inv, only=["cam08"], rotate_passwords=True).cameras[0]
    assert rotated.status == "changed"
    assert [str(c) for c in rotated.changes] == ["users: user operator: rotate password"]
    assert run.cams["cam08"].state.user("operator").password.get_secret_value() == ROTATED_PW  # type: ignore[union-attr]
    assert_no_secret(rotated.model_dump_json())


def test_an_unwritable_audit_log_is_reported_not_fatal(run: Run) -> None:
    report = apply(load_fleet(run.inventory), only=["cam09"], audit="/dev/full")  # writes fail with ENOSPC
    assert report.cameras[0].status == "unchanged"
    assert not report.ok and report.audit_error is not None and "cannot append to audit log" in report.audit_error


def test_a_plan_is_applied_once_and_only_to_its_inventory(run: Run, tmp_path: Path) -> None:
    inv = load_fleet(run.inventory)
    p = plan(inv, only=["cam06", NARROW])
    assert [c.status for c in p.cameras] == ["in_sync", "in_sync"]
    other = load_fleet(write(tmp_path / "other.yaml", run.inventory.read_text()))
    made_elsewhere = Plan.model_validate_json(p.model_dump_json())  # holds no cameras
    for kwargs, error, text in (
        ({"inventory": other, "plan": p}, ConfigError, "the plan is of"),
        ({"inventory": inv, "plan": made_elsewhere}, InvalidArgument, "holds no cameras"),
        ({"inventory": inv, "plan": p, "rotate_passwords": True}, InvalidArgument, "rotate_passwords=False"),
    ):
        with pytest.raises(error, match=text):
            apply(**kwargs)
    before = len(run.cams["cam06"].request_log)
    report = apply(inv, plan=p, only=["cam06", NARROW])
    assert [c.status for c in report.cameras] == ["unchanged", "unchanged"]
    assert len(run.cams["cam06"].request_log) == before  # in sync in the plan: not contacted
    # cameras the plan does not cover are read as without a plan
    assert apply(inv, plan=plan(inv, only=["cam07"]), only=["cam07", "cam08"]).count("unchanged") == 2
    # a plan holding an open camera copies (the copies share it) and pickles (without it)
    rotating = plan(inv, only=["cam06"], rotate_passwords=True)
    assert rotating.cameras[0].status == "changes"
    unpickled = pickle.loads(pickle.dumps(rotating))
    clone = copy.deepcopy(rotating)
    before = len(run.cams["cam06"].request_log)
    assert apply(inv, plan=clone, only=["cam06"], rotate_passwords=True).cameras[0].status == "changed"
    assert [r.operation for r in run.cams["cam06"].request_log[before:]] == ["SetUser"]
    # already applied through the copy: read again
    again = apply(inv, plan=rotating, only=["cam06"], rotate_passwords=True)
    assert again.cameras[0].status == "changed" and len(run.cams["cam06"].request_log) > before + 2
    assert apply(inv, plan=unpickled, only=["cam06"], rotate_passwords=True).cameras[0].status == "changed"


def test_worker_processes_plan_and_apply_the_same(run: Run, tmp_path: Path) -> None:
    inv = load_fleet(run.inventory)
    p = plan(inv, processes=2)
    assert {c.name: c.status for c in p.cameras} == {c.name: c.status for c in run.plan2.cameras}
    seen: list[str] = []
    audit = tmp_path / "audit.jsonl"
    report = apply(inv, only=["kota"], processes=3, audit=audit, progress=lambda r: seen.append(r.name))
    assert [c.name for c in report.cameras] == [f"cam{i:02d}" for i in range(1, 11)]  # inventory order
    assert report.count("unchanged") == 10 and sorted(seen) == [c.name for c in report.cameras]
    assert len(audit.read_text().splitlines()) == 11  # the parent writes every camera's line and the run's

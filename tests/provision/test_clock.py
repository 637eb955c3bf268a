"""Time semantics on virtual cameras: a time-zone change keeps a manual clock where it is; Manual sets it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _prov_helpers import ADMIN_PW, write
from pydantic import SecretStr

from kedirivms.fleet import load_fleet
from kedirivms.provision import apply, plan
from kedirivms.sim import VirtualCamera, VirtualCameraConfig

SKEW_S = -3 * 365 * 86400.0


@pytest.fixture
def cams() -> Iterator[tuple[VirtualCamera, VirtualCamera]]:
    skewed = VirtualCamera(VirtualCameraConfig(host="127.0.3.201", password=SecretStr(ADMIN_PW), clock_skew_s=SKEW_S))
    ntp = VirtualCamera(VirtualCameraConfig(host="127.0.3.202", password=SecretStr(ADMIN_PW)))
    with skewed, ntp:
        yield skewed, ntp


def test_time_zone_only_keeps_a_manual_clock_and_manual_sets_it(
    cams: tuple[VirtualCamera, VirtualCamera], secrets_env: None, tmp_path: Path
) -> None:
    skewed, ntp = cams
    assert skewed.state.date_time_type == "Manual" and ntp.state.date_time_type == "NTP"
    path = write(
        tmp_path / "clock.yaml",
        "defaults:\n"
        "  credentials: {username: admin, password_env: KVMS_TEST_ADMIN_PW}\n"
        "sites:\n"
        "  s:\n"
        "    cameras:\n"
        f"      - {{name: skewed, address: '{skewed.host}:{skewed.port}', time: {{time_zone: WIT-9}}}}\n"
        f"      - {{name: ntp, address: '{ntp.host}:{ntp.port}', time: {{source: Manual, time_zone: WIB-7}}}}\n",
    )
    inv = load_fleet(path)
    first = {c.name: [str(ch) for ch in c.changes if ch.section == "time"] for c in plan(inv).cameras}
    assert first == {
        "skewed": ["time: time_zone: UTC0 -> WIT-9"],
        "ntp": ["time: source: NTP -> Manual", "time: time_zone: UTC0 -> WIB-7"],
    }
    report = apply(inv)
    assert [c.status for c in report.cameras] == ["changed", "changed"]
    assert skewed.state.time_zone == "WIT-9" and skewed.state.date_time_type == "Manual"
    assert skewed.state.clock_skew_s == pytest.approx(SKEW_S, abs=5.0)  # the clock was not moved
    assert ntp.state.date_time_type == "Manual" and ntp.state.time_zone == "WIB-7"
    assert abs(ntp.state.clock_skew_s) < 5.0  # Manual: set to the provisioning host's UTC
    assert all(c.status == "in_sync" for c in plan(inv).cameras)

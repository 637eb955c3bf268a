"""Inventory files offline: precise errors with line numbers, merging of defaults, secrets, JSON Schema."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from kedirivms.errors import ConfigError
from kedirivms.fleet import _yaml, fleet_schema, load_fleet, parse_fleet, resolve_secret
from kedirivms.fleet.settings import Credentials

EXAMPLE = Path(__file__).parents[2] / "examples" / "fleet.yaml"

VALID = """\
version: 1
defaults:
  credentials: {username: admin, password_env: CAM_PW}
  time: {ntp_servers: [10.0.0.1], time_zone: WIB-7}
  encoders:
    main: {resolution: 1920x1080, fps: 25, gop: 50}
  users:
    - {name: operator, role: Operator, password_env: OP_PW}
    - {name: viewer, role: User, password_file: viewer.pw}
sites:
  kota:
    location: kediri/kota
    defaults:
      hostname: "{site}-{name}"
      encoders:
        main: {fps: 15}
      users:
        - {name: viewer, state: absent}
    cameras:
      - name: loket-1
        address: 10.1.0.21
        counter: Loket 1
        time: {time_zone: WITA-8}
      - name: loket-2
        address: http://10.1.0.22:8080/onvif/device_service
        scopes: {name: "{site} {counter}", location: kediri/kota/lantai-2}
        encoders: {main: {resolution: 1280x720}}
"""


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_fleet(textwrap.dedent(text), "inv.yaml")
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "where", "expected"),
    [
        ("version: 1\nsites:\n  a:\n    cameras:\n      - name: c\n        adress: x\n", "inv.yaml:6:9", "unknown key"),
        ("version: 1\nsites:\n  a:\n    cameras:\n      - name: c\n", "inv.yaml:5:9", "address: Field required"),
        ("version: 3\n", "inv.yaml:1:10", "version: Input should be 1 or 2"),
        (
            "sites:\n  a:\n    cameras:\n      - {name: c, address: x, encoders: {main: {fps: 0}}}\n",
            "inv.yaml:4:54",
            "encoders.main.fps: Input should be greater than or equal to 1",
        ),
        (
            "sites:\n  a:\n    cameras:\n      - name: c\n        address: x\n        encoders:\n"
            "          sub: {resolution: 640by360}\n",
            "inv.yaml:7:29",
            "resolution '640by360' must look like '1920x1080'",
        ),
        (
            "defaults:\n  users:\n    - {name: op, role: Operator}\n",
            "inv.yaml:3:7",
            "a present user needs exactly one of password_env or password_file",
        ),
        (
            "defaults:\n  users:\n    - {name: op, role: Root, password_env: X}\n",
            "inv.yaml:3:24",
            "users.0.role: Input should be 'Administrator', 'Operator' or 'User'",
        ),
        ("defaults:\n  hostname: '{room}-cam'\n", "inv.yaml:2:13", "unknown placeholder {room}"),
        ("defaults:\n  time: {time_zone: WIB-7, time_zone: UTC0}\n", "inv.yaml:2:28", "duplicate key 'time_zone'"),
        ("defaults:\n  time: [unclosed\nsites: {}\n", "inv.yaml:3:6", "YAML syntax error"),
        (
            "sites:\n  a:\n    cameras:\n      - {name: c, address: x}\n"
            "  b:\n    cameras:\n      - {name: c, address: y}\n",
            "inv.yaml:7:16",
            "camera name 'c' is already used at inv.yaml:4:9",
        ),
        ("- just\n- a list\n", "inv.yaml", "a fleet file is a mapping"),
    ],
)
def test_invalid_inventory_errors_name_the_line(text: str, where: str, expected: str) -> None:
    message = _error(text)
    assert f"{where}: " in message and expected in message, message


def test_all_errors_are_reported_at_once() -> None:
    message = _error(
        """\
        sites:
          a:
            cameras:
              - {name: c1, adress: x}
              - {name: c2, address: y, timeout: -1}
        """
    )
    assert "3 error(s)" in message
    assert "inv.yaml:4:9: sites.a.cameras.0.address: Field required" in message
    assert "inv.yaml:4:20: sites.a.cameras.0.adress: unknown key" in message
    assert "inv.yaml:5:41: sites.a.cameras.1.timeout: Input should be greater than 0" in message


def test_a_clear_password_is_refused_without_echoing_it() -> None:
    message = _error("defaults:\n  credentials: {username: admin, password: Hunter2-clear}\n")
    assert "inv.yaml:2:16: defaults.credentials: passwords are never written in the inventory" in message
    assert "Hunter2-clear" not in message


def test_defaults_site_defaults_and_overrides_merge() -> None:
    inv = parse_fleet(VALID, "inv.yaml")
    one, two = inv.cameras()
    assert one.source == "inv.yaml:20:9" and one.site == "kota"
    assert one.hostname == "kota-loket-1" and one.scopes.name == "Loket 1" and one.scopes.location == "kediri/kota"
    assert one.time is not None and one.time.time_zone == "WITA-8" and one.time.ntp_servers == ["10.0.0.1"]
    assert one.encoders is not None and one.encoders.main is not None
    assert (one.encoders.main.resolution, one.encoders.main.fps, one.encoders.main.gop) == ("1920x1080", 15, 50)
    users = {u.name: u for u in one.users or []}
    assert users["operator"].role == "Operator" and users["viewer"].state == "absent"
    assert two.scopes.name == "kota loket-2" and two.scopes.location == "kediri/kota/lantai-2"
    assert two.encoders is not None and two.encoders.main is not None
    assert (two.encoders.main.resolution, two.encoders.main.fps) == ("1280x720", 15)
    assert [t.name for t in inv.cameras(only=["loket-2"])] == ["loket-2"]
    with pytest.raises(ConfigError, match="--only nowhere: no such camera or site"):
        inv.cameras(only=["nowhere"])


def test_secrets_resolve_from_env_and_relative_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "admin.pw").write_text("From-file-pw\nignored\n")
    monkeypatch.setenv("CAM_PW", "From-env-pw")
    assert resolve_secret(Credentials(username="a", password_env="CAM_PW"), tmp_path) == "From-env-pw"
    assert resolve_secret(Credentials(username="a", password_file="admin.pw"), tmp_path) == "From-file-pw"
    monkeypatch.delenv("CAM_PW")
    with pytest.raises(ConfigError, match="environment variable CAM_PW is not set") as info:
        resolve_secret(Credentials(username="a", password_env="CAM_PW"), tmp_path, camera="loket-1")
    assert info.value.camera == "loket-1"
    with pytest.raises(ConfigError, match="cannot read password file"):
        resolve_secret(Credentials(username="a", password_file="missing.pw"), tmp_path)


def test_load_inventory_reports_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read fleet file"):
        load_fleet(tmp_path / "absent.yaml")


def test_json_schema_describes_every_section() -> None:
    schema = fleet_schema()
    json.dumps(schema)
    assert schema["$schema"].startswith("https://json-schema.org/")
    settings = schema["$defs"]["FleetSettings"]["properties"]
    assert {"credentials", "hostname", "time", "users", "encoders", "ptz", "imaging", "plugins", "record"} <= set(
        settings
    )
    assert schema["$defs"]["Credentials"]["additionalProperties"] is False
    assert "password" not in schema["$defs"]["Credentials"]["properties"]
    assert all("description" in p for p in settings.values())


def test_the_example_inventory_is_valid() -> None:
    inv = load_fleet(EXAMPLE)
    assert len(inv.cameras()) >= 3


def test_a_yaml_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_yaml, "MAX_NODES", 5000)  # the real limit (200 000) only takes longer to reach
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [{', '.join(['*a' + str(i - 1)] * 10)}]" for i in range(1, 9)]
    message = _error("\n".join(lines) + "\n")
    assert "more than 5000 values after expanding aliases" in message

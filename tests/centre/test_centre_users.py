"""The page's users in the fleet file: ``centre: {users: users.yaml}`` by reference or inline scrypt hashes, with
line-numbered errors that never echo a value (it might be a clear password)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from kedirivms.centre_web import LocalCentre, hash_password, users_for_page
from kedirivms.errors import ConfigError
from kedirivms.fleet import load_fleet

PASSWORD = "tall-tree-42"
HASH = hash_password(PASSWORD)


def write(tmp_path: Path, centre: object) -> Path:
    doc = {"version": 2, "sites": {"kota": {"cameras": [{"name": "loket-1", "address": "127.0.0.1:9"}]}},
           "centre": centre}  # fmt: skip
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def login(url: str, password: str) -> int:
    req = urllib.request.Request(url + "api/login", json.dumps({"user": "siti", "password": password}).encode(),
                                 {"Content-Type": "application/json"})  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return e.code


@pytest.mark.parametrize("by", ["reference", "inline"])
def test_fleet_file_users_make_the_page_ask_for_a_login(tmp_path: Path, by: str) -> None:
    if by == "reference":
        (tmp_path / "ops").mkdir()
        (tmp_path / "ops" / "users.yaml").write_text(yaml.safe_dump({"users": {"siti": HASH}}))
        fleet = load_fleet(write(tmp_path, {"users": "ops/users.yaml"}))  # relative to the fleet file
        assert fleet.centre_users == tmp_path / "ops" / "users.yaml"
    else:
        fleet = load_fleet(write(tmp_path, {"users": {"siti": HASH}}))
    local = LocalCentre(fleet, tmp_path / "centre.sqlite", "127.0.0.1:0")
    try:
        local.web.start()
        with urllib.request.urlopen(local.url + "api/session", timeout=10) as r:
            session = json.load(r)
        assert session["login_required"] is True and session["user"] is None
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(local.url + "api/counters", timeout=10)
        assert denied.value.code == 401
        assert login(local.url, "wrong") == 401 and login(local.url, PASSWORD) == 200
    finally:
        local.close()


def test_a_users_file_on_the_command_line_wins(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({"users": {"budi": HASH}}))
    fleet = load_fleet(write(tmp_path, {"users": {"siti": HASH}}))
    assert users_for_page(other, fleet) == {"budi": HASH}
    assert users_for_page(None, fleet) == {"siti": HASH}
    assert users_for_page(None, load_fleet(write(tmp_path, None))) is None


@pytest.mark.parametrize(
    ("centre", "words"),
    [
        ({"users": {"siti": PASSWORD}}, "centre.users: user 'siti' needs a hash"),  # refused, never echoed
        ({"users": {"siti": "scrypt$1$2$3$ab$cd"}}, "needs a hash from `kedirivms centre-hash siti`"),
        ({"users": {}}, "no users"),
        ({"users": {"si ti": HASH}}, "user name 'si ti'"),
        ({"users": ""}, "name a users file"),
        ({"logins": "users.yaml"}, "centre.logins: unknown key"),
    ],
)
def test_bad_users_in_the_fleet_file(tmp_path: Path, centre: object, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_fleet(write(tmp_path, centre))
    assert words in str(err.value) and PASSWORD not in str(err.value)
    assert re.search(r"fleet\.yaml:\d+:\d+: centre", str(err.value))  # where, by line and column


def test_a_missing_or_bad_users_file_names_the_fleet_file(tmp_path: Path) -> None:
    fleet = load_fleet(write(tmp_path, {"users": "missing.yaml"}))
    with pytest.raises(ConfigError, match=r"fleet\.yaml: centre\.users: cannot read the users file"):
        LocalCentre(fleet, tmp_path / "centre.sqlite", "127.0.0.1:0")
    (tmp_path / "missing.yaml").write_text(yaml.safe_dump({"users": {"siti": PASSWORD}}))
    with pytest.raises(ConfigError) as err:
        users_for_page(None, fleet)
    assert "fleet.yaml: centre.users:" in str(err.value) and "centre-hash" in str(err.value)
    assert PASSWORD not in str(err.value)

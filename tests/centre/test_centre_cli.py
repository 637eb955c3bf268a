"""``kedirivms centre --http`` and ``kedirivms centre-hash`` in-process against a real nats-server."""

from __future__ import annotations

import json
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from clitools import free_port, run
from kedirivms.centre_web import verify_password

from .conftest import SITE_OF, wait_until, write_centre_fleet


def test_centre_serves_the_page(nats_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fleet = write_centre_fleet(tmp_path / "fleet.yaml")
    port = free_port()
    seen: dict[str, Any] = {}

    def visit() -> None:
        def answered() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/counters", timeout=2) as r:
                    seen["counters"] = json.load(r)["counters"]
                return True
            except OSError:
                return False

        wait_until(answered, 20.0)

    visitor = threading.Thread(target=visit)
    visitor.start()
    code, out, err = run(
        capsys, "centre", "--nats", nats_url, "--db", str(tmp_path / "c.sqlite"), "--fleet", str(fleet),
        "--http", f"127.0.0.1:{port}", "--seconds", "6", "--json",
    )  # fmt: skip
    visitor.join()
    assert code == 0, err
    assert f"centre page: http://127.0.0.1:{port}/" in err  # stdout stays JSON
    json.loads(out[out.index("{") :])
    assert {t["camera"] for t in seen["counters"]} == set(SITE_OF)


def test_non_loopback_page_without_users_is_one_line_error(
    nats_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "centre", "--nats", nats_url, "--db", str(tmp_path / "c.sqlite"), "--http", "0.0.0.0:0",
        "--seconds", "1",
    )  # fmt: skip
    assert code != 0 and err.count("\n") == 1 and "needs logins" in err, err


def test_centre_hash_prints_a_users_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run(capsys, "centre-hash", "siti", "--password", "tall-tree-42")
    assert code == 0, err
    name, value = out.strip().split(": ", 1)
    assert name == "siti" and verify_password("tall-tree-42", json.loads(value))
    assert "tall-tree-42" not in out

"""Helpers of the provisioning tests: test passwords, secret checks (a closed port: ``clitools.free_port``)."""

from __future__ import annotations

from pathlib import Path

ADMIN_PW = "Adm1n-Prov-s3cret"
OPERATOR_PW = "0perator-Prov-s3cret"
WRONG_PW = "Wr0ng-Prov-s3cret"
ROTATED_PW = "R0tated-Prov-s3cret"
SECRETS = (ADMIN_PW, OPERATOR_PW, WRONG_PW, ROTATED_PW)
ENV = {
    "KVMS_TEST_ADMIN_PW": ADMIN_PW,
    "KVMS_TEST_OPERATOR_PW": OPERATOR_PW,
    "KVMS_TEST_WRONG_PW": WRONG_PW,
}


def assert_no_secret(*texts: str) -> None:
    """No test password appears in any of ``texts``."""
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path

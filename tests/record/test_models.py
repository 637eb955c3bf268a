"""Parsing of retention sizes and ages, layout names, and MP4 fragment scanning."""

from __future__ import annotations

from pathlib import Path

import pytest

from kedirivms.errors import InvalidArgument
from kedirivms.record import RetentionPolicy, parse_duration, parse_size
from kedirivms.record._layout import camera_dir_name, complete_length, segment_relpath, start_from_relpath


@pytest.mark.parametrize(
    ("text", "seconds", "error"),
    [("30d", 30 * 86400, None), ("12h", 43200, None), ("90m", 5400, None), ("45", 45, None), ("1.5s", 1.5, None),
     ("2w", 1209600, None), ("soon", None, ValueError), ("-3d", None, ValueError)],
)  # fmt: skip
def test_parse_duration(text: str, seconds: float | None, error: type[Exception] | None) -> None:
    if error:
        with pytest.raises(error):
            parse_duration(text)
    else:
        assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "size", "error"),
    [("500G", 500 << 30, None), ("20M", 20 << 20, None), ("1.5T", int(1.5 * (1 << 40)), None), ("100", 100, None),
     ("10GiB", 10 << 30, None), ("lots", None, ValueError)],
)  # fmt: skip
def test_parse_size(text: str, size: int | None, error: type[Exception] | None) -> None:
    if error:
        with pytest.raises(error):
            parse_size(text)
    else:
        assert parse_size(text) == size


def test_policy_accepts_text_and_forbids_unknown_fields() -> None:
    policy = RetentionPolicy(max_age="7d", max_bytes="1G", max_age_per_camera={"a": "1h"})
    assert (policy.max_age, policy.max_bytes, policy.max_age_per_camera) == (604800, 1 << 30, {"a": 3600})
    with pytest.raises(ValueError):
        RetentionPolicy(max_days=3)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("name", "folder", "error"),
    [("gate-1", "gate-1", None), ("Gate 1/North", "Gate_1_North", None), ("..", None, InvalidArgument),
     ("", None, InvalidArgument)],
)  # fmt: skip
def test_camera_dir_name(name: str, folder: str | None, error: type[Exception] | None) -> None:
    if error:
        with pytest.raises(error):
            camera_dir_name(name)
    else:
        assert camera_dir_name(name) == folder


def test_segment_paths_round_trip_and_collide() -> None:
    t = 1_700_000_000.25  # 2023-11-14 22:13:20 UTC
    rel = segment_relpath("cam", t)
    assert rel == "cam/2023-11-14/22/13.20.mp4" and start_from_relpath(rel) == 1_700_000_000
    assert segment_relpath("cam", t, {rel}) == "cam/2023-11-14/22/13.20-1.mp4"
    assert start_from_relpath("cam/notes.txt") is None


def test_complete_length_stops_at_the_last_whole_fragment(tmp_path: Path) -> None:
    def box(kind: bytes, size: int) -> bytes:
        return size.to_bytes(4, "big") + kind + b"\0" * (size - 8)

    whole = box(b"ftyp", 24) + box(b"moov", 100) + box(b"moof", 40) + box(b"mdat", 500)
    path = tmp_path / "x.mp4"
    path.write_bytes(whole + box(b"moof", 40) + box(b"mdat", 500)[:123])  # cut inside the second fragment
    assert complete_length(path) == (len(whole), 1)
    path.write_bytes(box(b"ftyp", 24) + box(b"moov", 100)[:50])
    assert complete_length(path) == (0, 0)


@pytest.mark.parametrize(
    ("url", "range_header", "window"),
    [
        ("rtsp://h/replay/a", "clock=20260131T080000Z-20260131T080500Z", (1769846400.0, 1769846700.0)),
        ("rtsp://h/replay/a", "clock=20260131T080000.5Z-", (1769846400.5, None)),
        ("rtsp://h/replay/a?starttime=20260131T080000Z&endtime=20260131T080001Z", "npt=0.000-",
         (1769846400.0, 1769846401.0)),
        ("rtsp://h/replay/a", "npt=0.000-", (None, None)),
        ("rtsp://h/replay/a", "clock=garbage-", (None, None)),
    ],
)  # fmt: skip
def test_replay_window(url: str, range_header: str, window: tuple[float | None, float | None]) -> None:
    from kedirivms.sim._profile_g_replay import replay_window

    assert replay_window(url, range_header) == window

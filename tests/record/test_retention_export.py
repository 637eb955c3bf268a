"""Retention deletes exactly what it should; export and playback cover a range within one GOP; the CLI."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kedirivms.cli import main
from kedirivms.errors import InvalidArgument, RecordingError
from kedirivms.record import (
    RetentionPolicy,
    Segment,
    SegmentIndex,
    SegmentStatus,
    apply_retention,
    export,
    open_recording,
)
from kedirivms.record._layout import iter_segment_files
from kedirivms.sim import VirtualCamera

from .conftest import GOP, ffprobe

FRAME = 0.1


@pytest.fixture
def root(recorded: dict[str, Any], tmp_path: Path) -> Path:
    """A private copy of the recorded root (retention tests delete from it)."""
    copy = tmp_path / "rec"
    shutil.copytree(recorded["root"], copy)
    return copy


def rows(root: Path) -> list[Segment]:
    with SegmentIndex(root) as ix:
        return ix.segments()


def assert_consistent(root: Path) -> None:
    assert {s.path for s in rows(root)} == set(iter_segment_files(root))


def test_retention_by_age_per_camera(root: Path) -> None:
    before = rows(root)
    sim = [s for s in before if s.camera == "sim"]
    now = sim[1].end.timestamp() + 1000.0
    cutoff = now - 1000.0 + 0.001  # sim[0] and sim[1] end before it
    expected = [s.path for s in before if s.camera == "sim" and s.end.timestamp() < cutoff]
    policy = RetentionPolicy(max_age=1000.0 - 0.001, max_age_per_camera={"gst": "1d"})
    report = apply_retention(root, policy, now=now)
    assert [s.path for s in report.deleted] == expected and len(expected) == 2
    assert report.reasons == {"max_age": 2}
    assert not any((root / p).exists() for p in expected)
    assert {s.path for s in rows(root)} == {s.path for s in before} - set(expected)
    assert_consistent(root)


def test_retention_by_bytes_oldest_first_never_the_open_segment(root: Path) -> None:
    before = rows(root)
    oldest = before[0]
    # an older segment still being written (its row says so): retention must leave it alone
    open_rel = f"{oldest.camera}/2000-01-01/00/00.00.mp4"
    (root / open_rel).parent.mkdir(parents=True)
    shutil.copy(root / oldest.path, root / open_rel)
    with SegmentIndex(root) as ix:
        ix.put_segment(oldest.model_copy(update={"path": open_rel, "status": SegmentStatus.RECORDING,
                                                 "start": dt.datetime(2000, 1, 1, tzinfo=dt.UTC)}))  # fmt: skip
        total = ix.total_bytes()
    limit = total - before[0].bytes - before[1].bytes + 1  # the two oldest closed segments must go
    report = apply_retention(root, RetentionPolicy(max_bytes=limit))
    assert [s.path for s in report.deleted] == [before[0].path, before[1].path]
    assert report.kept_bytes <= limit and (root / open_rel).exists()
    report = apply_retention(root, RetentionPolicy(max_bytes=1))
    left = rows(root)
    assert [s.path for s in left] == [open_rel]
    assert_consistent(root)


def test_retention_free_disk_floor(recorded: dict[str, Any], tmpfs: Any) -> None:
    disk = tmpfs("4m")
    root = disk / "rec"
    shutil.copytree(recorded["root"], root)
    before = rows(root)
    with SegmentIndex(root) as ix:  # held open: its WAL files take their room before free space is measured
        ix.total_bytes()
        free = shutil.disk_usage(disk).free
        report = apply_retention(ix, RetentionPolicy(min_free_bytes=free + 1))
    assert [s.path for s in report.deleted] == [before[0].path]
    assert shutil.disk_usage(disk).free > free
    assert_consistent(root)


def test_export_range_within_one_gop(recorded: dict[str, Any], tmp_path: Path) -> None:
    root = recorded["root"]
    sim = [s for s in rows(root) if s.camera == "sim"]
    start = sim[0].start + dt.timedelta(seconds=1.45)
    end = sim[1].start + dt.timedelta(seconds=1.25)
    result = export(root, "sim", start, end, tmp_path / "clip.mp4")
    assert result.segments == [sim[0].path, sim[1].path] and result.gaps == []
    assert dt.timedelta(0) <= start - result.start <= dt.timedelta(seconds=GOP)
    assert abs((end - result.end).total_seconds()) <= FRAME + 0.01  # the last frame starts before end
    assert abs(result.duration - (result.end - result.start).total_seconds()) <= FRAME + 0.01
    probe = ffprobe(result.path)
    assert probe["ok"] and probe["packets"] == result.packets
    assert abs(probe["duration"] - result.duration) <= FRAME + 0.01
    # the same range opened as a frame source decodes the same pictures
    with open_recording(root, "sim", start, end) as stream:
        frames = sum(1 for _ in stream)
    assert abs(frames - result.packets) <= 1


def test_export_lists_gaps(root: Path, tmp_path: Path) -> None:
    sim = [s for s in rows(root) if s.camera == "sim"]
    (root / sim[1].path).unlink()  # a hole in the middle
    with SegmentIndex(root) as ix:
        assert ix.reconcile().missing == [sim[1].path]
    result = export(root, "sim", sim[0].start, sim[2].end, tmp_path / "gap.mp4")
    (gap,) = result.gaps
    assert abs((gap.start - sim[1].start).total_seconds()) < 0.01
    assert abs((gap.end - sim[1].end).total_seconds()) < 0.01
    assert result.packets == sim[0].packets + sim[2].packets == ffprobe(result.path)["packets"]


@pytest.mark.parametrize(
    ("offsets", "error"),
    [((5.0, 1.0), InvalidArgument), ((-7200.0, -3600.0), RecordingError)],
)
def test_export_errors(recorded: dict[str, Any], tmp_path: Path, offsets: tuple[float, float], error: type) -> None:
    t0 = rows(recorded["root"])[0].start.timestamp()
    with pytest.raises(error):
        export(recorded["root"], "sim", t0 + offsets[0], t0 + offsets[1], tmp_path / "x.mp4")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_recordings_export_retention(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "recordings", str(root), "--camera", "sim", "--json")
    listed = json.loads(out)
    sim = [s for s in rows(root) if s.camera == "sim"]
    assert code == 0 and [r["path"] for r in listed] == [s.path for s in sim]
    assert set(listed[0]) >= {"camera", "start", "end", "duration", "bytes", "codec", "width", "height", "status"}
    start, end = sim[0].start.isoformat(), sim[1].end.isoformat()
    code, out, _ = run_cli(capsys, "export", str(root), "sim", start, end, "-o", str(tmp_path / "c.mp4"), "--json")
    assert code == 0 and json.loads(out)["packets"] == sim[0].packets + sim[1].packets
    code, _, err = run_cli(capsys, "export", str(root), "sim", "yesterday", end, "-o", str(tmp_path / "d.mp4"))
    assert code == 2 and "not a time" in err
    code, out, _ = run_cli(capsys, "retention", str(root), "--max-bytes", "1", "--json")
    assert code == 0 and len(json.loads(out)["deleted"]) == len(rows(root)) + len(json.loads(out)["deleted"])
    assert rows(root) == [] and iter_segment_files(root) == []


def test_cli_record_camera_target(tmp_path: Path) -> None:
    """``kedirivms record HOST:PORT``: ONVIF GetStreamUri, then the RTSP stream of the profile (the rtsp:// form
    is exercised by the SIGKILL test)."""
    with VirtualCamera(rtsp=True) as vc:
        proc = subprocess.run(
            [sys.executable, "-c", "import sys; from kedirivms.cli import main; main(sys.argv[1:])", "record",
             f"127.0.0.1:{vc.port}", "-u", "admin", "-p", "admin123", "--profile", "Profile_1_sub",
             "--root", str(tmp_path), "--segment", "2", "--seconds", "3", "--json"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "admin123" not in proc.stdout + proc.stderr
    last = json.loads(proc.stdout.strip().splitlines()[-1])
    assert last["state"] == "closed" and last["segments"] >= 1 and last["packets_dropped"] == 0
    assert last["camera"] == f"127.0.0.1_{vc.port}"
    assert len(rows(tmp_path)) == last["segments"]

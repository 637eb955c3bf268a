"""Frame views: zero-copy, read-only, stride-aware, every common pixel format; explicit copies."""

from __future__ import annotations

import gc
from pathlib import Path

import av
import numpy as np
import pytest

from kedirivms.errors import InvalidArgument
from kedirivms.stream import Frame, open_stream


def first_frame(path: Path) -> Frame:
    with open_stream(path) as stream:
        return stream.read(timeout=10)


def plane_buffer(frame: Frame, index: int) -> np.ndarray:
    return np.frombuffer(frame.av_frame.planes[index], np.uint8)


# (media key, expected format, plane shapes for 320x240, dtype)
CASES = [
    ("h264", "yuv420p", [(240, 320), (120, 160), (120, 160)], np.uint8),
    ("yuvj420p", "yuvj420p", [(240, 320), (120, 160), (120, 160)], np.uint8),
    ("nv12", "nv12", [(240, 320), (120, 160, 2)], np.uint8),
    ("yuv422p", "yuv422p", [(240, 320), (240, 160), (240, 160)], np.uint8),
    ("yuv420p10le", "yuv420p10le", [(240, 320), (120, 160), (120, 160)], np.uint16),
]


@pytest.mark.parametrize(("key", "fmt", "shapes", "dtype"), CASES, ids=[c[0] for c in CASES])
def test_planes_are_read_only_views(media: dict[str, Path], key: str, fmt: str, shapes: list, dtype: type) -> None:
    frame = first_frame(media[key])
    assert frame.format == fmt
    assert (frame.width, frame.height) == (320, 240)
    assert [p.shape for p in frame.planes] == shapes
    assert all(p.dtype == dtype for p in frame.planes)
    for i, view in enumerate(frame.planes):
        assert not view.flags.writeable
        assert np.shares_memory(view, plane_buffer(frame, i))
        with pytest.raises(ValueError):
            view[0, 0] = 1
    assert frame.y is frame.planes[0]
    # same pixels as PyAV's own (copying) conversion of the luma plane
    if fmt in ("yuv420p", "yuvj420p", "yuv420p10le"):  # PyAV packs these as (H * 3 / 2, W), Y first
        assert np.array_equal(frame.y, frame.av_frame.to_ndarray()[:240])
    if dtype is np.uint16:
        assert int(frame.y.max()) > 255  # real 10-bit samples, not bytes


def test_stride_padding_1366(media: dict[str, Path]) -> None:
    frame = first_frame(media["wide"])
    plane = frame.av_frame.planes[0]
    assert frame.width == 1366 and plane.line_size > 1366  # the decoder pads rows
    y = frame.y
    assert y.shape == (frame.height, 1366) and y.strides == (plane.line_size, 1)
    assert np.shares_memory(y, plane_buffer(frame, 0))
    packed = frame.av_frame.to_ndarray()[: frame.height]
    assert np.array_equal(y, packed)
    assert frame.planes[1].shape == (frame.height // 2, 683)


def test_view_keeps_the_frame_alive(media: dict[str, Path]) -> None:
    frame = first_frame(media["h264"])
    y = frame.y
    expected = y.copy()
    del frame
    gc.collect()
    junk = [np.full((240, 320), 7, np.uint8) for _ in range(20)]  # reuse freed memory if it were freed
    assert np.array_equal(y, expected)
    owner = y
    while isinstance(owner, np.ndarray):  # view -> ... -> the PyAV plane that holds the frame
        owner = owner.base
    owner = owner.obj if isinstance(owner, memoryview) else owner
    assert isinstance(owner, av.video.plane.VideoPlane)
    del junk


def test_copies_do_not_share(media: dict[str, Path]) -> None:
    frame = first_frame(media["h264"])
    dup = frame.copy()
    assert np.array_equal(dup.y, frame.y) and not np.shares_memory(dup.y, frame.y)
    assert (dup.pts, dup.format, dup.width) == (frame.pts, frame.format, frame.width)
    rgb = frame.to_rgb()
    bgr = frame.to_bgr()
    assert rgb.shape == (240, 320, 3) and rgb.flags.writeable and not np.shares_memory(rgb, frame.y)
    assert np.array_equal(rgb[..., ::-1], bgr)


@pytest.mark.parametrize("key", ["h264", "yuvj420p", "nv12", "yuv422p"])
@pytest.mark.parametrize("roi", [(0, 0, 320, 240), (10, 20, 64, 48), (33, 17, 51, 29), (319, 239, 1, 1)])
def test_roi_conversion_matches_full(media: dict[str, Path], key: str, roi: tuple[int, int, int, int]) -> None:
    frame = first_frame(media[key])
    x, y, w, h = roi
    full = frame.to_rgb().astype(int)[y : y + h, x : x + w]
    part = frame.to_rgb(roi=roi).astype(int)
    assert part.shape == (h, w, 3)
    assert np.abs(part - full).mean() < 3.0  # chroma interpolation may differ at the crop border only


@pytest.mark.parametrize(
    "roi", [(0, 0, 0, 10), (-1, 0, 10, 10), (300, 0, 30, 10), (0, 230, 10, 11)], ids=["empty", "neg", "w", "h"]
)
def test_roi_outside_is_refused(media: dict[str, Path], roi: tuple[int, int, int, int]) -> None:
    frame = first_frame(media["h264"])
    with pytest.raises(InvalidArgument, match="outside"):
        frame.to_rgb(roi=roi)


@pytest.mark.parametrize(("suffix", "ok"), [(".png", True), (".jpg", True), (".jpeg", True), (".gif", False)])
def test_save(media: dict[str, Path], tmp_path: Path, suffix: str, ok: bool) -> None:
    frame = first_frame(media["h264"])
    out = tmp_path / f"snap{suffix}"
    if not ok:
        with pytest.raises(InvalidArgument):
            frame.save(out)
        return
    frame.save(out)
    from PIL import Image

    with Image.open(out) as img:
        assert img.size == (320, 240)
        back = np.asarray(img.convert("RGB"), dtype=int)
    assert np.abs(back - frame.to_rgb().astype(int)).mean() < 6


@pytest.mark.parametrize("fmt", ["rgb24", "bgra", "gbrp"])
def test_y_is_luma_for_pictures_without_a_luma_plane(fmt: str) -> None:
    """RGB pictures (PNG, GIF and other file sources) give a (H, W) grey ``y``, as analytics plugins expect."""
    rgb = np.zeros((24, 32, 3), np.uint8)
    rgb[:, 16:] = (200, 40, 10)  # a red right half on a black left half
    av_frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=fmt)
    frame = Frame(av_frame, time=0.0, index=0)
    y = frame.y
    assert y.shape == (24, 32) and y.dtype == np.uint8 and not y.flags.writeable
    assert y[:, :16].max() <= 16 and 60 < int(y[:, 16:].mean()) < 110  # grey of the red, not its red channel
    assert frame.planes[0].shape[:2] == (24, 32)  # the planes stay the picture's own


def test_y_of_a_real_gif_is_luma() -> None:
    clip = Path(__file__).resolve().parents[1] / "data" / "footage" / "classroom.gif"
    with av.open(str(clip)) as container:
        av_frame = next(container.decode(video=0))
    frame = Frame(av_frame, time=0.0, index=0)
    assert frame.y.shape == (270, 480)


def test_a_region_of_a_picture_made_from_an_array_converts() -> None:
    """A picture made from an array has no time base: copies and regions of it convert all the same."""
    i420 = np.full((36, 32), 128, np.uint8)
    i420[:24, 16:] = 200  # a bright right half
    frame = Frame(av.VideoFrame.from_ndarray(i420, format="yuv420p"), time=0.0, index=0)
    part = frame.to_bgr((16, 4, 8, 10))
    assert part.shape == (10, 8, 3) and int(part.mean()) > 180
    assert frame.copy().to_bgr((0, 0, 8, 8)).shape == (8, 8, 3)


_CONVERT_FROM_THREADS = """
import sys, threading
import numpy as np
from kedirivms.stream import open_stream

sizes = [(160, 120), (320, 240), (200, 150), (416, 312)]
for pass_ in range(int(sys.argv[2])):
    with open_stream(sys.argv[1]) as stream:
        for frame in stream:  # frames as the decoder gives them
            # one thread's pictures first, of this very frame: swscale's scaled output depends on the planes' line
            # size, and a copy's planes are packed tighter than the decoder's
            want = {s: frame.to_bgr(size=s) for s in sizes}
            bad = []

            def convert(size):
                for _ in range(20):
                    if not np.array_equal(frame.to_bgr(size=size), want[size]):
                        bad.append(size)

            threads = [threading.Thread(target=convert, args=(s,)) for s in sizes]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if bad:
                sys.exit(f"pass {pass_}, frame {frame.index}: wrong pictures at {sorted(set(bad))}")
print("ok")
"""


def test_one_frame_converted_from_several_threads_at_once(media: dict[str, Path]) -> None:
    """Every plugin of a camera gets the same frame on its own thread (the queue plugin scales it for its model, the
    snapshot plugin for the page). PyAV converts with one scaler cached on the frame, and scales without the GIL:
    two threads converting one frame at once shared it, and the demo's process died of a segmentation fault in CI.
    Each conversion now has a scaler of its own. The frames are decoded from ffmpeg's clip, each converted by four
    threads at four sizes and compared with one thread's pictures; in a child process, so that a crash is a
    failure, not the end of the test run."""
    import subprocess
    import sys

    src = str(Path(__file__).parents[2] / "src")
    proc = subprocess.run(
        [sys.executable, "-c", _CONVERT_FROM_THREADS, str(media["h264"]), "3"],
        capture_output=True, text=True, timeout=300, env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", (proc.returncode, proc.stdout, proc.stderr[-2000:])

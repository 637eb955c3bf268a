"""What makes many cameras fit on a small box: the shared session's pool and fairness, the layout probed once per
model, pictures fed without square padding, and frames that hold a detection reusing its zone tests."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from kedirivms.analytics.queue import QueueAnalyzer, QueueConfig
from kedirivms.analytics.queue._session import SharedSession
from kedirivms.analytics.queue.onnx import OnnxPersonDetector, default_model_path
from kedirivms.sim.counter_scene import CounterScene
from kedirivms.stream import Frame

from .conftest import mean_model

PROVIDERS = ("CPUExecutionProvider",)


class _Slow:
    """onnxruntime's session, each run held 30 ms longer, counting how many run at once (to see the pool)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.now = 0
        self.most = 0
        self._lock = threading.Lock()

    def run(self, names: Any, feeds: dict[str, np.ndarray]) -> Any:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(0.03)
            return self.real.run(names, feeds)
        finally:
            with self._lock:
                self.now -= 1


def _hammer(session: SharedSession, pictures: list[np.ndarray], calls: int) -> tuple[dict[int, list[Any]], list]:
    """Each picture from its own thread, ``calls`` times, all starting together; answers per thread."""
    answers: dict[int, list[Any]] = {i: [] for i in range(len(pictures))}
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(pictures))

    def camera(i: int) -> None:
        barrier.wait()
        try:
            for _ in range(calls):
                answers[i].append(session.run(pictures[i], timeout=30))
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=camera, args=(i,)) for i in range(len(pictures))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    return answers, errors


@pytest.mark.parametrize("parallel", [1, 2])
def test_the_pool_runs_at_most_parallel_batches_and_answers_everyone(tmp_path: Path, parallel: int) -> None:
    session = SharedSession(mean_model(tmp_path), PROVIDERS, parallel=parallel)
    slow = _Slow(session._session)
    session._session = slow
    rng = np.random.default_rng(1)
    pictures = [rng.random((1, 3, 8, 8), dtype=np.float32) for _ in range(6)]
    answers, errors = _hammer(session, pictures, calls=4)
    assert not errors
    for i, picture in enumerate(pictures):  # every camera got its own picture's answer, every time
        assert len(answers[i]) == 4
        assert all(np.allclose(a, picture.mean(axis=(2, 3)), atol=1e-6) for a in answers[i])
    assert slow.most == parallel  # a second batch ran beside the first only when allowed
    assert sum(size * n for size, n in session.stats.runs.items()) == 24


def test_no_thread_is_kept_serving_the_others(tmp_path: Path) -> None:
    # one picture per batch and a busy queue: a thread leads only while its own request is unanswered, so no
    # call runs more batches than there are cameras (the old leader loop ran every batch until the queue was empty)
    session = SharedSession(mean_model(tmp_path), PROVIDERS, max_batch=1)
    led: Counter[int] = Counter()
    most = [0]
    original = session._run_batch

    def run_batch(batch: Any) -> None:
        led[threading.get_ident()] += 1
        original(batch)

    session._run_batch = run_batch  # type: ignore[method-assign]
    real_run = session.run

    def run(blob: np.ndarray, timeout: float = 30.0) -> np.ndarray:
        me = threading.get_ident()
        before = led[me]
        out = real_run(blob, timeout)
        most[0] = max(most[0], led[me] - before)
        return out

    session.run = run  # type: ignore[method-assign]
    pictures = [np.full((1, 3, 4, 4), i, np.float32) for i in range(5)]
    answers, errors = _hammer(session, pictures, calls=8)
    assert not errors and all(len(a) == 8 for a in answers.values())
    assert all(np.allclose(a, i) for i, got in answers.items() for a in got)
    assert 1 <= most[0] <= len(pictures)
    assert sum(session.stats.runs.values()) == 40


def test_pictures_of_different_sizes_are_never_batched_together(tmp_path: Path) -> None:
    session = SharedSession(mean_model(tmp_path), PROVIDERS)
    session._session = _Slow(session._session)  # slow batches: requests pile up, batches form
    pictures = [np.full((1, 3, 32 if i % 2 else 16, 16), i, np.float32) for i in range(6)]
    answers, errors = _hammer(session, pictures, calls=3)
    assert not errors  # a mixed batch could not even be stacked
    assert all(np.allclose(a, i) for i, got in answers.items() for a in got)
    assert max(session.stats.runs) >= 2  # batches did form


def test_the_layout_is_probed_once_per_model_not_per_camera(tmp_path: Path, const_model: Callable[..., Path]) -> None:
    out = np.zeros((1, 6, 16), np.float32)  # YOLOv8's layout: one person in the 64x64 input
    out[0, :, 0] = [32, 32, 8, 16, 0.9, 0.0]
    path = const_model(tmp_path, out, 64, "probe.onnx")
    detectors = [OnnxPersonDetector(path) for _ in range(6)]
    session = detectors[0].session
    assert all(d.session is session for d in detectors)
    picture = np.zeros((64, 64), np.uint8)
    found = [d.detect(picture, 0.0) for d in detectors]
    assert all(d.layout == "yolov8" for d in detectors)
    assert all(len(f) == 1 for f in found)
    assert session.stats.runs == {1: 6 + 1}  # six detections and one blank probe picture
    OnnxPersonDetector(path, layout="yolov8").detect(picture, 0.0)  # a layout given: no probe at all
    assert session.stats.runs == {1: 8}


def _vtest_frame(clip: Path, index: int) -> Frame:
    with av.open(str(clip)) as container:
        for i, f in enumerate(container.decode(video=0)):
            if i == index:
                return Frame(f, time=i / 10.0, index=i).copy()
    raise AssertionError(f"{clip} has no frame {index}")


def test_the_shipped_model_sees_a_wide_picture_without_square_padding(vtest_clip: Path) -> None:
    trimmed = OnnxPersonDetector()
    square = OnnxPersonDetector(trim_padding=False)
    assert trimmed.session is square.session and trimmed.session.fixed_size is None
    assert trimmed.input_size == (416, 416)  # from the model's metadata
    assert trimmed._place(640, 360)[2].canvas == (416, 256)  # 416x234 rounded up to a multiple of 32
    assert trimmed._place(768, 576)[2].canvas == (416, 320)
    assert square._place(640, 360)[2].canvas == (416, 416)
    frame = _vtest_frame(vtest_clip, 71)
    a, b = trimmed.detect_frame(frame, 0.0), square.detect_frame(frame, 0.0)
    # the same people at the same scale: the bottom padding barely matters to a convolutional network
    assert len(a) == len(b) >= 3
    order_a, order_b = np.argsort(a.xyxy[:, 0]), np.argsort(b.xyxy[:, 0])
    assert np.allclose(a.xyxy[order_a], b.xyxy[order_b], atol=6.0)
    assert trimmed.session.path == default_model_path().resolve()


class _Recomputing(QueueAnalyzer):
    """The analyzer as it was: zone tests on every frame, also those holding the last detection."""

    def update(self, y: np.ndarray, t: float, *, frame: Any = None) -> list:
        self._look = None
        return super().update(y, t, frame=frame)


def test_held_frames_reuse_the_zone_tests_and_change_nothing() -> None:
    scene = CounterScene(11, arrival_rate_per_min=8.0, service_time_s=15.0, duration_s=40.0)
    config = QueueConfig.model_validate(
        {
            "zones": [z.model_dump() for z in scene.zones()],
            "anchor": "bottom_center",
            "detector": "dnn",
            "interval_s": 5.0,
            "unstaffed": {"for_s": 4.0, "clear_for_s": 1.0},
            "pile_up": {"threshold": 2, "for_s": 2.0, "clear_for_s": 2.0},
        }
    )
    fast, slow = QueueAnalyzer(config), _Recomputing(config)
    looks: Counter[str] = Counter()
    for name, analyzer in (("fast", fast), ("slow", slow)):
        original = analyzer._zone_look

        def counted(tracked: Any, t: float, name: str = name, original: Any = original) -> Any:
            looks[name] += 1
            return original(tracked, t)

        analyzer._zone_look = counted  # type: ignore[method-assign]
    truth = scene.truth()
    events: dict[str, list] = {"fast": [], "slow": []}
    n = int(30.0 * scene.config.fps)
    lengths = []
    for i in range(n):
        t = float(truth.times[i])
        frame = Frame(av.VideoFrame.from_ndarray(scene.render(i, t, 640, 360), format="yuv420p"), time=t, index=i)
        events["fast"] += fast.update(frame.y, t, frame=frame)
        events["slow"] += slow.update(frame.y, t, frame=frame)
        a, b = fast.last, slow.last
        assert a is not None and b is not None
        assert (a.queue_length, a.smoothed_length, a.staffed) == (b.queue_length, b.smoothed_length, b.staffed), i
        assert np.array_equal(a.detections.xyxy, b.detections.xyxy)
        assert np.array_equal(a.detections.tracker_id, b.detections.tracker_id)
        lengths.append(a.queue_length)
    events["fast"] += fast.flush()
    events["slow"] += slow.flush()
    assert events["fast"] == events["slow"]
    assert sum(e.kind == "queue_stats" for e in events["fast"]) >= 6
    assert max(lengths) >= 2  # a line formed: the comparison covered people waiting and being served
    assert looks["slow"] == n  # every frame
    assert looks["fast"] <= n // 4  # once per detection (2 Hz at 10 fps), not per frame

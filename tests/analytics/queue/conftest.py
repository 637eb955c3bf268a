"""Shared small scenes for the queue-analytics tests (low resolution, short timelines).

The suite runs with ``--import-mode=importlib``, so helpers reach the tests as fixtures, not imports.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from kedirivms.analytics.queue import QueueAnalyzer, QueueConfig
from kedirivms.analytics.zones import Zones
from kedirivms.sim.counter_scene import CounterScene

W, H = 320, 180


def analyse(scene: CounterScene, config: QueueConfig | None = None, *, start_s: float = 0.0) -> dict:
    """Feed every truth frame of ``scene`` (read-only luma, as streams hand it out) through an analyzer."""
    cfg = config or QueueConfig(zones=Zones(zones=tuple(scene.zones())), detector="background")
    analyzer = QueueAnalyzer(cfg)
    truth = scene.truth()
    lengths, events, times = [], [], []
    for t in truth.times:
        if t < start_s:
            continue
        y = scene.render_luma(float(t), W, H)
        y.flags.writeable = False
        events += analyzer.update(y, float(t))
        lengths.append(analyzer.last.queue_length)
        times.append(float(t))
    events += analyzer.flush()
    return {"lengths": np.asarray(lengths), "events": events, "times": np.asarray(times), "analyzer": analyzer}


# the background detector is tuned on the grey top view
SMALL = {
    "view": "top",
    "arrival_rate_per_min": 5.0,
    "service_time_s": 10.0,
    "absences": [(25.0, 50.0)],
    "duration_s": 50,
    "fps": 5.0,
}


@pytest.fixture(scope="package")
def small_params() -> dict[str, Any]:
    """Parameters of the small scene (seed 7)."""
    return dict(SMALL)


@pytest.fixture(scope="package")
def run_scene() -> Callable[..., dict]:
    """``run_scene(scene, config=None, start_s=0)``: analyse every truth frame of a scene at 320x180."""
    return analyse


@pytest.fixture(scope="package")
def small_scene() -> CounterScene:
    """87 s of a counter: 5 visitors, a line of up to 4 for ~17 s, the clerk away from 25 s to 50 s."""
    return CounterScene(7, **SMALL)


@pytest.fixture(scope="package")
def small_config(small_scene: CounterScene) -> QueueConfig:
    """Alert rules scaled to the short scene."""
    return QueueConfig.model_validate(
        {
            "zones": [z.model_dump() for z in small_scene.zones()],
            "detector": "background",  # the top-down grey scene: no person detector sees its blobs
            "interval_s": 10.0,
            "pile_up": {"threshold": 3, "for_s": 5.0, "clear_below": 1, "clear_for_s": 5.0},
            "unstaffed": {"for_s": 10.0, "clear_for_s": 2.0},
        }
    )


@pytest.fixture(scope="package")
def small_run(small_scene: CounterScene, small_config: QueueConfig) -> dict:
    """The small scene analysed once at 320x180 (shared by the metric and alert tests)."""
    return analyse(small_scene, small_config)


REPO = Path(__file__).resolve().parents[3]
FOOTAGE_TRUTH = REPO / "tests" / "data" / "footage" / "vtest.truth.json"


@pytest.fixture(scope="package")
def vtest_clip() -> Path:
    """OpenCV's vtest.avi (real outdoor CCTV, 768x576, 10 fps), fetched from Debian by ``make footage``."""
    path = Path(os.environ.get("KEDIRIVMS_FOOTAGE", REPO / ".cache" / "footage")) / "vtest.avi"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make footage` (takes it out of Debian's opencv-doc package)")
    return path


def _const_model(tmp_path: Path, out: np.ndarray, size: int = 640, name: str = "m.onnx") -> Path:
    """A real ONNX graph: its output is ``out`` plus 0 x the input's mean (so it reads the picture)."""
    nodes = [
        helper.make_node(
            "Constant", [], ["c"], value=helper.make_tensor("v", TensorProto.FLOAT, out.shape, out.ravel())
        ),
        helper.make_node("ReduceMean", ["images"], ["m"], keepdims=0),
        helper.make_node("Constant", [], ["z"], value=helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])),
        helper.make_node("Mul", ["m", "z"], ["mz"]),
        helper.make_node("Add", ["c", "mz"], ["out"]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, list(out.shape))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="package")
def const_model() -> Callable[..., Path]:
    """``const_model(tmp_path, out, size=640, name="m.onnx")``: a real ONNX graph whose output is ``out``."""
    return _const_model


def mean_model(tmp_path: Path) -> Path:
    """A real graph taking any batch and picture size: the mean of each channel, ``(N, 3)``."""
    node = helper.make_node("ReduceMean", ["images"], ["out"], axes=[2, 3], keepdims=0)
    graph = helper.make_graph(
        [node],
        "mean",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 3])],
    )
    path = tmp_path / "mean.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


# The counter scene's tight line (people touching, as in benchmarks/queue_accuracy.py "tight"), rendered on a
# development seed of that benchmark (never one it is scored on)
TIGHT: dict[str, Any] = {"arrival_rate_per_min": 3.0, "service_time_s": 36.0, "duration_s": 240, "line_spacing": 0.035}


def line_at(seed: int, t: float, **params: Any) -> tuple[CounterScene, Any, int]:
    """A counter scene (``params``, oblique 640x360 @ 10 fps), its colour frame at ``t`` s and the true queue length
    then."""
    import av

    from kedirivms.stream import Frame

    scene = CounterScene(view="oblique", width=640, height=360, fps=10.0, seed=seed, **params)
    truth = scene.truth()
    i = int(np.searchsorted(truth.times, t))
    frame = Frame(av.VideoFrame.from_ndarray(scene.render(i, t, 640, 360), format="yuv420p"), time=t)
    return scene, frame, int(truth.queue_length[i])


def tight_line_at(seed: int, t: float) -> tuple[CounterScene, Any, int]:
    """The tight line's scene, its colour frame at ``t`` s and the true queue length then."""
    return line_at(seed, t, **TIGHT)


def in_queue(scene: CounterScene, xyxy: Any) -> int:
    """How many of the boxes ``xyxy`` stand (bottom centre) in ``scene``'s queue zone."""
    queue = next(z for z in scene.zones() if z.kind == "queue")
    boxes = np.asarray(xyxy).reshape(-1, 4)
    feet = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]], axis=1)
    return int(queue.contains(feet, (640, 360)).sum())


def scene_detector(scene: CounterScene, **dnn: Any) -> Any:
    """The DNN detector the analyzer builds for ``scene``'s zones with these ``dnn`` settings."""
    from kedirivms.analytics.queue.onnx import OnnxPersonDetector

    config = QueueConfig.model_validate({"zones": scene.zones(), "detector": "dnn", "dnn": dnn})
    det = QueueAnalyzer(config).detector
    assert isinstance(det, OnnxPersonDetector)
    return det


def looking_detector(scene: CounterScene, **dnn: Any) -> Any:
    """:func:`scene_detector` with the second look on every detection (``always``: a camera alone)."""
    return scene_detector(scene, **{"second_look": "always", **dnn})


def scripted_detector(script: dict[float, list[list[float]]] | Callable[[float], Any]) -> Any:
    """The shipped model's adapter (so the analyzer runs its DNN path) answering with scripted boxes: from each
    time of ``script`` on, its boxes (or, given a function, the boxes, or the ``supervision.Detections``, it returns
    for the detection's time)."""
    import supervision as sv

    from kedirivms.analytics.queue import person_detections
    from kedirivms.analytics.queue.onnx import OnnxPersonDetector

    if callable(script):
        boxes = script
    else:
        steps = sorted(script.items())

        def boxes(t: float) -> list[list[float]]:
            return [b for start, b in steps if start <= t][-1]

    class Scripted(OnnxPersonDetector):
        def detect_frame(self, frame: object, t: float) -> sv.Detections:
            return self.detect(np.zeros((1, 1), np.uint8), t)

        def detect(self, y: np.ndarray, t: float) -> sv.Detections:
            found = boxes(t)
            return found if isinstance(found, sv.Detections) else person_detections(found, 0.9)

    return Scripted()


def scripted_frames(config: QueueConfig, script: Any, seconds: float) -> dict[float, Any]:
    """Run a 640x360 analyzer on :func:`scripted_detector` ``script`` at 10 fps for ``seconds``: each frame's time
    (rounded to 0.1 s) -> its :class:`~kedirivms.analytics.queue.FrameResult`."""
    analyzer = QueueAnalyzer(config, detector=scripted_detector(script))
    y = np.zeros((360, 640), np.uint8)
    frames = {}
    for k in range(round(seconds * 10)):
        t = round(0.1 * k, 1)
        analyzer.update(y, t)
        assert analyzer.last is not None
        frames[t] = analyzer.last
    return frames

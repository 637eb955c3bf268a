"""The DNN person detector: every output layout on small real graphs, the shipped model on real CCTV, errors typed."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from kedirivms.analytics.queue import BackgroundDetector, QueueAnalyzer, QueueConfig
from kedirivms.analytics.queue.evaluation import FootageTruth, evaluate_clip
from kedirivms.analytics.queue.onnx import OnnxPersonDetector, default_model_path
from kedirivms.errors import AnalyticsError, ConfigError, DecodeError, DetectorError
from kedirivms.stream import Frame

ZONES = [
    {"name": "line", "kind": "queue", "points": [[0, 0], [1, 0], [1, 0.8], [0, 0.8]]},
    {"name": "desk", "kind": "counter", "points": [[0, 0.8], [1, 0.8], [1, 1], [0, 1]]},
]


def _yolov8() -> np.ndarray:
    out = np.zeros((1, 6, 16), np.float32)  # (1, 4 + 2 classes, N)
    out[0, :, 0] = [320, 400, 40, 80, 0.9, 0.0]  # a person at (320, 400) in the 640x640 input
    out[0, :, 1] = [100, 300, 40, 80, 0.1, 0.95]  # another class
    return out


def _yolov5() -> np.ndarray:
    out = np.zeros((1, 30, 7), np.float32)  # (1, N, 5 + 2 classes)
    out[0, 0] = [320, 400, 40, 80, 0.95, 0.9, 0.05]  # objectness x person score
    out[0, 1] = [100, 300, 40, 80, 0.95, 0.1, 0.9]
    out[0, 2] = [500, 300, 40, 80, 0.2, 0.9, 0.1]  # weak objectness: dropped
    return out


def _nms() -> np.ndarray:
    out = np.zeros((1, 3, 6), np.float32)
    out[0, 0] = [300, 360, 340, 440, 0.9, 0]
    out[0, 1] = [80, 260, 120, 340, 0.9, 1]
    return out


def _yolox() -> np.ndarray:
    # 416x416 input: 52x52 + 26x26 + 13x13 = 3549 cells, 85 values each (raw, decoded with the grid)
    out = np.zeros((1, 3549, 85), np.float32)
    cell = 26 * 52 + 20  # stride 8, row 26, column 20
    out[0, cell, :6] = [0.5, 0.25, np.log(5.0), np.log(10.0), 0.9, 0.95]  # centre (164, 210), 40x80
    return out


# rows: (layout name, output, model input size, picture (w, h), expected box in picture pixels)
LAYOUTS = [
    ("yolov8", _yolov8(), 640, (640, 360), [300, 220, 340, 300]),  # letterbox pads 140 rows on top
    ("yolov5", _yolov5(), 640, (640, 360), [300, 220, 340, 300]),
    ("nms", _nms(), 640, (640, 360), [300, 220, 340, 300]),
    ("yolox", _yolox(), 416, (832, 520), [288, 340, 368, 500]),  # top-left letterbox, scale 0.5
]


@pytest.mark.parametrize(("layout", "out", "size", "wh", "box"), LAYOUTS, ids=[r[0] for r in LAYOUTS])
def test_each_layout_is_guessed_and_decoded(
    tmp_path: Path,
    const_model: Callable[..., Path],
    layout: str,
    out: np.ndarray,
    size: int,
    wh: tuple[int, int],
    box: list[float],
) -> None:
    path = const_model(tmp_path, out, size)
    det = OnnxPersonDetector(path)
    found = det.detect(np.zeros((wh[1], wh[0]), np.uint8), 0.0)
    assert det.layout == layout
    assert len(found) == 1 and np.allclose(found.xyxy[0], box, atol=0.6)
    # a colour picture goes through the same path
    again = det.detect(np.zeros((wh[1], wh[0], 3), np.uint8), 0.0)
    assert np.allclose(again.xyxy, found.xyxy)


BAD = [
    ("no rows", np.zeros((1, 2, 3, 4), np.float32), 640, "auto", "unexpected ONNX output shape"),
    ("too few columns", np.zeros((1, 4, 3), np.float32), 640, "auto", "unexpected ONNX output shape"),
    ("no such class", np.zeros((1, 5, 6), np.float32), 640, "yolov5", "no class 3"),
    ("yolox grid mismatch", np.zeros((1, 100, 85), np.float32), 416, "yolox", "expected 3549"),
]


@pytest.mark.parametrize(("name", "out", "size", "layout", "message"), BAD, ids=[r[0] for r in BAD])
def test_bad_outputs_are_detector_errors_not_stream_errors(
    tmp_path: Path, const_model: Callable[..., Path], name: str, out: np.ndarray, size: int, layout: Any, message: str
) -> None:
    out = out.copy()
    out[..., 4:] = 0.9  # scores high enough to reach the decoding
    det_args: dict[str, Any] = {"layout": layout, "person_class": 3 if name == "no such class" else 0}
    with pytest.raises(DetectorError, match=message) as info:
        OnnxPersonDetector(const_model(tmp_path, out, size), **det_args).detect(np.zeros((64, 64), np.uint8), 0.0)
    assert isinstance(info.value, AnalyticsError) and not isinstance(info.value, DecodeError)


def test_a_runtime_failure_of_onnxruntime_is_a_detector_error(tmp_path: Path) -> None:
    # Reshape to a shape the picture's element count cannot fill: onnxruntime fails while running
    nodes = [
        helper.make_node("Constant", [], ["s"], value=helper.make_tensor("s", TensorProto.INT64, [2], [7, -1])),
        helper.make_node("Reshape", ["images", "s"], ["out"]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, "h", "w"])],  # not checkable at load
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
    )
    path = tmp_path / "fails.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    with pytest.raises(DetectorError, match="onnxruntime failed"):
        OnnxPersonDetector(path, layout="yolov5").detect(np.zeros((64, 64), np.uint8), 0.0)


def test_bad_files_and_settings_are_config_errors(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model")
    cases = [
        ({"zones": ZONES, "detector": "dnn", "dnn": {"model": str(tmp_path / "none.onnx")}}, "not found"),
        ({"zones": ZONES, "detector": "dnn", "dnn": {"model": str(garbage)}}, "could not load"),
        (
            {"zones": ZONES, "detector": "dnn", "dnn": {"providers": ["NoSuchExecutionProvider"]}},
            "no execution provider",
        ),
        ({"zones": ZONES, "onnx_model": str(tmp_path / "none.onnx")}, "not found"),  # the 0.1 key still works
    ]
    for config, message in cases:
        with pytest.raises(ConfigError, match=message):
            QueueAnalyzer(QueueConfig.model_validate(config))


def test_without_onnxruntime_dnn_is_refused_and_auto_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if it were not installed: importing it fails
    with pytest.raises(ConfigError, match=r"kedirivms\[detect\]"):
        QueueAnalyzer(QueueConfig.model_validate({"zones": ZONES, "detector": "dnn"}))
    config = QueueConfig.model_validate({"zones": ZONES})
    assert config.detector == "auto" and config.detector_kind == "background"
    assert isinstance(QueueAnalyzer(config).detector, BackgroundDetector)


def test_yaml_settings_reach_the_detector() -> None:
    config = QueueConfig.model_validate(
        {
            "zones": ZONES,
            "detector": "dnn",
            "dnn": {"confidence": 0.5, "nms_iou": 0.6, "person_class": 0, "rate_hz": 4, "layout": "yolox"},
        }
    )
    analyzer = QueueAnalyzer(config)
    det = analyzer.detector
    assert isinstance(det, OnnxPersonDetector)
    assert (det.confidence, det.nms_iou, det.layout, det.input_size) == (0.5, 0.6, "yolox", (416, 416))
    assert det.session.path == default_model_path().resolve()


def _vtest_frames(clip: Path, indices: set[int]) -> dict[int, Frame]:
    out = {}
    with av.open(str(clip)) as container:
        for i, f in enumerate(container.decode(video=0)):
            if i in indices:
                out[i] = Frame(f, time=i / 10.0, index=i).copy()
            if i >= max(indices):
                break
    return out


def test_the_shipped_model_finds_the_people_on_real_cctv(vtest_clip: Path) -> None:
    truth = {
        f.index: f.counts["scene"]
        for f in FootageTruth.load(Path(__file__).parents[2] / "data" / "footage" / "vtest.truth.json").frames
    }
    frames = _vtest_frames(vtest_clip, {5, 71, 170, 401})
    det = OnnxPersonDetector()
    for index, frame in frames.items():
        found = det.detect_frame(frame, frame.time)
        # the raw detector also boxes a sign post (the motion gate removes it downstream): at most one extra
        assert truth[index] - 1 <= len(found) <= truth[index] + 1, (index, len(found), truth[index])
        assert found.confidence is not None and (found.confidence >= det.confidence).all()


def test_concurrent_cameras_share_one_session_and_get_their_own_answers(vtest_clip: Path) -> None:
    frames = _vtest_frames(vtest_clip, {5, 71, 170, 401})
    detectors = [OnnxPersonDetector() for _ in frames]
    assert len({id(d.session) for d in detectors}) == 1  # one model in memory for every camera
    alone = {i: detectors[0].detect_frame(f, 0.0).xyxy for i, f in frames.items()}
    runs_before = sum(detectors[0].session.stats.runs.values())
    got: dict[int, np.ndarray] = {}
    barrier = threading.Barrier(len(frames))

    def camera(det: OnnxPersonDetector, index: int, frame: Frame) -> None:
        barrier.wait()
        for _ in range(3):
            got[index] = det.detect_frame(frame, 0.0).xyxy

    threads = [
        threading.Thread(target=camera, args=(d, i, f)) for d, (i, f) in zip(detectors, frames.items(), strict=True)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert all(np.allclose(got[i], alone[i], atol=1e-3) for i in frames)  # batched results go to their callers
    stats = detectors[0].session.stats
    pictures = sum(size * n for size, n in stats.runs.items())
    assert pictures >= 12 + len(frames) and sum(stats.runs.values()) - runs_before <= 12


def test_evaluation_smoke_on_real_footage(vtest_clip: Path) -> None:
    """The first 14 s of the annotated clip (the full run is benchmarks/queue_accuracy.py --clip)."""
    truth = FootageTruth.load(Path(__file__).parents[2] / "data" / "footage" / "vtest.truth.json")
    early = truth.model_copy(update={"frames": tuple(f for f in truth.frames if f.index <= 137)})
    dnn = evaluate_clip(vtest_clip, early, detector="dnn")
    background = evaluate_clip(vtest_clip, early, detector="background")
    assert dnn.frames == len(early.frames) >= 10 and dnn.detector == "dnn" and background.detector == "background"
    assert dnn.mae <= 1.0 and background.mae <= 3.0  # the full clip's figures are in docs/queue-accuracy.md
    assert all(truth_n == counted for i, _, truth_n, counted in dnn.per_frame if i == 5)  # 3 walkers, not the sign

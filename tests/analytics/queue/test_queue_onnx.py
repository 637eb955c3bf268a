"""The ONNX person-detector adapter: refused cleanly without onnxruntime; decodes YOLO outputs with it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from kedirivms.analytics.queue import QueueAnalyzer, QueueConfig
from kedirivms.errors import ConfigError

HAVE_ORT = importlib.util.find_spec("onnxruntime") is not None
ZONES = [
    {"name": "line", "kind": "queue", "points": [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]},
    {"name": "desk", "kind": "counter", "points": [[0, 0], [1, 0], [1, 0.2], [0, 0.2]]},
]


def test_without_onnxruntime_the_config_is_refused_with_a_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if it were not installed: importing it fails
    model = tmp_path / "person.onnx"
    model.write_bytes(b"not used")
    with pytest.raises(ConfigError, match="pip install onnxruntime"):
        QueueAnalyzer(QueueConfig.model_validate({"zones": ZONES, "onnx_model": str(model)}))


@pytest.mark.skipif(not HAVE_ORT, reason="onnxruntime not installed (optional)")
def test_yolov8_style_output_is_decoded(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    from kedirivms.analytics.queue.onnx import OnnxPersonDetector

    # a constant "model": 16 candidates in YOLOv8 layout (1, 4 + 2 classes, N): one person, one other class
    out = np.zeros((1, 6, 16), np.float32)
    out[0, :, 0] = [320, 400, 40, 80, 0.9, 0.0]  # person at (320, 400) in the 640x640 input
    out[0, :, 1] = [100, 300, 40, 80, 0.1, 0.95]
    const = helper.make_node(
        "Constant", [], ["out"], value=helper.make_tensor("v", TensorProto.FLOAT, out.shape, out.ravel())
    )
    graph = helper.make_graph(
        [const],
        "g",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 640, 640])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, out.shape)],
    )
    path = tmp_path / "const.onnx"
    onnx.save(helper.make_model(graph), str(path))
    det = OnnxPersonDetector(path).detect(np.zeros((360, 640), np.uint8), 0.0)
    assert len(det) == 1
    # letterbox 640x360 -> 640x640 pads 140 rows on top: y 400 in the input is 260 in the picture
    assert np.allclose(det.xyxy[0], [300, 220, 340, 300])
    # forcing the layout decodes the same way as the guess
    rows = OnnxPersonDetector(path, layout="yolov8", confidence=0.5)._decode(out)
    assert len(rows[1]) == 1


def test_missing_model_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found" if HAVE_ORT else "onnxruntime"):
        QueueAnalyzer(QueueConfig.model_validate({"zones": ZONES, "onnx_model": str(tmp_path / "none.onnx")}))

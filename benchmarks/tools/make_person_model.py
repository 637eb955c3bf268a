"""Rebuild the queue plugin's shipped person model from its upstream file (run once; not shipped).

Upstream: ``model/yolox_nano.onnx`` of github.com/Kazuhito00/YOLOX-ONNX-TFLite-Sample at commit
3d4f1119d0694200671c08069ecb847aa0d8495a (Apache-2.0), an ONNX export of Megvii's YOLOX-Nano COCO weights
(github.com/Megvii-BaseDetection/YOLOX, Apache-2.0).

Two changes, weights and every node's operation untouched:

* the batch dimension becomes symbolic (``N``) so one session can run several cameras' pictures in one call. The
  export hard-codes batch 1 in its three head ``Reshape`` shapes ``[1, 85, -1]``; they become ``[0, 85, -1]``
  (0 copies the input's batch size);
* the picture's height and width become symbolic (``H``, ``W``; the network is fully convolutional, any multiple of
  32 runs) so a 16:9 camera is not padded to a square: 640x360 runs at 416x256, 0.6x the work of 416x416, at the
  same scale. The size the model was trained at is kept in the metadata entry ``kedirivms.input_size``
  (``"416x416"``): the detector fits pictures within it.

Usage: python benchmarks/tools/make_person_model.py UPSTREAM.onnx src/kedirivms/analytics/queue/models/yolox_nano.onnx
"""

from __future__ import annotations

import hashlib
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def main(src: str, dst: str) -> None:
    model = onnx.load(src)
    graph = model.graph
    shapes = {n.input[1] for n in graph.node if n.op_type == "Reshape"}
    for i, init in enumerate(graph.initializer):
        if init.name in shapes:
            value = numpy_helper.to_array(init)
            if value.shape == (3,) and value[0] == 1:
                fixed = value.copy()
                fixed[0] = 0
                graph.initializer[i].CopyFrom(numpy_helper.from_array(fixed.astype(np.int64), init.name))
    for value_info in (graph.input[0], graph.output[0]):
        value_info.type.tensor_type.shape.dim[0].dim_param = "N"
    images = graph.input[0].type.tensor_type.shape.dim
    trained = f"{images[3].dim_value}x{images[2].dim_value}"  # width x height
    images[2].dim_param, images[3].dim_param = "H", "W"
    graph.output[0].type.tensor_type.shape.dim[1].dim_param = "cells"  # (H/8)(W/8) + (H/16)(W/16) + (H/32)(W/32)
    onnx.helper.set_model_props(model, {"kedirivms.input_size": trained})
    del graph.value_info[:]  # intermediate shapes recorded with batch 1; onnxruntime infers them again
    onnx.checker.check_model(model)
    onnx.save(model, dst)
    for path in (src, dst):
        with open(path, "rb") as fh:
            print(hashlib.sha256(fh.read()).hexdigest(), path)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

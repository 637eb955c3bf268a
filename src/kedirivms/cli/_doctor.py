"""``kedirivms doctor``: versions of the libraries and tools kedirivms stands on (for bug reports)."""

from __future__ import annotations

import platform
import shutil
from importlib import metadata

from rich.table import Table

from kedirivms.cli._app import JsonOption, app, console, emit_json

_DISTRIBUTIONS = ("kedirivms", "zeep", "onvif-zeep", "requests", "pydantic", "av", "numpy", "pluggy", "typer",
                  "paho-mqtt", "opencv-python-headless", "supervision", "trackers", "onnxruntime")  # fmt: skip
_TOOLS = ("ffmpeg", "ffprobe", "gst-launch-1.0", "mosquitto", "ip")


@app.command()
def doctor(json: bool = JsonOption) -> None:
    """Versions of Python, the libraries (PyAV with its FFmpeg, zeep, ...) and the optional tools on PATH."""
    report: dict[str, object] = {"python": platform.python_version(), "platform": platform.platform()}
    libs: dict[str, str | None] = {}
    ffmpeg: dict[str, str] = {}
    for dist in _DISTRIBUTIONS:
        try:
            libs[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            libs[dist] = None
    report["libraries"] = libs
    try:
        import av

        ffmpeg = {k: ".".join(map(str, v)) for k, v in av.library_versions.items()}
        report["h264_encoder"] = "libx264" in av.codecs_available
    except ImportError:  # pragma: no cover - av is a dependency
        pass
    report["ffmpeg_libraries"] = ffmpeg
    from kedirivms.onvif._wsdl import wsdl_dir

    report["onvif_wsdl_dir"] = str(wsdl_dir())
    from kedirivms.analytics.queue.config import dnn_available
    from kedirivms.analytics.queue.onnx import default_model_path

    report["queue_detector"] = "dnn" if dnn_available() else "background"
    report["queue_model"] = str(default_model_path())
    tools = {tool: shutil.which(tool) for tool in _TOOLS}
    report["tools"] = tools
    if json:
        emit_json(report)
        return
    table = Table("component", "version / location")
    table.add_row("python", f"{report['python']} ({report['platform']})")
    for name, version in libs.items():
        table.add_row(name, version or "[red]not installed[/]")
    for name, version in ffmpeg.items():
        table.add_row(f"  {name} (in PyAV)", version)
    table.add_row("ONVIF WSDLs", str(report["onvif_wsdl_dir"]))
    hint = "" if report["queue_detector"] == "dnn" else ' (pip install "kedirivms[detect]" for the DNN)'
    table.add_row("queue detector (auto)", f"{report['queue_detector']}{hint}")
    table.add_row("queue person model", str(report["queue_model"]))
    for tool, where in tools.items():
        table.add_row(tool, where or "[yellow]not on PATH (only needed by tests/tools)[/]")
    console.print(table)

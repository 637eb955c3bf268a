"""A tiny GStreamer RTSP server used as a third-party peer (run with /usr/bin/python3 and python3-gi).

Usage: gst_rtsp_server.py PORT [WIDTH HEIGHT FPS [CODEC]]; CODEC is h264 (x264enc, the default), h265 (x265enc,
8-bit Main), h265-10 (x265enc, 10-bit Main10) or file:PATH (an MP4 file's H.264 video as it is, in real time, no
re-encoding; WIDTH HEIGHT FPS are then ignored). Prints ``READY PORT`` once it serves rtsp://127.0.0.1:PORT/test.
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

port = sys.argv[1]
width, height, fps = (sys.argv[2:5] + ["320", "240", "15"][len(sys.argv[2:5]) :])[:3]
codec = sys.argv[5] if len(sys.argv) > 5 else "h264"
Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
raw = f"videotestsrc is-live=true pattern=ball ! video/x-raw,width={width},height={height},framerate={fps}/1"
if codec.startswith("file:"):
    raw, encode = "", ""
elif codec == "h264":
    encode = f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} ! rtph264pay name=pay0 pt=96"
else:
    # x265 repeats VPS/SPS/PPS before each keyframe (repeat-headers), as cameras do
    depth = " ! videoconvert ! video/x-raw,format=" + ("I420_10LE" if codec == "h265-10" else "I420")
    encode = (
        f"x265enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} option-string=repeat-headers=1"
        " ! rtph265pay name=pay0 pt=96 config-interval=-1"
    )
    raw += depth
if codec.startswith("file:"):
    path = codec[len("file:") :]
    launch = f'( filesrc location="{path}" ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )'
else:
    launch = f"( {raw} ! {encode} )"
factory.set_launch(launch)
if codec.startswith("file:"):
    # a media of its own for each client, from the file's start (no re-encoding: cheap): clients come and go in
    # groups (benchmarks), and a shared media torn down as the last one leaves may not answer the next DESCRIBE
    factory.set_shared(False)
else:
    factory.set_shared(True)
server.get_mount_points().add_factory("/test", factory)
if server.attach(None) == 0:
    sys.exit("cannot bind")
print(f"READY {server.get_bound_port()}", flush=True)
GLib.MainLoop().run()

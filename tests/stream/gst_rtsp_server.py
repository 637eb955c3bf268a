"""A tiny GStreamer RTSP server used as a third-party peer (run with /usr/bin/python3 and python3-gi).

Usage: gst_rtsp_server.py PORT [WIDTH HEIGHT FPS]; prints ``READY PORT`` once it serves rtsp://127.0.0.1:PORT/test.
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

port = sys.argv[1]
width, height, fps = (sys.argv[2:5] + ["320", "240", "15"][len(sys.argv[2:5]) :])[:3]
Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(
    f"( videotestsrc is-live=true pattern=ball ! video/x-raw,width={width},height={height},framerate={fps}/1 "
    f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} ! rtph264pay name=pay0 pt=96 )"
)
factory.set_shared(True)
server.get_mount_points().add_factory("/test", factory)
if server.attach(None) == 0:
    sys.exit("cannot bind")
print(f"READY {server.get_bound_port()}", flush=True)
GLib.MainLoop().run()

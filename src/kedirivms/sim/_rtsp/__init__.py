"""Private parts of the virtual camera's RTSP server (encoder registry, RTP packetizer, RTSP sessions)."""

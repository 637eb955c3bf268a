"""Live and file video streams through PyAV, with zero-copy frames.

One demux thread per stream feeds the decoder, packet listeners (the recorder) and consumers (iterator, ``read``,
callbacks) with latest-frame semantics. See docs/streams.md and docs/frames.md.
"""

from __future__ import annotations

from kedirivms._exports import claim
from kedirivms.stream._frame import Frame
from kedirivms.stream._models import StateChange, StreamOptions, StreamState, StreamStats
from kedirivms.stream._open import grab_frame, open_stream
from kedirivms.stream._reader import Stream

__all__ = [
    "Frame",
    "StateChange",
    "Stream",
    "StreamOptions",
    "StreamState",
    "StreamStats",
    "grab_frame",
    "open_stream",
]

claim(globals(), __all__)

"""Read frames from a virtual camera's RTSP stream: zero-copy luma, a colour crop, a kept copy, statistics.

Run: python examples/read_frames.py  (starts its own virtual camera on loopback, takes about two seconds)
"""

from __future__ import annotations

from kedirivms import open_stream
from kedirivms.sim.rtsp import RtspServer, StreamSpec


def main() -> None:
    with RtspServer() as server:
        server.add_stream("Profile_1_sub", StreamSpec.sub_profile(width=640, height=360))
        url = server.url("Profile_1_sub")

        kept = []
        with open_stream(url, timeout=(5.0, 5.0)) as stream:
            stream.on_state(lambda change: print(f"  state: {change.state.value}"))
            for frame in stream:
                grey = frame.y  # (360, 640) uint8 view of the decoder's picture: no copy, read-only
                corner = frame.to_bgr(roi=(0, 0, 160, 90))  # only this region is converted (a copy)
                print(
                    f"frame #{frame.index} pts={frame.pts} key={frame.key_frame} "
                    f"luma mean {grey.mean():5.1f}  corner {corner.shape}"
                )
                if frame.key_frame:
                    kept.append(frame.copy())  # keep beyond this iteration: an explicit copy
                if frame.index >= 20:
                    break
            stats = stream.stats
        print(f"decoded {stats.decoded}, dropped {stats.dropped}, fps {stats.fps:.1f}, kept {len(kept)} keyframes")


if __name__ == "__main__":
    main()

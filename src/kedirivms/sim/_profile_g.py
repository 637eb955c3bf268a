"""NVR mode of the virtual camera: ONVIF Profile G recording, search and replay from recorded segments.

:func:`enable_nvr` attaches a recording root (written by :class:`~kedirivms.Recorder`) to a
:class:`~kedirivms.sim.VirtualCamera`; the camera then advertises the recording, search and replay services and
answers them from the segment index: one recording per camera folder (token = the folder name) with one video
track ``VIDEO001``; recording jobs for the recorders passed in; FindEvents over the indexed events; GetReplayUri
pointing at a replay RTSP server that plays the recorded files.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

from kedirivms.record import RecorderState, SegmentIndex
from kedirivms.record._layout import utc
from kedirivms.sim._context import SoapContext
from kedirivms.sim._profile_g_replay import ReplayServer
from kedirivms.sim._services.events import topic_expression
from kedirivms.sim._soap import ServiceSpec, SoapFault, register_service

if TYPE_CHECKING:
    from kedirivms.record import Recorder
    from kedirivms.sim.camera import VirtualCamera

__all__ = ["NvrMode", "enable_nvr"]

TRACK = "VIDEO001"
_TT = "http://www.onvif.org/ver10/schema"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# indexed event name -> (ONVIF topic, data item name, value)
_TOPICS = {
    "motion": ("tns1:VideoSource/MotionAlarm", "State", "true"),
    "disconnected": ("tns1:RecordingHistory/Track/State", "IsDataPresent", "false"),
    "storage_error": ("tns1:RecordingHistory/Recording/State", "IsRecording", "false"),
    "paused": ("tns1:RecordingHistory/Recording/State", "IsRecording", "false"),
    "resumed": ("tns1:RecordingHistory/Recording/State", "IsRecording", "true"),
}

RECORDING = register_service(
    ServiceSpec(
        name="recording",
        path="/onvif/recording_service",
        namespace="http://www.onvif.org/ver10/recording/wsdl",
        wsdl="recording.wsdl",
        binding="RecordingBinding",
        version=(2, 60),
        advertised=lambda ctx: ctx.camera in _NVRS,
    )
)
SEARCH = register_service(
    ServiceSpec(
        name="search",
        path="/onvif/search_service",
        namespace="http://www.onvif.org/ver10/search/wsdl",
        wsdl="search.wsdl",
        binding="SearchBinding",
        version=(2, 60),
        advertised=lambda ctx: ctx.camera in _NVRS,
    )
)
REPLAY = register_service(
    ServiceSpec(
        name="replay",
        path="/onvif/replay_service",
        namespace="http://www.onvif.org/ver10/replay/wsdl",
        wsdl="replay.wsdl",
        binding="ReplayBinding",
        version=(2, 60),
        advertised=lambda ctx: ctx.camera in _NVRS,
    )
)


@dataclass
class _Search:
    kind: str
    results: list[Any]
    expires: float
    taken: int = 0


@dataclass
class NvrMode:
    """The NVR side of one virtual camera (returned by :func:`enable_nvr`; :meth:`close` when done).

    Attributes:
        root: the recording root served.
        index: its segment index.
        recorders: recorders reported as recording jobs (job token ``Job_<camera>``).
        replay: the replay RTSP server.
    """

    root: Path
    index: SegmentIndex
    recorders: dict[str, Recorder]
    replay: ReplayServer
    searches: dict[str, _Search] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def close(self) -> None:
        """Stop the replay server and close the index."""
        self.replay.stop()
        self.index.close()

    def new_search(self, kind: str, results: list[Any], keep_alive: float) -> str:
        token = f"Search_{next(self._ids)}"
        with self.lock:
            now = time.monotonic()
            for key in [k for k, s in self.searches.items() if s.expires < now]:
                del self.searches[key]
            self.searches[token] = _Search(kind, results, now + keep_alive)
        return token


_NVRS: weakref.WeakKeyDictionary[VirtualCamera, NvrMode] = weakref.WeakKeyDictionary()


def enable_nvr(
    camera: VirtualCamera,
    root: str | Path,
    *,
    recorders: list[Recorder] | None = None,
    replay_speed: float = 1.0,
    replay_auth: bool = True,
) -> NvrMode:
    """Make ``camera`` a virtual NVR serving Profile G from the recordings under ``root``.

    Args:
        camera: the virtual camera (started or not).
        root: a recording root written by :class:`~kedirivms.Recorder`.
        recorders: live recorders to report as recording jobs.
        replay_speed: how fast replay streams play (1.0 = as recorded).
        replay_auth: replay streams require the camera's users (RTSP Digest), as a real NVR's do.

    Returns:
        The :class:`NvrMode` (call :meth:`NvrMode.close` after stopping the camera).

    Example:
        >>> with VirtualCamera() as cam:
        ...     nvr = enable_nvr(cam, "/srv/rec")
    """
    index = SegmentIndex(root)
    users = {u.username: u.password.get_secret_value() for u in camera.state.users} if replay_auth else None
    replay = ReplayServer(camera.host, 0, speed=replay_speed, users=users)
    replay.start()
    mode = NvrMode(Path(root), index, {r.camera: r for r in recorders or []}, replay)
    _NVRS[camera] = mode
    return mode


def _nvr(ctx: SoapContext) -> NvrMode:
    mode = _NVRS.get(ctx.camera)
    if mode is None:
        raise SoapFault(["ActionNotSupported"], "this virtual camera is not in NVR mode", code="Receiver")
    return mode


def _token(mode: NvrMode, token: Any) -> str:
    text = str(token or "")
    if text not in mode.index.cameras():
        raise SoapFault(["InvalidArgVal", "NoRecording"], f"no recording {text!r}")
    return text


def _seconds(value: Any) -> float:
    """xs:duration (zeep gives timedelta or isodate Duration) -> seconds."""
    if value is None:
        return 10.0
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    try:
        return float(value.totimedelta(start=dt.datetime.now()).total_seconds())
    except AttributeError:
        return 10.0


def _source(ctx: SoapContext, camera: str) -> dict[str, Any]:
    return {
        "SourceId": f"{ctx.advertised_netloc}/{camera}",
        "Name": camera,
        "Location": ctx.config.location,
        "Description": f"recorded by kedirivms into {camera}/",
        "Address": f"rtsp://{ctx.advertised_netloc}/{camera}",
    }


def _configuration(ctx: SoapContext, camera: str) -> dict[str, Any]:
    return {"Source": _source(ctx, camera), "Content": "kedirivms recording", "MaximumRetentionTime": dt.timedelta(0)}


def _information(ctx: SoapContext, mode: NvrMode, camera: str) -> dict[str, Any]:
    segs = mode.index.segments(camera)
    first = segs[0].start if segs else _EPOCH
    last = max((s.end for s in segs), default=_EPOCH)
    rec = mode.recorders.get(camera)
    live = rec is not None and rec.state is RecorderState.RECORDING
    return {
        "RecordingToken": camera,
        "Source": _source(ctx, camera),
        "EarliestRecording": first,
        "LatestRecording": last,
        "Content": "kedirivms recording",
        "Track": [{"TrackToken": TRACK, "TrackType": "Video", "Description": "H.264 video",
                   "DataFrom": first, "DataTo": last}],
        "RecordingStatus": "Recording" if live else "Stopped",
    }  # fmt: skip


# ------------------------------------------------------------------------------------------- recording
@RECORDING.operation("GetServiceCapabilities")
def _rec_caps(ctx: SoapContext, req: Any) -> dict[str, Any]:
    _nvr(ctx)
    return {"Capabilities": {"DynamicRecordings": False, "DynamicTracks": False, "Encoding": ["H264"],
                             "MaxRate": 16.0, "MaxTotalRate": 512.0, "MaxRecordings": 64, "MaxRecordingJobs": 64,
                             "Options": True, "MetadataRecording": False}}  # fmt: skip


@RECORDING.operation("GetRecordings")
def _get_recordings(ctx: SoapContext, req: Any) -> dict[str, Any]:
    mode = _nvr(ctx)
    items = [
        {
            "RecordingToken": cam,
            "Configuration": _configuration(ctx, cam),
            "Tracks": {
                "Track": [{"TrackToken": TRACK, "Configuration": {"TrackType": "Video", "Description": "H.264 video"}}]
            },
        }  # fmt: skip
        for cam in mode.index.cameras()
    ]
    return {"RecordingItem": items}


@RECORDING.operation("GetRecordingConfiguration")
def _get_recording_configuration(ctx: SoapContext, req: Any) -> dict[str, Any]:
    mode = _nvr(ctx)
    return {"RecordingConfiguration": _configuration(ctx, _token(mode, req.RecordingToken))}


def _job(mode: NvrMode, camera: str) -> dict[str, Any]:
    rec = mode.recorders[camera]
    active = rec.state not in (RecorderState.CLOSED, RecorderState.NEW) and not rec.paused
    return {
        "RecordingToken": camera,
        "Mode": "Active" if active else "Idle",
        "Priority": 1,
        "Source": [{"SourceToken": {"Token": camera, "Type": "http://www.onvif.org/ver10/schema/Receiver"},
                    "AutoCreateReceiver": False}],
    }  # fmt: skip


@RECORDING.operation("GetRecordingJobs")
def _get_recording_jobs(ctx: SoapContext, req: Any) -> dict[str, Any]:
    mode = _nvr(ctx)
    return {"JobItem": [{"JobToken": f"Job_{cam}", "JobConfiguration": _job(mode, cam)} for cam in mode.recorders]}


def _job_recorder(mode: NvrMode, token: Any) -> Recorder:
    cam = str(token or "").removeprefix("Job_")
    if cam not in mode.recorders:
        raise SoapFault(["InvalidArgVal", "NoRecordingJob"], f"no recording job {token!r}")
    return mode.recorders[cam]


@RECORDING.operation("SetRecordingJobMode")
def _set_recording_job_mode(ctx: SoapContext, req: Any) -> None:
    rec = _job_recorder(_nvr(ctx), req.JobToken)
    if req.Mode == "Idle":
        rec.pause()
    elif req.Mode == "Active":
        rec.resume()
    else:
        raise SoapFault(["InvalidArgVal", "BadValue"], f"mode {req.Mode!r} is not Idle or Active")
    return None


@RECORDING.operation("GetRecordingJobState")
def _get_recording_job_state(ctx: SoapContext, req: Any) -> dict[str, Any]:
    rec = _job_recorder(_nvr(ctx), req.JobToken)
    cam = rec.camera
    state = rec.state
    text = {RecorderState.RECORDING: "Active", RecorderState.FAILED: "Error"}.get(state, "Idle")
    return {"State": {"RecordingToken": cam, "State": text}}


# ---------------------------------------------------------------------------------------------- search
@SEARCH.operation("GetServiceCapabilities")
def _search_caps(ctx: SoapContext, req: Any) -> dict[str, Any]:
    _nvr(ctx)
    return {"Capabilities": {"MetadataSearch": False, "GeneralStartEvents": False}}


@SEARCH.operation("GetRecordingSummary")
def _get_recording_summary(ctx: SoapContext, req: Any) -> dict[str, Any]:
    mode = _nvr(ctx)
    segs = mode.index.segments()
    return {
        "Summary": {
            "DataFrom": min((s.start for s in segs), default=_EPOCH),
            "DataUntil": max((s.end for s in segs), default=_EPOCH),
            "NumberRecordings": len(mode.index.cameras()),
        }
    }


@SEARCH.operation("GetRecordingInformation")
def _get_recording_information(ctx: SoapContext, req: Any) -> dict[str, Any]:
    mode = _nvr(ctx)
    return {"RecordingInformation": _information(ctx, mode, _token(mode, req.RecordingToken))}


def _scoped(mode: NvrMode, scope: Any) -> list[str]:
    cams = mode.index.cameras()
    wanted = list(getattr(scope, "IncludedRecordings", None) or []) if scope is not None else []
    return [c for c in cams if not wanted or c in wanted]


@SEARCH.operation("FindRecordings")
def _find_recordings(ctx: SoapContext, req: Any) -> dict[str, Any]:
    mode = _nvr(ctx)
    results = [_information(ctx, mode, cam) for cam in _scoped(mode, req.Scope)]
    if req.MaxMatches:
        results = results[: int(req.MaxMatches)]
    return {"SearchToken": mode.new_search("recordings", results, _seconds(req.KeepAliveTime))}


def _take(mode: NvrMode, token: Any, kind: str, max_results: Any) -> tuple[list[Any], str]:
    with mode.lock:
        search = mode.searches.get(str(token))
        if search is None or search.kind != kind:
            raise SoapFault(["InvalidArgVal", "InvalidToken"], f"no {kind} search {token!r}")
        count = int(max_results) if max_results else len(search.results)
        chunk = search.results[search.taken : search.taken + count]
        search.taken += len(chunk)
        done = search.taken >= len(search.results)
    return chunk, "Completed" if done else "Searching"


@SEARCH.operation("GetRecordingSearchResults")
def _get_recording_search_results(ctx: SoapContext, req: Any) -> dict[str, Any]:
    chunk, state = _take(_nvr(ctx), req.SearchToken, "recordings", req.MaxResults)
    return {"ResultList": {"SearchState": state, "RecordingInformation": chunk}}


def _event_result(name: str, camera: str, when: dt.datetime, detail: str | None) -> dict[str, Any]:
    topic, item, value = _TOPICS.get(name, (f"tns1:RecordingHistory/Event/{name}", "Name", name))
    message = etree.Element(f"{{{_TT}}}Message", nsmap={"tt": _TT})
    message.set("UtcTime", when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    message.set("PropertyOperation", "Changed")
    for tag, pairs in (("Source", [("RecordingToken", camera), ("Track", TRACK)]), ("Data", [(item, value)])):
        holder = etree.SubElement(message, f"{{{_TT}}}{tag}")
        for key, val in pairs:
            etree.SubElement(holder, f"{{{_TT}}}SimpleItem", Name=key, Value=val)
    if detail:
        holder = message.find(f"{{{_TT}}}Data")
        assert holder is not None
        etree.SubElement(holder, f"{{{_TT}}}SimpleItem", Name="Detail", Value=detail)
    return {
        "RecordingToken": camera,
        "TrackToken": TRACK,
        "Time": when,
        "Event": {"Topic": topic_expression(topic), "Message": {"_value_1": message}},
        "StartStateEvent": False,
    }


@SEARCH.operation("FindEvents")
def _find_events(ctx: SoapContext, req: Any) -> dict[str, Any]:
    mode = _nvr(ctx)
    start, end = utc(req.StartPoint), utc(req.EndPoint) if req.EndPoint else None
    backwards = end is not None and end < start
    lo, hi = (end, start) if backwards and end is not None else (start, end)
    results = []
    for cam in _scoped(mode, req.Scope):
        for ev in mode.index.events(cam, lo, hi):
            results.append(_event_result(ev.name, cam, ev.time, ev.detail))
    results.sort(key=lambda r: r["Time"], reverse=backwards)
    if req.MaxMatches:
        results = results[: int(req.MaxMatches)]
    return {"SearchToken": mode.new_search("events", results, _seconds(req.KeepAliveTime))}


@SEARCH.operation("GetEventSearchResults")
def _get_event_search_results(ctx: SoapContext, req: Any) -> dict[str, Any]:
    chunk, state = _take(_nvr(ctx), req.SearchToken, "events", req.MaxResults)
    return {"ResultList": {"SearchState": state, "Result": chunk}}


@SEARCH.operation("GetSearchState")
def _get_search_state(ctx: SoapContext, req: Any) -> dict[str, Any]:
    mode = _nvr(ctx)
    with mode.lock:
        search = mode.searches.get(str(req.SearchToken))
    if search is None:
        raise SoapFault(["InvalidArgVal", "InvalidToken"], f"no search {req.SearchToken!r}")
    return {"State": "Completed" if search.taken >= len(search.results) else "Searching"}


@SEARCH.operation("EndSearch")
def _end_search(ctx: SoapContext, req: Any) -> dict[str, Any]:
    mode = _nvr(ctx)
    with mode.lock:
        if mode.searches.pop(str(req.SearchToken), None) is None:
            raise SoapFault(["InvalidArgVal", "InvalidToken"], f"no search {req.SearchToken!r}")
    return {"Endpoint": ctx.now()}


# ---------------------------------------------------------------------------------------------- replay
@REPLAY.operation("GetServiceCapabilities")
def _replay_caps(ctx: SoapContext, req: Any) -> dict[str, Any]:
    _nvr(ctx)
    return {"Capabilities": {"ReversePlayback": False, "SessionTimeoutRange": [60.0, 60.0], "RTP_RTSP_TCP": True}}


@REPLAY.operation("GetReplayUri")
def _get_replay_uri(ctx: SoapContext, req: Any) -> dict[str, Any]:
    mode = _nvr(ctx)
    cam = _token(mode, req.RecordingToken)
    if not mode.index.segments(cam):
        raise SoapFault(["InvalidArgVal", "NoRecording"], f"recording {cam!r} holds no data yet")
    name = f"replay/{cam}"
    if name not in mode.replay.streams:
        index, root = mode.index, mode.root
        mode.replay.add_recording(name, lambda: [(root / s.path, s.start.timestamp()) for s in index.segments(cam)])
    host = ctx.config.advertised_host or ctx.camera.host
    host = f"[{host}]" if ":" in host else host
    return {"Uri": f"rtsp://{host}:{mode.replay.port}/{name}"}

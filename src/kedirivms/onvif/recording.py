"""ONVIF Profile G client: recording (``trc``), search (``tse``) and replay (``trp``) services, typed.

Use it through ``camera.recordings`` (a :class:`ProfileG`); every call goes through the camera's transport, so
time-outs, authentication and error mapping are the camera's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from typing import TYPE_CHECKING, Any, Literal

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field

from kedirivms._redact import strip_userinfo
from kedirivms.errors import ProtocolError, Timeout

if TYPE_CHECKING:
    from kedirivms.onvif.camera import Camera
    from kedirivms.stream import Stream

__all__ = [
    "ProfileG",
    "Recording",
    "RecordingEventResult",
    "RecordingInformation",
    "RecordingJob",
    "RecordingSource",
    "RecordingSummary",
    "TrackInformation",
]

_MODEL = ConfigDict(frozen=True, extra="ignore")


class RecordingSource(BaseModel):
    """Where a recording comes from (``tt:RecordingSourceInformation``)."""

    model_config = _MODEL
    source_id: str = Field("", description="SourceId, a URI naming the source")
    name: str = Field("", description="source name")
    location: str = Field("", description="source location")
    description: str = Field("", description="free text")
    address: str = Field("", description="source address (often an RTSP URI)")


class TrackInformation(BaseModel):
    """One track of a recording."""

    model_config = _MODEL
    token: str = Field(description="track token")
    type: str = Field(description="Video, Audio, Metadata or Extended")
    description: str = Field("", description="free text")
    data_from: dt.datetime | None = Field(None, description="first data in the track (search results only)")
    data_to: dt.datetime | None = Field(None, description="last data in the track (search results only)")


class Recording(BaseModel):
    """A recording as configured (GetRecordings / GetRecordingConfiguration)."""

    model_config = _MODEL
    token: str = Field(description="recording token")
    source: RecordingSource = Field(description="the recorded source")
    content: str = Field("", description="content description")
    maximum_retention: float | None = Field(None, description="MaximumRetentionTime in seconds (0 = unlimited)")
    tracks: list[TrackInformation] = Field(default_factory=list, description="tracks (GetRecordings only)")


class RecordingInformation(BaseModel):
    """What the search service knows about a recording (FindRecordings, GetRecordingInformation)."""

    model_config = _MODEL
    token: str = Field(description="recording token")
    source: RecordingSource = Field(description="the recorded source")
    earliest: dt.datetime | None = Field(None, description="EarliestRecording (UTC)")
    latest: dt.datetime | None = Field(None, description="LatestRecording (UTC)")
    content: str = Field("", description="content description")
    tracks: list[TrackInformation] = Field(default_factory=list, description="tracks with their data span")
    status: str = Field("Unknown", description="Initiated, Recording, Stopped, Removing, Removed or Unknown")


class RecordingJob(BaseModel):
    """A recording job (GetRecordingJobs)."""

    model_config = _MODEL
    token: str = Field(description="job token")
    recording_token: str = Field(description="the recording it writes")
    mode: str = Field(description="Active or Idle")
    priority: int = Field(0, description="job priority")
    sources: list[str] = Field(default_factory=list, description="source tokens (profiles or receivers)")


class RecordingSummary(BaseModel):
    """GetRecordingSummary: the span of all recorded data."""

    model_config = _MODEL
    data_from: dt.datetime = Field(description="earliest data (UTC)")
    data_until: dt.datetime = Field(description="latest data (UTC)")
    number_recordings: int = Field(description="how many recordings")


class RecordingEventResult(BaseModel):
    """One FindEvents hit."""

    model_config = _MODEL
    recording_token: str = Field(description="the recording it belongs to")
    track_token: str = Field("", description="the track it belongs to")
    time: dt.datetime = Field(description="when it happened (UTC)")
    topic: str = Field("", description="event topic, e.g. tns1:VideoSource/MotionAlarm")
    source: dict[str, str] = Field(default_factory=dict, description="Source SimpleItems (name -> value)")
    data: dict[str, str] = Field(default_factory=dict, description="Data SimpleItems (name -> value)")
    start_state: bool = Field(False, description="a state at the search start rather than a change")


def _utc(value: Any) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _source(raw: Any) -> RecordingSource:
    return RecordingSource(
        source_id=_text(getattr(raw, "SourceId", None)),
        name=_text(getattr(raw, "Name", None)),
        location=_text(getattr(raw, "Location", None)),
        description=_text(getattr(raw, "Description", None)),
        address=_text(getattr(raw, "Address", None)),
    )


def _seconds(value: Any) -> float | None:
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if value is not None and hasattr(value, "totimedelta"):
        return float(value.totimedelta(start=dt.datetime.now()).total_seconds())
    return None


def _information(raw: Any) -> RecordingInformation:
    return RecordingInformation(
        token=_text(raw.RecordingToken),
        source=_source(getattr(raw, "Source", None)),
        earliest=_utc(getattr(raw, "EarliestRecording", None)),
        latest=_utc(getattr(raw, "LatestRecording", None)),
        content=_text(getattr(raw, "Content", None)),
        tracks=[
            TrackInformation(
                token=_text(t.TrackToken),
                type=_text(t.TrackType),
                description=_text(getattr(t, "Description", None)),
                data_from=_utc(getattr(t, "DataFrom", None)),
                data_to=_utc(getattr(t, "DataTo", None)),
            )
            for t in getattr(raw, "Track", None) or []
        ],
        status=_text(getattr(raw, "RecordingStatus", None)) or "Unknown",
    )


def _simple_items(message: Any, part: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if message is None or not hasattr(message, "iter"):
        return out
    for holder in message.iter():
        if isinstance(holder.tag, str) and holder.tag.endswith("}" + part):
            for item in holder:
                if isinstance(item.tag, str) and item.get("Name") is not None:
                    out[item.get("Name")] = item.get("Value", "")
    return out


def _event(raw: Any, topic: str, message: Any) -> RecordingEventResult:
    when = _utc(getattr(raw, "Time", None))
    if when is None:
        raise ProtocolError("an event search result has no Time", operation="GetEventSearchResults")
    return RecordingEventResult(
        recording_token=_text(raw.RecordingToken),
        track_token=_text(getattr(raw, "TrackToken", None)),
        time=when,
        topic=topic,
        source=_simple_items(message, "Source"),
        data=_simple_items(message, "Data"),
        start_state=bool(getattr(raw, "StartStateEvent", False)),
    )


class ProfileG:
    """``camera.recordings``: ONVIF Profile G (recording, search, replay) of one camera or NVR.

    Args:
        camera: the :class:`~kedirivms.Camera`.

    Example:
        >>> with Camera("127.0.0.1:8080", username="admin", password=secret) as nvr:  # doctest: +SKIP
        ...     for rec in nvr.recordings.find_recordings():
        ...         print(rec.token, rec.earliest, rec.latest)
        ...     with nvr.recordings.open_replay(rec.token) as stream:
        ...         frame = stream.read(timeout=5)
    """

    def __init__(self, camera: Camera) -> None:
        self._camera = camera

    def _call(self, service: str, operation: str, **kwargs: Any) -> Any:
        return self._camera.call(service, operation, **kwargs)

    # -------------------------------------------------------------------------------------- recording
    def recordings(self) -> list[Recording]:
        """GetRecordings: every recording with its configuration and tracks."""
        out = []
        for item in self._call("recording", "GetRecordings") or []:
            cfg = item.Configuration
            tracks = getattr(getattr(item, "Tracks", None), "Track", None) or []
            out.append(
                Recording(
                    token=_text(item.RecordingToken),
                    source=_source(cfg.Source),
                    content=_text(cfg.Content),
                    maximum_retention=_seconds(cfg.MaximumRetentionTime),
                    tracks=[
                        TrackInformation(
                            token=_text(t.TrackToken),
                            type=_text(t.Configuration.TrackType),
                            description=_text(t.Configuration.Description),
                        )
                        for t in tracks
                    ],
                )
            )
        return out

    def recording_configuration(self, token: str) -> Recording:
        """GetRecordingConfiguration of recording ``token`` (tracks are not part of it)."""
        cfg = self._call("recording", "GetRecordingConfiguration", RecordingToken=token)
        return Recording(
            token=token,
            source=_source(cfg.Source),
            content=_text(cfg.Content),
            maximum_retention=_seconds(cfg.MaximumRetentionTime),
        )

    def recording_jobs(self) -> list[RecordingJob]:
        """GetRecordingJobs."""
        out = []
        for item in self._call("recording", "GetRecordingJobs") or []:
            cfg = item.JobConfiguration
            out.append(
                RecordingJob(
                    token=_text(item.JobToken),
                    recording_token=_text(cfg.RecordingToken),
                    mode=_text(cfg.Mode),
                    priority=int(cfg.Priority or 0),
                    sources=[_text(getattr(s.SourceToken, "Token", "")) for s in cfg.Source or [] if s.SourceToken],
                )
            )
        return out

    def set_recording_job_mode(self, job_token: str, mode: Literal["Active", "Idle"]) -> None:
        """SetRecordingJobMode: ``Idle`` stops the job writing, ``Active`` starts it again."""
        self._call("recording", "SetRecordingJobMode", JobToken=job_token, Mode=mode)

    def recording_job_state(self, job_token: str) -> str:
        """GetRecordingJobState: ``Idle``, ``Active``, ``PartiallyActive`` or ``Error``."""
        return _text(self._call("recording", "GetRecordingJobState", JobToken=job_token).State)

    # ----------------------------------------------------------------------------------------- search
    def summary(self) -> RecordingSummary:
        """GetRecordingSummary."""
        raw = self._call("search", "GetRecordingSummary")
        return RecordingSummary(
            data_from=_utc(raw.DataFrom), data_until=_utc(raw.DataUntil), number_recordings=raw.NumberRecordings
        )

    def recording_information(self, token: str) -> RecordingInformation:
        """GetRecordingInformation of recording ``token``."""
        return _information(self._call("search", "GetRecordingInformation", RecordingToken=token))

    def find_recordings(
        self, recordings: list[str] | None = None, *, max_matches: int | None = None, timeout: float = 10.0
    ) -> list[RecordingInformation]:
        """FindRecordings, then GetRecordingSearchResults until the search completes, then EndSearch.

        Args:
            recordings: only these recording tokens (default: all).
            max_matches: at most this many results.
            timeout: overall seconds for the search.

        Raises:
            Timeout: the search did not complete within ``timeout``.
        """
        scope = {"IncludedRecordings": recordings} if recordings else {}
        token = self._call(
            "search", "FindRecordings", Scope=scope, MaxMatches=max_matches, KeepAliveTime=dt.timedelta(seconds=30)
        )
        raw = self._collect("GetRecordingSearchResults", token, "RecordingInformation", timeout)
        return [_information(r) for r in raw]

    def find_events(
        self,
        start: dt.datetime,
        end: dt.datetime | None = None,
        *,
        recordings: list[str] | None = None,
        include_start_state: bool = False,
        max_matches: int | None = None,
        timeout: float = 10.0,
    ) -> list[RecordingEventResult]:
        """FindEvents between ``start`` and ``end`` (``end`` before ``start`` searches backwards).

        Raises:
            Timeout: the search did not complete within ``timeout``.
        """
        scope = {"IncludedRecordings": recordings} if recordings else {}
        token = self._call(
            "search",
            "FindEvents",
            StartPoint=start,
            EndPoint=end,
            Scope=scope,
            SearchFilter={},
            IncludeStartState=include_start_state,
            MaxMatches=max_matches,
            KeepAliveTime=dt.timedelta(seconds=30),
        )
        results = self._collect("GetEventSearchResults", token, "Result", timeout)
        return [_event(r, topic, message) for r, (topic, message) in results]

    def _raw_search(self, operation: str, **kwargs: Any) -> tuple[Any, list[tuple[str, Any]]]:
        """A search call that also returns each result's topic text and raw message (zeep drops mixed content)."""
        self._camera.services()  # connected, addresses known
        root, page = self._camera._transport.call("search", operation, raw=True, **kwargs)
        topics = []
        for result in root.iter():
            if not isinstance(result.tag, str) or etree.QName(result).localname != "Result":
                continue
            parts = {etree.QName(e).localname: e for e in result.iter() if isinstance(e.tag, str)}
            topic = parts.get("Topic")
            topics.append(((topic.text or "").strip() if topic is not None else "", parts.get("Message")))
        return page, topics

    def _collect(self, operation: str, token: str, field: str, timeout: float) -> list[Any]:
        out: list[Any] = []
        deadline = time.monotonic() + timeout
        try:
            while True:
                wait = dt.timedelta(seconds=max(0.1, min(1.0, deadline - time.monotonic())))
                if field == "Result":
                    page, topics = self._raw_search(operation, SearchToken=token, MaxResults=100, WaitTime=wait)
                    out.extend(zip(getattr(page, field, None) or [], topics, strict=False))
                else:
                    page = self._call("search", operation, SearchToken=token, MaxResults=100, WaitTime=wait)
                    out.extend(getattr(page, field, None) or [])
                if _text(page.SearchState) == "Completed":
                    return out
                if time.monotonic() >= deadline:
                    raise Timeout(
                        f"the search did not complete within {timeout:g} s",
                        camera=self._camera.name,
                        operation=operation,
                        hint="narrow the search or raise timeout",
                    )
        finally:
            with contextlib.suppress(ProtocolError):  # a completed search may already be gone on some devices
                self._call("search", "EndSearch", SearchToken=token)

    # ----------------------------------------------------------------------------------------- replay
    def replay_uri(self, token: str, transport: str = "tcp") -> str:
        """GetReplayUri of recording ``token`` (RTSP; ``tcp`` interleaved or ``udp``)."""
        setup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP" if transport == "tcp" else "UDP"}}
        return _text(self._call("replay", "GetReplayUri", StreamSetup=setup, RecordingToken=token))

    def open_replay(
        self, token: str, start: dt.datetime | None = None, end: dt.datetime | None = None, **kwargs: Any
    ) -> Stream:
        """Open the replay of recording ``token`` through :func:`~kedirivms.stream.open_stream` (not started).

        Args:
            token: the recording token.
            start: replay from the keyframe at or before this UTC time (default: the beginning).
            end: stop at this UTC time (default: the end of the recording).
            **kwargs: :func:`~kedirivms.stream.open_stream` keywords; ``reconnect`` defaults to False (a replay
                that ends is the end, not a disconnect).

        The camera's credentials are added to the RTSP URI (and redacted everywhere). FFmpeg cannot send the
        ONVIF ``Range: clock=`` header, so ``start``/``end`` travel as the ``starttime``/``endtime`` URI query
        parameters that many NVRs (and the virtual NVR) accept.
        """
        from kedirivms.onvif.models import StreamUri
        from kedirivms.stream import open_stream

        uri = strip_userinfo(self.replay_uri(token))
        window = {k: v for k, v in (("starttime", start), ("endtime", end)) if v is not None}
        if window:
            stamp = {k: v.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ") for k, v in window.items()}
            uri += ("&" if "?" in uri else "?") + "&".join(f"{k}={v}" for k, v in stamp.items())
        ref = StreamUri(uri=uri, transport="tcp", profile_token=token)
        t = self._camera._transport
        ref._user, ref._password = t.username, t._password
        kwargs.setdefault("reconnect", False)
        return open_stream(ref.with_credentials(), **kwargs)

"""Score the queue analyzer against footage someone annotated: per-frame people counts per zone.

A truth file (JSON, format ``kedirivms-footage-truth/1``) names the clip, its zones (normalised polygons, as in
the plugin config) and, for some frames, how many people stand in each zone, counted by eye. Optional person
tracks give queue entry and service times. :func:`evaluate_clip` decodes the clip, runs a
:class:`~kedirivms.analytics.queue.QueueAnalyzer` over every frame as a live camera would (the detector at its
own rate, the tracker in between), counts the people whose anchor is inside each zone on the annotated frames
and reports the mean absolute error; given tracks with service times, it also matches the analyzer's stays in the
service zone to them and scores their times (:class:`ServiceScore`). See ``docs/queue-accuracy.md`` for the
format and figures.

Example:
    >>> truth = FootageTruth.load("tests/data/footage/vtest.truth.json")
    >>> score = evaluate_clip("vtest.avi", truth, detector="dnn")
    >>> print(score.mae, score.frames)
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import av
import numpy as np
import supervision as sv
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kedirivms._exports import one_line
from kedirivms.analytics.queue.analyzer import QueueAnalyzer, in_zones
from kedirivms.analytics.queue.config import QueueConfig
from kedirivms.analytics.queue.service import FinishedStay
from kedirivms.analytics.queue.waits import FinishedVisit
from kedirivms.analytics.zones import Zone, Zones
from kedirivms.errors import ConfigError, DecodeError
from kedirivms.stream import Frame

__all__ = ["ClipScore", "FootageTruth", "FrameTruth", "ServiceScore", "TrackTruth", "evaluate_clip", "score_services"]


class FrameTruth(BaseModel):
    """People counted by eye on one frame."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    index: int = Field(ge=0, description="Frame number in decode order, from 0.")
    time: float | None = Field(default=None, ge=0, description="Frame time, seconds (informative).")
    counts: dict[str, int] = Field(description="People per zone name on this frame.")
    split: str | None = Field(
        default=None, description="Annotation set, e.g. 'design' or 'heldout' (frames kept apart from tuning)."
    )


class TrackTruth(BaseModel):
    """One person's visit, for wait-time truth (optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: int = Field(description="Person number.")
    queue_enter_s: float | None = Field(default=None, description="When they entered the queue zone, s.")
    service_enter_s: float | None = Field(default=None, description="When they reached the service zone, s.")
    service_end_s: float | None = Field(default=None, description="When service ended, s.")


class FootageTruth(BaseModel):
    """An annotated clip (see the module docs)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["kedirivms-footage-truth/1"] = Field(description="Format tag.")
    clip: str = Field(description="File name of the clip.")
    source: str = Field(default="", description="Where the clip comes from and its licence.")
    sha256: str | None = Field(default=None, description="Checksum of the clip the counts belong to.")
    fps: float | None = Field(default=None, gt=0, description="Frame rate, when the container does not say.")
    size: tuple[int, int] | None = Field(default=None, description="(width, height), informative.")
    annotator: str = Field(default="", description="Who counted, and when.")
    rule: str = Field(default="", description="What counted as a person.")
    zones: tuple[Zone, ...] = Field(min_length=1, description="Zones the counts refer to.")
    frames: tuple[FrameTruth, ...] = Field(min_length=1, description="Annotated frames.")
    tracks: tuple[TrackTruth, ...] = Field(default=(), description="Optional person visits.")

    @classmethod
    def load(cls, path: str | Path) -> FootageTruth:
        """Read and validate a truth file.

        Raises:
            ConfigError: the file is missing, not JSON, or not in this format.
        """
        try:
            return cls.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            detail = one_line(exc) if isinstance(exc, ValidationError) else str(exc)
            raise ConfigError(f"cannot read footage truth {path}: {detail}", operation="footage truth") from exc


@dataclass
class ServiceScore:
    """How the analyzer timed the services of the truth's person tracks (those with both service times).

    A measured stay in the service zone is matched to the true visit it overlaps most in time (one to one).

    Attributes:
        truth: true services; ``measured``: stays the analyzer reported; ``matched``: pairs found.
        rows: ``(track id, true start, true end, measured start, measured end)`` per match, seconds.
        duration_error_pct: mean of ``|measured - true| / true`` service time over the matches, percent.
        start_error_s: median ``|measured - true|`` start time over the matches, seconds.
    """

    truth: int
    measured: int
    matched: int
    rows: list[tuple[int, float, float, float, float]] = field(default_factory=list)
    duration_error_pct: float = float("nan")
    start_error_s: float = float("nan")

    @property
    def missed(self) -> int:
        """True services with no measured stay."""
        return self.truth - self.matched

    @property
    def false(self) -> int:
        """Measured stays with no true service."""
        return self.measured - self.matched


@dataclass
class ClipScore:
    """How the analyzer counted on the annotated frames.

    Attributes:
        detector: the detector that ran (``dnn`` or ``background``).
        frames: annotated frames scored.
        mae: mean absolute error of the per-frame count, people (all zones pooled).
        bias: mean signed error (positive: too many people).
        per_frame: ``(index, zone, truth, counted)`` rows.
        seconds: wall time of the whole run; ``decoded``: frames analysed.
        services: service times against the truth's tracks (``None`` when it has no service times).
        lengths: the analyzer's queue length on every decoded frame (:attr:`FrameResult.queue_length`).
        visits: every wait in line it finished, in order; ``stays``: every stay in the service zone it reported
            (the clip's end closes those still open).
        desk_zone_share: the view survey's figure at the clip's end (:class:`~.view_check.ViewSurvey`), ``None``
            without a service zone or with too few people seen there; ``view_findings``: the codes it named.
    """

    detector: str
    frames: int
    mae: float
    bias: float
    per_frame: list[tuple[int, str, int, int]] = field(default_factory=list)
    seconds: float = 0.0
    decoded: int = 0
    services: ServiceScore | None = None
    lengths: list[int] = field(default_factory=list)
    visits: list[FinishedVisit] = field(default_factory=list)
    stays: list[FinishedStay] = field(default_factory=list)
    desk_zone_share: float | None = None
    view_findings: list[str] = field(default_factory=list)


def score_services(truth: FootageTruth, stays: list[FinishedStay], end_s: float | None = None) -> ServiceScore:
    """Match measured stays to the truth's services by overlap in time and score their times.

    With ``end_s`` (the last frame analysed, seconds), a true service still going on then counts too, ending there,
    as the analyzer's open stays end there when it is flushed; without it only services with both times count.
    """
    true: list[tuple[int, float, float]] = []
    for tr in truth.tracks:
        ends = tr.service_end_s
        if end_s is not None:
            ends = end_s if ends is None else min(ends, end_s)
        if tr.service_enter_s is not None and ends is not None and tr.service_enter_s < ends:
            true.append((tr.id, tr.service_enter_s, ends))
    measured = [(s.end - s.service_s, s.end) for s in stays]
    pairs = sorted(
        (
            (min(end, m_end) - max(start, m_start), i, j)
            for i, (_, start, end) in enumerate(true)
            for j, (m_start, m_end) in enumerate(measured)
            if min(end, m_end) > max(start, m_start)
        ),
        reverse=True,
    )
    used_t: set[int] = set()
    used_m: set[int] = set()
    rows = []
    for _, i, j in pairs:
        if i in used_t or j in used_m:
            continue
        used_t.add(i)
        used_m.add(j)
        rows.append((true[i][0], true[i][1], true[i][2], measured[j][0], measured[j][1]))
    rows.sort()
    dur = [abs((m_end - m_start) - (end - start)) / (end - start) for _, start, end, m_start, m_end in rows]
    starts = [abs(m_start - start) for _, start, _, m_start, _ in rows]
    return ServiceScore(
        truth=len(true),
        measured=len(measured),
        matched=len(rows),
        rows=rows,
        duration_error_pct=100.0 * float(np.mean(dur)) if dur else float("nan"),
        start_error_s=float(np.median(starts)) if starts else float("nan"),
    )


def count_in_zones(detections: sv.Detections, zones: Zones, wh: tuple[int, int], anchor: sv.Position) -> dict[str, int]:
    """People per zone: detections whose anchor point is inside each zone's polygon (boxes clipped to the picture,
    so that a zone drawn up to the picture's edge holds the people that edge cuts, as the analyzer counts them)."""
    return {zone.name: int(in_zones([zone.polygon_zone(wh, anchor)], detections, wh).sum()) for zone in zones.zones}


def evaluate_clip(
    clip: str | Path,
    truth: FootageTruth,
    *,
    detector: Literal["auto", "dnn", "background"] = "auto",
    config: dict[str, Any] | None = None,
    end_s: float | None = None,
) -> ClipScore:
    """Run the analyzer over a clip and score its counts on the annotated frames.

    Args:
        clip: the video file.
        truth: its annotation.
        detector: which detector to run.
        config: extra :class:`QueueConfig` fields (e.g. ``{"dnn": {"rate_hz": 10}}``); zones come from ``truth``.
        end_s: stop decoding after this clip time, seconds (default: after the last annotated frame, or at the
            clip's end when the truth times services; ``math.inf``: at the clip's end). Truth past it is left out
            of the score.

    Returns:
        The :class:`ClipScore`.

    Raises:
        ConfigError: the config does not validate.
        DecodeError: the clip cannot be decoded.
    """
    zones = Zones(zones=truth.zones)
    try:
        cfg = QueueConfig.model_validate(
            {
                "zones": [z.model_dump() for z in truth.zones] + [_QUEUE_ZONE] * (not zones.of_kind("queue")),
                "detector": detector,
                "anchor": "bottom_center",
                "unstaffed": {"enabled": False},
                "pile_up": {"enabled": False},
                **(config or {}),
            }
        )
    except ValidationError as exc:
        raise ConfigError(f"bad evaluation config: {one_line(exc)}", operation="evaluate clip") from exc
    if end_s is not None:
        truth = truth.model_copy(
            update={
                "frames": tuple(f for f in truth.frames if f.index / (truth.fps or 10.0) <= end_s),
                # (a service still going on at end_s counts, ending there, as the analyzer's last stay does)
                "tracks": tuple(tr for tr in truth.tracks if (tr.service_enter_s or 0.0) < end_s),
            }
        )
        if not truth.frames:
            raise ConfigError(f"no annotated frame before {end_s:g} s", operation="evaluate clip")
    timed = any(tr.service_enter_s is not None for tr in truth.tracks)
    if timed and not zones.of_kind("service"):
        raise ConfigError("the truth times services but has no service zone", operation="evaluate clip")
    analyzer = QueueAnalyzer(cfg)
    wanted = {f.index: f for f in truth.frames}
    rows: list[tuple[int, str, int, int]] = []
    stays: list[FinishedStay] = []
    visits: list[FinishedVisit] = []
    lengths: list[int] = []
    start = time.perf_counter()
    decoded = 0
    try:
        with av.open(str(clip)) as container:
            stream = container.streams.video[0]
            fps = float(stream.average_rate or truth.fps or 10.0)
            for index, av_frame in enumerate(container.decode(stream)):
                t = index / fps
                frame = Frame(av_frame, time=t, index=index)
                analyzer.update(frame.y, t, frame=frame)
                decoded += 1
                assert analyzer.last is not None
                stays += analyzer.last.services
                visits += analyzer.last.visits
                lengths.append(analyzer.last.queue_length)
                if index in wanted:
                    got = count_in_zones(
                        analyzer.last.detections, zones, (frame.width, frame.height), sv.Position.BOTTOM_CENTER
                    )
                    for name, expected in wanted[index].counts.items():
                        rows.append((index, name, expected, got.get(name, 0)))
                if end_s is None and not timed and index >= max(wanted):
                    break  # services are timed to the clip's end
                if end_s is not None and t >= end_s:
                    break
    except av.FFmpegError as exc:
        raise DecodeError(f"cannot decode {clip}: {exc}", operation="evaluate clip") from exc
    last_t = (decoded - 1) / fps if decoded else 0.0  # (the last frame analysed)
    if analyzer.last is not None:  # the clip's end: stays still open end there
        before = len(analyzer.last.services)
        analyzer.flush()
        stays += analyzer.last.services[before:]
    errors = np.array([c - e for _, _, e, c in rows], dtype=np.float64)
    return ClipScore(
        detector=cfg.detector_kind,
        frames=len({r[0] for r in rows}),
        mae=float(np.abs(errors).mean()) if len(errors) else float("nan"),
        bias=float(errors.mean()) if len(errors) else float("nan"),
        per_frame=rows,
        seconds=time.perf_counter() - start,
        decoded=decoded,
        services=score_services(truth, stays, end_s=last_t) if timed else None,
        lengths=lengths,
        visits=visits,
        stays=stays,
        desk_zone_share=analyzer.view_survey.desk_zone_share if analyzer.view_survey is not None else None,
        view_findings=[f.code for f in analyzer.view_findings],
    )


# QueueConfig needs a queue zone; a truth file may annotate only other kinds
_QUEUE_ZONE = {"name": "_all", "kind": "queue", "points": [[0, 0], [1, 0], [1, 1], [0, 1]]}

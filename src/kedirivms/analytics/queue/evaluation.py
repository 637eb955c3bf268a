"""Score the queue analyzer against footage someone annotated: per-frame people counts per zone.

A truth file (JSON, format ``kedirivms-footage-truth/1``) names the clip, its zones (normalised polygons, as in
the plugin config) and, for some frames, how many people stand in each zone, counted by eye. Optional person
tracks give queue entry and service times. :func:`evaluate_clip` decodes the clip, runs a
:class:`~kedirivms.analytics.queue.QueueAnalyzer` over every frame as a live camera would (the detector at its
own rate, the tracker in between), counts the people whose anchor is inside each zone on the annotated frames
and reports the mean absolute error. See ``docs/queue-analytics.md`` for the format and figures.

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
from kedirivms.analytics.queue.analyzer import QueueAnalyzer, QueueConfig
from kedirivms.analytics.zones import Zone, Zones
from kedirivms.errors import ConfigError, DecodeError
from kedirivms.stream import Frame

__all__ = ["ClipScore", "FootageTruth", "FrameTruth", "TrackTruth", "evaluate_clip"]


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
class ClipScore:
    """How the analyzer counted on the annotated frames.

    Attributes:
        detector: the detector that ran (``dnn`` or ``background``).
        frames: annotated frames scored.
        mae: mean absolute error of the per-frame count, people (all zones pooled).
        bias: mean signed error (positive: too many people).
        per_frame: ``(index, zone, truth, counted)`` rows.
        seconds: wall time of the whole run; ``decoded``: frames analysed.
    """

    detector: str
    frames: int
    mae: float
    bias: float
    per_frame: list[tuple[int, str, int, int]] = field(default_factory=list)
    seconds: float = 0.0
    decoded: int = 0


def count_in_zones(detections: sv.Detections, zones: Zones, wh: tuple[int, int], anchor: sv.Position) -> dict[str, int]:
    """People per zone: detections whose anchor point is inside each zone's polygon."""
    out = {}
    for zone in zones.zones:
        out[zone.name] = int(zone.polygon_zone(wh, anchor).trigger(detections).sum()) if len(detections) else 0
    return out


def evaluate_clip(
    clip: str | Path,
    truth: FootageTruth,
    *,
    detector: Literal["auto", "dnn", "background"] = "auto",
    config: dict[str, Any] | None = None,
) -> ClipScore:
    """Run the analyzer over a clip and score its counts on the annotated frames.

    Args:
        clip: the video file.
        truth: its annotation.
        detector: which detector to run.
        config: extra :class:`QueueConfig` fields (e.g. ``{"dnn": {"rate_hz": 10}}``); zones come from ``truth``.

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
    analyzer = QueueAnalyzer(cfg)
    wanted = {f.index: f for f in truth.frames}
    rows: list[tuple[int, str, int, int]] = []
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
                if index in wanted:
                    assert analyzer.last is not None
                    got = count_in_zones(
                        analyzer.last.detections, zones, (frame.width, frame.height), sv.Position.BOTTOM_CENTER
                    )
                    for name, expected in wanted[index].counts.items():
                        rows.append((index, name, expected, got.get(name, 0)))
                if index >= max(wanted):
                    break
    except av.FFmpegError as exc:
        raise DecodeError(f"cannot decode {clip}: {exc}", operation="evaluate clip") from exc
    errors = np.array([c - e for _, _, e, c in rows], dtype=np.float64)
    return ClipScore(
        detector=cfg.detector_kind,
        frames=len({r[0] for r in rows}),
        mae=float(np.abs(errors).mean()) if len(errors) else float("nan"),
        bias=float(errors.mean()) if len(errors) else float("nan"),
        per_frame=rows,
        seconds=time.perf_counter() - start,
        decoded=decoded,
    )


# QueueConfig needs a queue zone; a truth file may annotate only other kinds
_QUEUE_ZONE = {"name": "_all", "kind": "queue", "points": [[0, 0], [1, 0], [1, 1], [0, 1]]}

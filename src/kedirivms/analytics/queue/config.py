"""The queue analyzer's settings: :class:`QueueConfig` for one camera, with its DNN detector and tracking parts.

Frozen pydantic models that reject unknown keys (the ``queue`` plugin's per-camera ``config``);
:func:`dnn_available` decides which detector ``detector: auto`` runs.
"""

from __future__ import annotations

import importlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kedirivms.analytics.queue.alerts import PileUpConfig, StalledConfig, UnstaffedConfig
from kedirivms.analytics.queue.detector import BackgroundDetectorConfig
from kedirivms.analytics.queue.motion_gate import MotionGateConfig
from kedirivms.analytics.zones import Zones

__all__ = ["DnnDetectorConfig", "QueueConfig", "TrackingConfig", "dnn_available"]


class DnnDetectorConfig(BaseModel):
    """The DNN person detector (onnxruntime; ``pip install "kedirivms[detect]"``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = Field(
        default=None, description="Path of an ONNX detector; default: the shipped YOLOX-Nano (COCO, Apache-2.0)."
    )
    layout: Literal["auto", "yolox", "yolov8", "yolov5", "nms"] = Field(
        default="auto", description="Output layout of the model (auto: guessed from its output shape)."
    )
    confidence: float = Field(default=0.35, gt=0, lt=1, description="Least person score kept.")
    nms_iou: float = Field(default=0.45, gt=0, le=1, description="Overlap above which the weaker box is dropped.")
    person_class: int = Field(default=0, ge=0, description="Index of the person class (0 in COCO).")
    input_size: tuple[int, int] | None = Field(
        default=None, description="(width, height) the picture is fitted within; default: the model's own (416x416)."
    )
    trim_padding: bool = Field(
        default=True,
        description="Feed the model only the letterboxed picture (rounded up to a multiple of 32), not a square, "
        "when the model takes any size (the shipped one does): 640x360 runs at 416x256, 0.6x the work.",
    )
    crop_to_zones: bool = Field(
        default=True,
        description="Feed the model only the zones' bounding box (plus crop_margin), with as many model pixels "
        "as the whole picture would get: people in the zones are seen larger at the same cost. Nobody outside "
        "it is detected.",
    )
    crop_margin: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="Margin round the zones' bounding box, fraction of the picture's width and height (heads "
        "above a zone, people walking up to it).",
    )
    line_pass: Literal["off", "auto", "always"] = Field(
        default="off",
        description="A second model pass on the queue zone's own crop at line_pass_scale, whose people replace "
        "the first pass's in the zone (people standing close together in a line are told apart): auto = when "
        "the first pass finds line_pass_min_people there and no other camera waits for the model; always; off.",
    )
    line_pass_scale: float = Field(
        default=1.0, ge=0.1, le=4, description="Model pixels per camera pixel in the line pass's crop."
    )
    line_pass_min_people: int = Field(
        default=1, ge=0, le=1000, description="People in the queue zone that make auto run the line pass."
    )
    second_look: Literal["off", "auto", "always"] = Field(
        default="auto",
        description="Where non-maximum suppression removed a confident box beside the one it kept in the queue zone "
        "(people close behind one another), run the model again on that spot magnified by second_look_magnify; "
        "the people it adds there count in the queue zone (see tracking.second_look_confirm), never as tracks, "
        "waits or services: auto = while no other camera waits for the model; always; off.",
    )
    second_look_magnify: float = Field(
        default=2.0, ge=1, le=4, description="Model pixels per camera pixel of the second look, times the first's."
    )
    second_look_weak: float = Field(
        default=0.01,
        ge=0,
        lt=1,
        description="The second look also runs where the model gave a box scored under `confidence` but at least "
        "this, standing in the queue zone, that NMS would have kept beside every confident box (someone half "
        "hidden between two people in the line, scored low at the first look's size), strongest first, as long "
        "as the windows' budget lasts; 0.01 (the default) takes every box the model draws there, 0: off.",
    )
    second_look_wide: float = Field(
        default=0.0,
        ge=0,
        le=10,
        description="The second look also runs on a box the first look kept in the queue zone whose width over height "
        "is at least this many times the median of the picture's other boxes' (one box drawn round two people in "
        "a line); the people it adds there count as those of second_look do (the box stays); 0: off (measured: "
        "one development scene better, two a little worse; see docs/queue-accuracy.md, fourteenth session).",
    )
    second_look_straddle: bool = Field(
        default=True,
        description="The second look also runs on a box the first look kept in the queue zone whose centre lies "
        "inside two other kept boxes (a box drawn over the gap between two people in a line), and drops it when "
        "the magnified window finds both those people and nobody of its own (not when a box was passed on at about its "
        "place on one of the last two detections, nor when it was dropped there on each of the last four); false: off.",
    )
    motion_look: Literal["off", "auto", "always"] = Field(
        default="auto",
        description="Where the picture changed since the last detection and nobody's box explains it (a person too "
        "small for the model at the camera's scale), look there again magnified by motion_look_magnify and count "
        "the people found as detections: auto = while no other camera waits for the model; always; off.",
    )
    motion_look_magnify: float = Field(
        default=2.0, ge=1, le=4, description="Model pixels per camera pixel of the closer look, times the first's."
    )
    rate_hz: float = Field(
        default=2.0, gt=0, le=60, description="Detections per second; the tracker carries people in between."
    )
    providers: tuple[str, ...] = Field(
        default=("CPUExecutionProvider",), min_length=1, description="onnxruntime execution providers."
    )
    threads: int = Field(
        default=1, ge=1, le=64, description="onnxruntime threads for the process-wide model (shared by cameras)."
    )
    parallel: int = Field(
        default=2,
        ge=1,
        le=16,
        description="Batches the process-wide model runs at once (each on `threads` threads): with 2, a second "
        "batch runs on the other core while one runs.",
    )
    motion_gate: MotionGateConfig = Field(
        default_factory=MotionGateConfig, description="Count detections only once seen moving (signs, posters)."
    )

    @field_validator("second_look_wide")
    @classmethod
    def _wide_ratio(cls, value: float) -> float:
        if 0 < value < 1:
            raise ValueError("second_look_wide is 0 (off) or a ratio of at least 1")
        return value


def dnn_available() -> bool:
    """Whether the DNN detector can run here (onnxruntime imports)."""
    try:
        importlib.import_module("onnxruntime")
    except ImportError:
        return False
    return True


class TrackingConfig(BaseModel):
    """Tracker and visit-linking settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lost_track_s: float = Field(default=2.0, gt=0, description="How long ByteTrack keeps a lost track, seconds.")
    match_iou: float = Field(default=0.1, gt=0, lt=1, description="Least box overlap (IoU) to match a track.")
    box_scale: float = Field(
        default=2.0,
        ge=1.0,
        le=4.0,
        description="Boxes are enlarged this much about their centre for matching, so small, fast-moving people "
        "still overlap their previous box at low frame rates.",
    )
    coast_s: float = Field(
        default=1.0,
        ge=0,
        description="A person the detector misses stays counted at their last box this long, s (occlusions, "
        "a missed detection between two hits).",
    )
    hidden_s: float = Field(
        default=30.0,
        ge=0,
        description="... and this long while someone seen covers their box (hidden behind the person in front), s.",
    )
    zone_hold: float = Field(
        default=0.1,
        ge=0,
        description="A move between the queue and the service zone counts once the person's anchor (and, but for "
        "someone leaving the service zone while another holds the spot, their box's top) is this far from where "
        "they were placed, fraction of their box height (0: off). Boxes jitter at their foot edge where "
        "neighbours overlap: the one served would be counted in the line again, the next in line served.",
    )
    feet_from_height: bool = Field(
        default=True,
        description="With the bottom_center anchor: a box whose bottom edge lies inside a lower box (legs hidden by "
        "the person in front) is placed by its person's usual box height, not by its cut-off bottom edge.",
    )
    second_look_confirm: int = Field(
        default=2,
        ge=1,
        le=10,
        description="A person only the second look found (dnn.second_look) counts in the queue zone once found on "
        "this many of the last second_look_window detections at about the same place; they never start a track, "
        "a wait or a service.",
    )
    second_look_window: int = Field(
        default=3,
        ge=1,
        le=10,
        description="... of this many detections, this one included (the second look finds someone hidden on some "
        "detections only; equal to second_look_confirm: on that many detections in a row).",
    )
    second_look_inside: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="... and not when at least this share of their box lies inside a box of the first look "
        "(1: only when wholly inside; while the line is tight, see line_pitch, a first-look box at least twice as wide "
        "as theirs is one box for two: they count).",
    )
    line_pitch: float = Field(
        default=0.3,
        ge=0,
        description="A tight line (people standing this close or closer, fraction of their box height, neighbour to "
        "neighbour on the floor) hides people: a gap of two or more of its steps between two people standing "
        "still, behind someone seen, counts the steps missing, and so do the steps between the one served and the "
        "first in line beyond their usual distance; a box cut off beside a taller one on its row reaches down to "
        "the feet (0: off; only the count changes).",
    )
    line_pitch_window_s: float = Field(
        default=120.0, gt=0, description="... the line's step is learnt from the neighbours seen over this long, s."
    )
    line_gaps_seen: bool = Field(
        default=True,
        description="... and a gap counts only between two neighbours both boxed by the detector on that detection "
        "(false: also next to someone only tracked or kept as hidden there).",
    )
    reentry_grace_s: float = Field(default=3.0, ge=0, description="Out of the line this long is still one visit.")
    relink_s: float = Field(default=4.0, ge=0, description="A lost visit may pass to a new track within this, s.")
    relink_distance: float = Field(
        default=0.12, ge=0, description="... and this close to where it was lost, fraction of picture height."
    )

    @model_validator(mode="after")
    def _confirm_within_window(self) -> TrackingConfig:
        if self.second_look_confirm > self.second_look_window:
            raise ValueError(
                f"second_look_confirm {self.second_look_confirm} is more than second_look_window "
                f"{self.second_look_window}: nobody the second look finds could count"
            )
        return self


class QueueConfig(BaseModel):
    """Everything the queue analyzer needs for one camera.

    Example:
        >>> cfg = QueueConfig(zones=Zones(zones=scene.zones()), pile_up=PileUpConfig(threshold=5))
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    zones: Zones = Field(description="The camera's zones: one 'queue' zone required; 'service', 'counter'.")
    interval_s: float = Field(default=10.0, gt=0, description="Length of a queue_stats interval, seconds.")
    smoothing_s: float = Field(
        default=1.0, ge=0, description="Median window over the per-frame counts that the alerts use, seconds."
    )
    anchor: Literal["center", "bottom_center"] = Field(
        default="center", description="Box point tested against zones (bottom_center for oblique views)."
    )
    detector: Literal["auto", "dnn", "background"] = Field(
        default="auto", description="Person detector: dnn, background, or auto (dnn when onnxruntime is installed)."
    )
    line_count: Literal["auto", "seen", "ledger"] = Field(
        default="auto",
        description="How queue_length counts the line: 'seen', the people seen in the queue zone on each frame; "
        "'ledger', the people who joined the line and have neither reached the service zone nor been seen walking "
        "out of it (one line served in order; someone hidden behind the person in front still counts); 'auto', "
        "the ledger when the camera has a service zone (seen where the view survey names the desk zone thin: "
        "arrivals at the desk, which keep the ledger, are unreliable there), else seen.",
    )
    dnn: DnnDetectorConfig = Field(default_factory=DnnDetectorConfig, description="DNN detector settings.")
    background: BackgroundDetectorConfig = Field(
        default_factory=BackgroundDetectorConfig, description="CPU background detector settings (the fallback)."
    )
    tracking: TrackingConfig = Field(default_factory=TrackingConfig, description="Tracker settings.")
    pile_up: PileUpConfig = Field(default_factory=PileUpConfig, description="pile_up alert rule.")
    unstaffed: UnstaffedConfig = Field(default_factory=UnstaffedConfig, description="counter_unstaffed rule.")
    stalled: StalledConfig = Field(default_factory=StalledConfig, description="counter_stalled rule.")

    @model_validator(mode="before")
    @classmethod
    def _legacy_detector(cls, value: Any) -> Any:
        # 0.1 files: `detector: {background tuning}` and `onnx_model: path`
        if isinstance(value, dict):
            value = dict(value)
            if isinstance(value.get("detector"), dict | BackgroundDetectorConfig):
                value["background"] = value.pop("detector")
                value.setdefault("detector", "background")
            if "onnx_model" in value:
                path = value.pop("onnx_model")
                if path:
                    dnn = dict(value.get("dnn") or {})
                    dnn["model"] = path
                    value["dnn"] = dnn
                    value["detector"] = "dnn"
        return value

    @property
    def detector_kind(self) -> Literal["dnn", "background"]:
        """The detector that runs: ``auto`` resolved against what is installed."""
        if self.detector == "auto":
            return "dnn" if dnn_available() else "background"
        return self.detector

    @field_validator("zones", mode="before")
    @classmethod
    def _zone_list(cls, value: Any) -> Any:
        # YAML writes `zones: [...]`; accept a bare list as well as {"zones": [...]}
        if isinstance(value, list | tuple):
            return {"zones": list(value)}
        return value

    @model_validator(mode="after")
    def _needs_queue_zone(self) -> QueueConfig:
        if not self.zones.of_kind("queue"):
            raise ValueError("the queue plugin needs a zone of kind 'queue'")
        if self.unstaffed.enabled and not self.zones.of_kind("counter"):
            raise ValueError("counter_unstaffed needs a zone of kind 'counter' (or set unstaffed.enabled: false)")
        if self.line_count == "ledger" and not self.zones.of_kind("service"):
            raise ValueError("line_count 'ledger' needs a zone of kind 'service' (where the line is served)")
        asked = self.stalled.enabled and "enabled" in self.stalled.model_fields_set
        if asked and not (self.zones.of_kind("counter") and self.zones.of_kind("service")):
            raise ValueError("counter_stalled needs zones of kind 'counter' and 'service' (or stalled.enabled: false)")
        return self

    @property
    def stalled_active(self) -> bool:
        """Whether the counter_stalled rule runs (enabled, with counter and service zones)."""
        return self.stalled.enabled and bool(self.zones.of_kind("counter")) and bool(self.zones.of_kind("service"))

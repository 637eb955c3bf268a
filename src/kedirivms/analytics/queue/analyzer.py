"""The queue analyzer: detector -> ByteTrack -> zones -> metrics and alerts, usable without any plugin host.

Per frame it counts the people whose box anchor is in the ``queue`` zone, tracks them with the ``trackers``
package's :class:`~trackers.ByteTrackTracker` to time each wait and each service, and watches the ``counter``
zone for the clerk. The person detector is a DNN (the shipped YOLOX-Nano through onnxruntime, run ``rate_hz``
times a second, the tracker carrying people between detections) when ``kedirivms[detect]`` is installed, else the
CPU background detector on every frame (``detector: auto | dnn | background``). Every ``interval_s`` it emits a
``queue_stats`` record and, with a ``service`` zone, a ``service_stats_hourly`` record each clock hour; alerts
come as ``pile_up`` / ``pile_up_cleared``, ``counter_unstaffed`` / ``counter_staffed`` and ``counter_stalled`` /
``counter_resumed``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import sys
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import supervision as sv
from pydantic import JsonValue

from kedirivms.analytics.queue.alerts import Hysteresis
from kedirivms.analytics.queue.boxes import (
    at_edge,
    covered,
    front_shares,
    inside_shares,
    overlaps_any,
    select,
    spanning,
    stands_on,
)
from kedirivms.analytics.queue.config import DnnDetectorConfig, QueueConfig, TrackingConfig
from kedirivms.analytics.queue.detector import BackgroundDetector, PersonDetector, empty_detections, person_detections
from kedirivms.analytics.queue.feet import FootEstimator, feet_behind, feet_beside
from kedirivms.analytics.queue.identity import IdentityStitcher, appearance
from kedirivms.analytics.queue.line_gaps import LineGaps
from kedirivms.analytics.queue.motion_gate import MotionGate
from kedirivms.analytics.queue.second_look import EXTRA, extra_mask
from kedirivms.analytics.queue.service import FinishedStay, ServiceTracker
from kedirivms.analytics.queue.stats import HourlyServiceStats, IntervalStats
from kedirivms.analytics.queue.view_check import ViewFinding, ViewSurvey
from kedirivms.analytics.queue.waits import FinishedVisit, WaitTracker
from kedirivms.analytics.zones import Zones

_log = logging.getLogger("kedirivms.analytics.queue")

__all__ = ["DnnDetectorConfig", "FrameResult", "QueueAnalyzer", "QueueConfig", "QueueEvent", "TrackingConfig"]


@dataclass(frozen=True)
class QueueEvent:
    """An analyzer finding, host-neutral (the plugin turns it into an :class:`~kedirivms.analytics.Event`).

    Attributes:
        kind: ``queue_stats``, ``service_stats_hourly``, ``pile_up``, ``pile_up_cleared``, ``counter_unstaffed``,
            ``counter_staffed``, ``counter_stalled``, ``counter_resumed`` or ``view_warning`` (once per finding about
            the camera's view, see :attr:`QueueAnalyzer.view_findings`).
        time: when, seconds (the frame time it was decided on).
        zone: the zone concerned.
        data: JSON-compatible details.
    """

    kind: str
    time: float
    zone: str
    data: dict[str, JsonValue] = field(default_factory=dict)


@dataclass(frozen=True)
class FrameResult:
    """What the analyzer saw on the last frame.

    Attributes:
        time: frame time, seconds.
        queue_length: people in line on this frame: ``seen_length``, or with ``line_count`` ``ledger`` (the
            default where the camera has a service zone) everyone who joined the line and has not reached the
            service zone nor been seen walking out (:meth:`WaitTracker.waiting`); with ``auto`` where the view
            survey names the desk zone thin, ``seen_length``.
        smoothed_length: median length over ``smoothing_s`` (what ``pile_up`` uses).
        staffed: someone is in the counter zone (smoothed); ``None`` without a counter zone.
        detections: this frame's tracked people (``supervision.Detections`` with ``tracker_id``).
        services: the stays in the service zone that ended on this frame (each from reaching the zone to the last
            moment in it; stays shorter than a service are left out), in the order they ended.
        visits: the waits in line that ended on this frame (served: the person reached the desk; or abandoned), in
            the order they ended: what ``queue_stats`` sums up per interval, one person at a time.
        seen_length: people seen in the queue zone on this frame (a box spanning two others, the head of one and
            the feet of the other, is not counted: :func:`~kedirivms.analytics.queue.boxes.spanning`; people hidden
            in a tight line's gaps and at its front are: ``tracking.line_pitch``).
    """

    time: float
    queue_length: int
    smoothed_length: int
    staffed: bool | None
    detections: Any
    services: tuple[FinishedStay, ...] = ()
    seen_length: int = 0
    visits: tuple[FinishedVisit, ...] = ()


class _ZoneSet:
    """PolygonZones of the configured zones at one resolution."""

    def __init__(self, zones: Zones, wh: tuple[int, int], anchor: sv.Position) -> None:
        self.wh = wh
        self.queue = [z.polygon_zone(wh, anchor) for z in zones.of_kind("queue")]
        self.service = [z.polygon_zone(wh, anchor) for z in zones.of_kind("service")]
        self.counter = [z.polygon_zone(wh, anchor) for z in zones.of_kind("counter")]

    def test(self, polys: list[Any], det: sv.Detections) -> np.ndarray:
        return in_zones(polys, det, self.wh)


def in_zones(zones: Sequence[sv.PolygonZone], det: sv.Detections, wh: tuple[int, int]) -> np.ndarray:
    """``(N,)`` bool: which detections' anchors lie in any of ``zones`` (polygons at ``wh``'s resolution).

    Boxes are clipped to the picture first: feet placed below a box the picture's edge cuts end outside the
    picture, yet that person stands at the edge, in a zone drawn up to it (a box ending on the edge itself is in
    such a zone anyway, see :meth:`~kedirivms.analytics.zones.Zone.polygon_zone`).
    """
    hit = np.zeros(len(det), dtype=bool)
    if not len(det):
        return hit
    w, h = wh
    clipped = sv.Detections(xyxy=np.clip(np.asarray(det.xyxy, dtype=np.float32), 0.0, [w - 1, h - 1, w - 1, h - 1]))
    for zone in zones:
        hit |= zone.trigger(clipped)
    return hit


@dataclass(frozen=True)
class _Look:
    """Where the people of one detection stand: the zone tests that every frame holding it shares."""

    tracked: sv.Detections  # the detection (identity: a new detection is a new object)
    ids: np.ndarray  # track ids of the people seen (coasted boxes left out)
    centres: np.ndarray  # their anchors, (N, 2) pixels
    heads: np.ndarray  # the top centres of their boxes, (N, 2) pixels
    in_queue: np.ndarray  # (N,) bool
    in_service: np.ndarray  # (N,) bool
    length: int  # people in the queue zone, coasted ones included
    staffed: bool  # someone in the counter zone
    untracked: int = 0  # people counted in the queue zone (not the service zone) with no track (the second look's)
    at_counter: np.ndarray | None = None  # (N,) bool, in the counter zone (None: no counter zone)


_SAME_BOX = 0.8  # IoU of two boxes of one person (a kept box and the same person's box seen under another id)


def _dnn_types() -> tuple[type, ...]:
    if "kedirivms.analytics.queue.onnx" not in sys.modules:
        return ()
    from kedirivms.analytics.queue.onnx import OnnxPersonDetector

    return (OnnxPersonDetector,)


def zones_region(zones: Zones, margin: float) -> tuple[float, float, float, float]:
    """The bounding box of all ``zones`` plus ``margin`` on every side, fractions of the picture ``(x0, y0, x1, y1)``.

    Args:
        zones: the camera's zones (normalised polygons).
        margin: added on every side, fraction of the picture's width (left, right) and height (top, bottom).
    """
    pts = np.concatenate([np.asarray(z.points, dtype=np.float64) for z in zones.zones])
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    return (
        float(max(0.0, x0 - margin)),
        float(max(0.0, y0 - margin)),
        float(min(1.0, x1 + margin)),
        float(min(1.0, y1 + margin)),
    )


def next_detection(due: float, t: float, period: float) -> float:
    """When the detection after one made at frame time ``t``, due at ``due``, is due (frame time, seconds).

    The schedule keeps its phase: a detection that comes late (its camera's thread waited for the shared model
    while other cameras' pictures ran, and dropped frames meanwhile) does not push the following ones back, so a
    camera keeps its rate as long as each detection comes within a period of its slot. Slots missed entirely are
    skipped, not caught up in a burst. The first detection (``due`` is -inf), or a frame clock that stepped back,
    starts the schedule half a period after ``t``.
    """
    late = t - due
    if not math.isfinite(late) or late < 0:
        return max(due + period, t + 0.5 * period)
    return due + (math.floor(late / period) + 1) * period


def _make_detector(config: QueueConfig) -> PersonDetector:
    if config.detector_kind == "dnn":
        from kedirivms.analytics.queue.line_pass import LinePass
        from kedirivms.analytics.queue.onnx import OnnxPersonDetector
        from kedirivms.analytics.queue.second_look import SecondLook

        d = config.dnn
        region = zones_region(config.zones, d.crop_margin) if d.crop_to_zones else None
        line = None
        zone = tuple(config.zones.of_kind("queue")[0].points)
        if d.line_pass != "off":
            line = LinePass(tuple(zone), d.line_pass, d.line_pass_scale, d.line_pass_min_people)
        return OnnxPersonDetector(
            d.model,
            person_class=d.person_class,
            confidence=d.confidence,
            nms_iou=d.nms_iou,
            input_size=d.input_size,
            providers=d.providers,
            threads=d.threads,
            layout=d.layout,
            trim_padding=d.trim_padding,
            parallel=d.parallel,
            region=region,
            line=line,
            second_look=None
            if d.second_look == "off"
            else SecondLook(
                d.second_look,
                d.second_look_magnify,
                zone=zone,
                weak_score=d.second_look_weak,
                wide=d.second_look_wide,
                straddle=d.second_look_straddle,
            ),
        )
    return BackgroundDetector(config.background)


class QueueAnalyzer:
    """Queue length, waits, service rate and alerts from luma frames of one camera.

    Args:
        config: the camera's :class:`QueueConfig`.
        detector: any :class:`~kedirivms.analytics.queue.detector.PersonDetector`; default: built from
            ``config`` (the ONNX adapter when ``onnx_model`` is set, else :class:`BackgroundDetector`).

    Example:
        >>> analyzer = QueueAnalyzer(QueueConfig(zones=Zones(zones=scene.zones())))
        >>> for frame in stream:
        ...     for event in analyzer.update(frame.y, frame.time):
        ...         print(event.kind, event.data)
    """

    def __init__(self, config: QueueConfig, detector: PersonDetector | None = None) -> None:
        self.config = config
        self.detector = detector if detector is not None else _make_detector(config)
        self.queue_zone = config.zones.of_kind("queue")[0].name
        counters = config.zones.of_kind("counter")
        self.counter_zone: str | None = counters[0].name if counters else None
        services = config.zones.of_kind("service")
        self.service_zone: str | None = services[0].name if services else None
        line_count = config.line_count
        self._count_ledger = line_count == "ledger" or (line_count == "auto" and self.service_zone is not None)
        # 'auto' in a view whose desk zone is thin: the people seen (_line_length)
        self._auto_count = line_count == "auto"
        self.last: FrameResult | None = None
        self._anchor = sv.Position.CENTER if config.anchor == "center" else sv.Position.BOTTOM_CENTER
        self._zones: _ZoneSet | None = None
        self._tracker: Any = None
        self._waits: WaitTracker | None = None
        self._fps = 10.0
        self._prev_t: float | None = None
        self._recent: deque[tuple[float, int, bool]] = deque()
        # the ledger's line lengths over the longest a walk-out takes to decide (time, length), and the last time a
        # change of the ledger was back-dated into them (see _back_date)
        self._ledger_lengths: deque[tuple[float, int]] = deque()
        self._back_dated = -math.inf
        self._pile = Hysteresis(config.pile_up.for_s, config.pile_up.clear_for_s)
        self._unstaffed = Hysteresis(config.unstaffed.for_s, config.unstaffed.clear_for_s)
        self._interval: IntervalStats | None = None
        self._service: ServiceTracker | None = None
        self._hour: HourlyServiceStats | None = None
        self._stalled = Hysteresis(config.stalled.for_s, config.stalled.clear_for_s)
        self._stall_from = -math.inf  # the first frame after the last arrival at the desk (inf: arriving now)
        dnn = isinstance(self.detector, _dnn_types()) or (detector is None and config.detector_kind == "dnn")
        self._rate_hz: float | None = config.dnn.rate_hz if dnn else None
        self._gate = MotionGate(config.dnn.motion_gate)
        self._next_detect = -math.inf
        self._held: sv.Detections | None = None
        self._look: _Look | None = None
        self._at_counter: dict[int, float] = {}  # track -> when last seen in the counter zone (the clerk's ids)
        # the clerk's id and box last detected in the counter zone, and the ids at the desk in front of it then
        self._clerk: tuple[int, np.ndarray, frozenset[int]] | None = None
        # person -> box, last detected, last kept, detections seen on (since confirmed)
        self._seen: dict[int, tuple[np.ndarray, float, float, int]] = {}
        self._hidden: set[int] = set()  # people kept because someone seen covers them
        # the people the second look alone found on each of the last detections (second_look_window - 1 of them)
        self._added: deque[np.ndarray] = deque(maxlen=max(1, config.tracking.second_look_window - 1))
        # person -> anchor where they were placed, "queue" or "service", last seen, top of their box then (see
        # TrackingConfig.zone_hold)
        self._placed: dict[int, tuple[np.ndarray, str, float, np.ndarray]] = {}
        self._identity: IdentityStitcher | None = None
        self._feet: FootEstimator | None = (
            FootEstimator() if config.anchor == "bottom_center" and config.tracking.feet_from_height else None
        )
        # a tight line's gaps: placed feet on the DNN path only (see TrackingConfig.line_pitch)
        trk = config.tracking
        gaps = self._rate_hz is not None and config.anchor == "bottom_center" and trk.line_pitch > 0
        self._gaps = LineGaps(trk.line_pitch, trk.line_pitch_window_s, seen_gaps=trk.line_gaps_seen) if gaps else None
        self._view: ViewSurvey | None = None  # what the view lets it see (set up with the zones, see view_findings)
        self._told: set[str] = set()  # the view findings logged already
        self._to_tell: list[ViewFinding] = []  # found on this frame: a view_warning event each

    def _setup(self, wh: tuple[int, int], t: float) -> None:
        from trackers import ByteTrackTracker  # imported late: it pulls scipy, only needed once frames arrive

        self._zones = _ZoneSet(self.config.zones, wh, self._anchor)
        self._view = ViewSurvey([z.polygon for z in self._zones.service]) if self._zones.service else None
        trk = self.config.tracking
        # Every detection the detector keeps may start a track: ByteTrack's second, low-score stage is for boxes
        # under the detector's own threshold, which the DNN adapter already dropped (0.35 by default).
        floor = min(0.5, self.config.dnn.confidence) if self._rate_hz is not None else 0.5
        self._tracker = ByteTrackTracker(
            lost_track_buffer=max(1, round(trk.lost_track_s * 30.0)),  # in 30 fps frames, whatever the real rate
            track_activation_threshold=floor,
            minimum_consecutive_frames=1,
            minimum_iou_threshold=trk.match_iou,
            high_conf_det_threshold=floor,
            frame_rate=self._rate_hz if self._rate_hz is not None else 30.0,
        )
        self._identity = IdentityStitcher(stitch_s=trk.relink_s, radius_px=trk.relink_distance * wh[1])
        # a person the detector misses stays counted coast_s (the DNN path's own line between a miss and a
        # departure): a miss that is not coasted (their box overlaps someone seen, their track is not confirmed)
        # must not restart the count's and the clerk's alert timers either (see Hysteresis.grace_s)
        self._pile.grace_s = self._unstaffed.grace_s = trk.coast_s if self._rate_hz is not None else 0.0
        self._gate.reset()
        self._next_detect = -math.inf
        self._held = None
        self._look = None
        self._at_counter.clear()
        self._clerk = None
        self._seen.clear()
        self._hidden = set()
        self._added.clear()
        self._placed.clear()
        if self._feet is not None:
            self._feet.reset()
        self._waits = WaitTracker(
            reentry_grace_s=trk.reentry_grace_s,
            relink_s=trk.relink_s,
            relink_px=trk.relink_distance * wh[1],
            warmup_s=max(1.0, 2.0 / self._fps),
            desk_arrivals=self.service_zone is not None,
        )
        start = math.floor(t / self.config.interval_s) * self.config.interval_s
        self._interval = IntervalStats(start=start, end=start + self.config.interval_s)

    def update(self, y: np.ndarray, t: float, *, frame: Any = None) -> list[QueueEvent]:
        """Analyse one frame.

        Args:
            y: ``(H, W)`` uint8 luma, read-only is fine (never written, never kept); uint16 (10-bit) is
                reduced to 8 bits first.
            t: frame time, seconds (epoch seconds for opening hours; any monotonic clock otherwise).
            frame: the :class:`~kedirivms.Frame` that ``y`` belongs to, if any: a DNN detector then reads it in
                colour (converted once at the model's input size) instead of grey.

        Returns:
            Events decided on this frame (often none): finished intervals and alert transitions.
        """
        if y.dtype == np.uint16:  # 10-bit streams: the detector works on 8 bits (a reduced copy)
            y = (y >> 2).astype(np.uint8)
            frame = None
        if self._prev_t is not None and t < self._prev_t:
            t = self._prev_t  # a stream clock that stepped back: the timers need time that never decreases
        h, w = y.shape[:2]
        if self._zones is None or self._zones.wh != (w, h):
            self._setup((w, h), t)
            self._setup_service((w, h), t)
        assert self._zones is not None and self._waits is not None and self._interval is not None
        assert self._service is not None
        events: list[QueueEvent] = []
        events += self._roll_interval(t)
        events += self._roll_hour(t)
        tracked = self._detect_and_track(y, t, frame)
        # a frame that holds the last detection reuses its zone tests (the waits and services still see the time)
        look = self._look
        fresh = look is None or look.tracked is not tracked
        if look is None or fresh:
            look = self._look = self._zone_look(tracked, t)
        ids, centres, in_service = look.ids, look.centres, look.in_service
        staffing = self.counter_zone is not None  # (without a counter zone the clerk is taken to be there)
        finished = self._waits.update(
            t, ids, centres, look.in_queue, in_service, untracked=look.untracked, at_counter=look.at_counter
        )
        for visit in finished:
            if visit.served:
                self._service.wait_ended(visit.end)
            self._count_visit(visit)
        self._service.side_by_side = self._waits.side_by_side()
        stays, _ = self._service.update(
            t,
            ids,
            centres,
            in_service,
            look.in_queue,
            look.heads,
            fresh=fresh,
            staffed=look.staffed or not staffing,
            counter=look.at_counter,
        )
        ended = list(finished)
        for wait in self._waits_ended_at_desk():
            ended.append(wait)
            self._service.wait_ended(t)
        self._count_stays(stays)
        length, staffed_now = look.length, look.staffed
        if self._count_ledger:
            length = self._line_length(t, look.length)
            self._back_date(t, length)
        smoothed, staffed = self._smooth(t, length, staffed_now)
        self._interval.lengths.append(length)
        if self.counter_zone is not None:
            self._interval.staffed.append(staffed)
        events += self._alerts(t, smoothed, staffed)
        events += [self._view_event(t, finding) for finding in self._to_tell]
        self._to_tell.clear()
        self.last = FrameResult(
            time=t,
            queue_length=length,
            smoothed_length=smoothed,
            staffed=staffed if self.counter_zone is not None else None,
            detections=tracked,
            services=tuple(stays),
            seen_length=look.length,
            visits=tuple(ended),
        )
        if self._prev_t is not None and t > self._prev_t:
            self._fps = 0.9 * self._fps + 0.1 / (t - self._prev_t)
        self._prev_t = t
        return events

    def _zone_look(self, tracked: sv.Detections, t: float) -> _Look:
        """Zone tests of one detection's people (the same for every frame that holds it)."""
        assert self._zones is not None
        ids = tracked.tracker_id if tracked.tracker_id is not None else np.full(len(tracked), -1, dtype=int)
        # waits and services follow people actually seen: a coasted box (confidence 0, a person the detector
        # missed, counted at their last place) must not keep an old track id alive against an ID switch; someone
        # hidden behind a person in front of them is still there, and keeps their wait
        seen = (ids >= 0) & ((np.asarray(tracked.confidence) > 0) | np.isin(ids, list(self._hidden)))
        seen = seen if len(tracked) else ids >= 0
        placed, beside = self._place_feet(tracked, ids, t)
        anchors = placed.get_anchors_coordinates(self._anchor) if len(placed) else np.zeros((0, 2))
        in_queue = self._zones.test(self._zones.queue, placed)
        in_service = self._zones.test(self._zones.service, placed)
        tops = placed.get_anchors_coordinates(sv.Position.TOP_CENTER) if len(placed) else np.zeros((0, 2))
        detected = ids[np.asarray(tracked.confidence) > 0] if len(tracked) else ids
        heights = placed.xyxy[:, 3] - placed.xyxy[:, 1]
        self._hold_zones(t, ids, set(detected.tolist()), anchors, tops, heights, in_queue, in_service)
        counted = in_queue & ~spanning(tracked.xyxy)
        self._survey(tracked, in_service)
        at_counter = self._zones.test(self._zones.counter, tracked)
        keep = self.config.tracking.relink_s
        self._at_counter = {tid: w for tid, w in self._at_counter.items() if t - w <= keep}
        self._at_counter.update({int(tid): t for tid in ids[at_counter & (ids >= 0)].tolist()})
        hidden = 0
        if self._gaps is not None and len(tracked):
            # (feet placed beside someone taller are a guess: they teach no pitch)
            boxed = (np.asarray(tracked.confidence) > 0) & ~extra_mask(tracked) & ~beside
            hidden = self._gaps.hidden(t, anchors, placed.xyxy, ids, counted, boxed, in_service)
        hidden_clerk = self._clerk_hidden(tracked, ids, at_counter, in_service)  # (kept up on every detection)
        staffed = bool(at_counter[~extra_mask(tracked)].any()) or hidden_clerk
        return _Look(
            tracked=tracked,
            ids=ids[seen],
            centres=anchors[seen],
            heads=tracked.get_anchors_coordinates(sv.Position.TOP_CENTER)[seen] if len(tracked) else np.zeros((0, 2)),
            in_queue=in_queue[seen],
            in_service=in_service[seen],
            length=int(counted.sum()) + hidden,
            staffed=staffed,
            untracked=int((counted & ~in_service & (ids < 0)).sum()),
            at_counter=at_counter[seen] if self._zones.counter and len(at_counter) == len(ids) else None,
        )

    def _clerk_hidden(
        self, tracked: sv.Detections, ids: np.ndarray, at_counter: np.ndarray, in_service: np.ndarray
    ) -> bool:
        """Whether the clerk, not boxed now, is behind the one at the desk: last detected in the counter zone while
        someone in the service zone stood in front of their box (nearer the camera, overlapping it), who still does.

        The clerk behind the desk shows only their top; the one served stands right in front, and their box often
        takes the clerk's from the detector for as long as they are served (composite across view, crowd-x-s15
        76-112 s: a quarter of the clerk's box behind the one served, not detected for 36 s, and a false
        ``counter_unstaffed``). A clerk who leaves is seen walking off: their id detected out of the counter zone.
        """
        if self._zones is None or not self._zones.counter or not len(tracked):
            self._clerk = None
            return False
        boxes = tracked.xyxy
        detected = (np.asarray(tracked.confidence) > 0) & ~extra_mask(tracked) & (ids >= 0)
        here = np.flatnonzero(at_counter & detected)
        if len(here):
            k = int(here[0])
            self._clerk = (int(ids[k]), boxes[k].copy(), frozenset(self._in_front(boxes[k], boxes, ids, in_service)))
            return False
        if self._clerk is None:
            return False
        clerk, box, before = self._clerk
        if bool((detected & (ids == clerk)).any()) or not before & self._in_front(box, boxes, ids, in_service):
            self._clerk = None  # (the clerk seen elsewhere, walking off; or the one in front gone)
            return False
        return True

    @staticmethod
    def _in_front(box: np.ndarray, boxes: np.ndarray, ids: np.ndarray, in_service: np.ndarray) -> set[int]:
        """The ids in the service zone whose boxes overlap ``box`` standing in front of it."""
        return {int(i) for i in ids[in_service & (front_shares(box, boxes) > 0) & (ids >= 0)].tolist()}

    def _place_feet(self, tracked: sv.Detections, ids: np.ndarray, t: float) -> tuple[sv.Detections, np.ndarray]:
        """``tracked``, or a copy whose cut-off boxes reach down to their people's feet (``feet_from_height``), and
        which of them :func:`feet_beside` placed (in a tight line: cut off by someone nobody boxed)."""
        beside = np.zeros(len(tracked), dtype=bool)
        if self._feet is None or not len(tracked):
            return tracked, beside
        learn = np.asarray(tracked.confidence) > 0 if tracked.confidence is not None else None
        extra = extra_mask(tracked)
        xyxy = tracked.xyxy.copy()
        # the second look's people place nobody's feet (a cut-off box is one whose bottom lies in a lower box)
        xyxy[~extra] = self._feet.place(t, tracked.xyxy[~extra], ids[~extra], None if learn is None else learn[~extra])
        self._feet.forget(t - max(self.config.tracking.hidden_s, self.config.tracking.coast_s))
        if self._gaps is not None and self._gaps.tight:  # people hide each other: also someone nobody boxed
            placed = feet_beside(xyxy)
            beside = placed[:, 3] != xyxy[:, 3]
            xyxy = placed
        if np.array_equal(xyxy, tracked.xyxy):
            return tracked, beside
        moved = sv.Detections(xyxy=xyxy, confidence=tracked.confidence, class_id=tracked.class_id, tracker_id=ids)
        return moved, beside

    def _hold_zones(
        self,
        t: float,
        ids: np.ndarray,
        detected: set[int],
        anchors: np.ndarray,
        tops: np.ndarray,
        heights: np.ndarray,
        in_queue: np.ndarray,
        in_service: np.ndarray,
    ) -> None:
        """Let nobody cross between the queue and the service zone without a step (``zone_hold``); edits in place.

        Next to the desk the queue's and the service spot's borders meet: the box of the person being served ends
        a few pixels lower whenever the next in line's leg overlaps it, and a fresh test on each detection would
        count them in the line again (and end their service); the next in line's box may likewise reach over into
        the service zone. A person's move from one of the two zones to the other counts only once their anchor is
        ``zone_hold`` of their box height from where it was last placed; coming in from elsewhere or leaving the
        service zone counts at once, and leaving the line counts once both ends of the box moved that far (feet
        placed by a neighbour's box, :func:`feet_beside`, that was found on one detection and not the next move
        while the box stands still). A step up to a service spot nobody else holds counts at
        once too: only the one served can reach over from there (a ceiling camera close to the desk sees the feet
        of someone stepping up move much less than a tenth of their tall box). A person moves only as far as both
        ends of their box moved: the box of the one served whose foot edge drops into the line while its top stays
        (the legs of the next in line, right behind them, taken into their box) is nobody's step. Someone leaving
        the service zone while another holds the spot is not the one served (the next in line whose box reached
        over): their anchor alone counts. And the next in line stepping up while the one served, seen on this
        detection (not coasted nor kept as hidden), still stands in the service zone ahead of them (beyond their
        anchor in the direction they stepped, by more than that step) stays in the line however far they moved:
        the spot holds one person, and a box cut off above its feet reaches over into the service zone from the
        line's front.
        """
        share = self.config.tracking.zone_hold
        if share <= 0:
            return
        present = set(ids.tolist())
        for i, pid in enumerate(ids.tolist()):
            if pid < 0:
                continue
            zone = "service" if in_service[i] else "queue" if in_queue[i] else None
            placed = self._placed.get(pid)
            # someone else at the service spot (asked once: it reads every placed person)
            held = placed is not None and placed[1] != zone and self._spot_held(pid, present)
            # (out of the line only by a step: feet placed by a neighbour's box that came or went move alone)
            stepped_out = (
                zone is None
                and placed is not None
                and placed[1] == "queue"
                and self._moved(anchors[i], tops[i], placed, False) <= share * float(heights[i])
            )
            if zone is None and not stepped_out:
                self._placed.pop(pid, None)
            elif stepped_out or (
                placed is not None
                and placed[1] != zone
                and (zone == "queue" or held)
                and (
                    (
                        placed[1] == "queue"
                        and self._served_ahead(pid, placed[0], anchors[i], detected, share * heights[i])
                    )
                    or self._moved(anchors[i], tops[i], placed, zone == "queue" and held) <= share * float(heights[i])
                )
            ):
                assert placed is not None  # (held where they were placed)
                in_queue[i], in_service[i] = placed[1] == "queue", placed[1] == "service"
                self._placed[pid] = (placed[0], placed[1], t, placed[3])
            else:
                assert zone is not None  # (out of both zones: forgotten or held above)
                self._placed[pid] = (anchors[i].copy(), zone, t, tops[i].copy())
        forget = t - max(self.config.tracking.hidden_s, self.config.tracking.coast_s)
        for pid in [p for p, v in self._placed.items() if v[2] < forget]:
            del self._placed[pid]

    @staticmethod
    def _moved(
        anchor: np.ndarray, top: np.ndarray, placed: tuple[np.ndarray, str, float, np.ndarray], beside: bool
    ) -> float:
        """How far a person moved from where they were ``placed``: as far as both ends of their box moved, or (when
        ``beside``: someone else holds the service spot, so they are not the one served) as far as their anchor."""
        foot = float(np.hypot(*(anchor - placed[0])))
        return foot if beside else min(foot, float(np.hypot(*(top - placed[3]))))

    def _count_stays(self, stays: list[FinishedStay]) -> None:
        """Count finished services in the interval's and the hour's statistics (censored ones: not the hour's)."""
        assert self._interval is not None
        for stay in stays:
            self._interval.add_stay(stay)
            if self._hour is not None and not stay.censored:
                self._hour.services.append(stay.service_s)

    def _served_ahead(self, pid: int, came_from: np.ndarray, xy: np.ndarray, seen: set[int], least_px: float) -> bool:
        """Whether someone in ``seen`` other than ``pid`` was last placed in the service zone ahead of ``xy``: more
        than ``least_px`` beyond it in the direction ``pid`` stepped from ``came_from`` (the one served, in front of
        the next in line; a box at their very place is no one else)."""
        step = np.asarray(xy, dtype=np.float64) - np.asarray(came_from, dtype=np.float64)
        norm = float(np.hypot(*step))
        if norm == 0.0:
            return False
        return any(
            other != pid and v[1] == "service" and other in seen and float(np.dot(v[0] - xy, step)) > least_px * norm
            for other, v in self._placed.items()
        )

    def _spot_held(self, pid: int, present: set[int]) -> bool:
        """Whether someone other than ``pid`` who is still in the picture was last placed at the service spot."""
        return any(other != pid and v[1] == "service" and other in present for other, v in self._placed.items())

    def _detect_and_track(self, y: np.ndarray, t: float, frame: Any) -> sv.Detections:
        """Detect on this frame when due (every frame for the background detector), else hold the last people."""
        if self._held is not None and t < self._next_detect:
            return self._held
        if self._rate_hz is not None:
            self._next_detect = next_detection(self._next_detect, t, 1.0 / self._rate_hz)
        detect_frame = getattr(self.detector, "detect_frame", None)
        det = detect_frame(frame, t) if frame is not None and detect_frame is not None else self.detector.detect(y, t)
        if det.confidence is None:
            det.confidence = np.ones(len(det), dtype=np.float32)
        if det.class_id is None:
            det.class_id = np.zeros(len(det), dtype=int)
        det = self._look_closer(y, t, frame, det)
        extra = extra_mask(det)
        added = (np.asarray(det.xyxy, dtype=np.float32)[extra], np.asarray(det.confidence, dtype=np.float32)[extra])
        if extra.any():
            det = select(det, ~extra)
        tracked = self._track(det, t, frame.planes if frame is not None else (y,))
        if self._rate_hz is not None:  # the DNN path: still things that look like people are not people
            tracked = select(tracked, self._gate.update(y, t, tracked))
            tracked = self._coast(tracked, t)  # (background blobs split and merge: coasting them adds ghosts)
            tracked = self._add_second_look(tracked, added)
        self._held = tracked
        return tracked

    def _look_closer(self, y: np.ndarray, t: float, frame: Any, det: sv.Detections) -> sv.Detections:
        """``det`` and the people a closer look finds where something moved that no box explains (``motion_look``).

        Boxes that explain change: this detection's and the people held since the last one (coasted included);
        the gate adds the last detection picture's. A person found there who overlaps a box of ``det`` is that box;
        one whose box touches the picture's edge is left out: the look is for people too small for the model inside
        the picture, and someone cut by the edge is walking in or out, which the first look sees (in a counter
        scene, such people found early cost a waiting visitor's wait: see the docs).
        """
        d = self.config.dnn
        look = getattr(self.detector, "look_closer", None)
        if self._rate_hz is None or d.motion_look == "off" or look is None or frame is None:
            return det
        # the second look's people of this detection explain nothing yet: they count only once confirmed
        # (tracking.second_look_confirm), and someone the closer look would find there must not go uncounted
        boxes = np.asarray(det.xyxy, dtype=np.float32).reshape(-1, 4)
        first = boxes[~extra_mask(det)]
        held = self._held.xyxy if self._held is not None and len(self._held) else np.zeros((0, 4), np.float32)
        regions = self._gate.unexplained(y, t, np.vstack([first, held]))
        if not regions:
            return det
        found = look(frame, regions, magnify=d.motion_look_magnify, when_idle=d.motion_look == "auto")
        wh = (y.shape[1], y.shape[0])
        new = [i for i, box in enumerate(found.xyxy) if not overlaps_any(box, first, 0.1) and not at_edge(box, wh)]
        if not new:
            return det
        conf = np.ones(len(det), np.float32) if det.confidence is None else np.asarray(det.confidence, np.float32)
        out = person_detections(
            np.vstack([boxes, found.xyxy[new]]), np.concatenate([conf, np.asarray(found.confidence)[new]])
        )
        out.data[EXTRA] = np.concatenate([extra_mask(det), np.zeros(len(new), dtype=bool)])
        return out

    def _add_second_look(self, tracked: sv.Detections, found: tuple[np.ndarray, np.ndarray]) -> sv.Detections:
        """``tracked`` and, after them, the people only the second look found that count (``data[EXTRA]``).

        They have no track id (-1): they are counted in the zones and nowhere else (no track, wait, service or
        coasting: the second look's boxes come and go between detections, and each change at the desk would read
        as a hand-over). One counts once found on ``second_look_confirm`` of the last ``second_look_window``
        detections (this one and earlier ones with a box overlapping theirs, IoU 0.3), and not when
        ``second_look_inside`` of their box lies in a box of the first look (a part of that person) or they overlap
        someone kept from an earlier detection (IoU 0.3: that person); while the line is tight
        (``tracking.line_pitch``) a box inside a first-look box at least twice as wide counts (that box is one for
        two people). With
        ``feet_from_height``, a box cut off by someone in front reaches down to its feet first (:func:`feet_behind`):
        the one found behind stands in the line even where their box ends above the queue zone.
        """
        trk = self.config.tracking
        added, score = found
        if self._feet is not None and len(added):
            added = feet_behind(tracked.xyxy, added)
        # the detections each was found on: this one, and each earlier one in the window with a box overlapping it
        found_on = np.array([1 + sum(overlaps_any(box, old, 0.3) for old in self._added) for box in added], dtype=int)
        if trk.second_look_window > 1:
            self._added.append(added)
        keep = found_on >= trk.second_look_confirm
        conf = np.asarray(tracked.confidence, dtype=np.float32) if len(tracked) else np.zeros(0, np.float32)
        seen, kept = tracked.xyxy[conf > 0], tracked.xyxy[conf <= 0]
        # in a tight line a first-look box at least twice as wide as a box of the second look inside it is one box
        # for two (the one behind counts), not a person and a part of them
        tight = self._gaps is not None and self._gaps.tight
        for i, box in enumerate(added):
            within = inside_shares(box, seen) >= trk.second_look_inside
            if tight:  # ... a first-look box at least twice as wide as theirs
                within &= (seen[:, 2] - seen[:, 0]) < 2.0 * (box[2] - box[0])
            keep[i] &= not within.any() and not overlaps_any(box, kept, 0.3)
        if not keep.any():
            return tracked
        ids = tracked.tracker_id if tracked.tracker_id is not None else np.zeros(0, dtype=int)
        out = person_detections(
            np.concatenate([tracked.xyxy.reshape(-1, 4), added[keep]]),
            np.concatenate([conf, score[keep]]),
            np.concatenate([ids.astype(int), np.full(int(keep.sum()), -1)]),
        )
        out.data[EXTRA] = np.arange(len(out)) >= len(tracked)
        return out

    def _coast(self, tracked: sv.Detections, t: float) -> sv.Detections:
        """Add the people this detection missed, at their last box.

        Someone missed is kept ``coast_s`` after they were last seen unless their box overlaps one seen now (that
        is probably them, found again) or touches the picture's edge (they walked out of it); someone who stood
        still is kept as long as ``hidden_s`` while a person in front of them covers their box (in a line, the one
        in front hides the next), unless a box seen now is nearly theirs (IoU 0.8: them, found again under another
        id; the tracker may move one person's id onto another's box).
        """
        trk = self.config.tracking
        ids = tracked.tracker_id if tracked.tracker_id is not None else np.zeros(0, dtype=int)
        for i, tid in enumerate(ids.tolist()):
            # a detection the tracker never confirmed is not coasted (a one-off false detection)
            if tid >= 0 and (self._identity is None or self._identity.confirmed(tid)):
                hits = self._seen[tid][3] + 1 if tid in self._seen else 1
                self._seen[tid] = (tracked.xyxy[i].copy(), t, t, hits)
        wh = self._zones.wh if self._zones is not None else (0, 0)
        born = self._identity.born if self._identity is not None else set()
        new = np.array([tid < 0 or tid in born for tid in ids.tolist()], dtype=bool)
        fresh, known = tracked.xyxy[new], tracked.xyxy[~new]
        missing = []
        self._hidden = set()
        for tid, (box, detected, kept, hits) in list(self._seen.items()):
            if detected >= t:
                continue
            # seen on one detection since the tracker confirmed them (two in all): a box that showed up beside
            # someone for a moment is no evidence of a person hidden behind them
            still = self._identity is not None and self._identity.standing(tid) and hits >= 2
            # a box nearly the same as one seen now is that person found again under another id, not hidden
            # (nor at the desk where someone seen now stands: the next one stepped onto the place of the one served;
            # in a tight line two people's feet may be boxed that close)
            hidden = (
                covered(box, known)
                and not overlaps_any(box, fresh)
                and not overlaps_any(box, known, _SAME_BOX)
                and not (stands_on(box, known) and self._at_desk(box))
            )
            if t - detected <= trk.hidden_s and still and hidden:
                self._seen[tid] = (box, detected, t, hits)
                self._hidden.add(tid)
                if self._identity is not None:
                    self._identity.hold(tid, t)
            elif t - kept > trk.coast_s or at_edge(box, wh):
                del self._seen[tid]  # (a box at the picture's edge that is gone: the person walked out)
                continue
            elif overlaps_any(box, tracked.xyxy):
                continue
            missing.append(tid)
        if not missing:
            return tracked
        coasted = np.stack([self._seen[tid][0] for tid in missing])
        if not len(tracked):
            return person_detections(coasted, 0.0, missing)
        return person_detections(
            np.concatenate([tracked.xyxy, coasted]),
            np.concatenate([np.asarray(tracked.confidence, dtype=np.float32), np.zeros(len(missing), np.float32)]),
            np.concatenate([ids.astype(int), missing]),
        )

    def _waits_ended_at_desk(self) -> list[FinishedVisit]:
        """The waits that the service tracker's last arrivals ended, counted in this interval and hour.

        One line served in order: each arrival at the desk ends the longest wait; without a ledger kept by arrivals,
        an arrival at the desk the tracker hid by trading ids ends its person's visit.
        """
        assert self._service is not None and self._waits is not None and self._interval is not None
        if self._waits.desk_arrivals:
            reached = [
                self._waits.arrived(when, tid, leaver, clerk=self._clerks_id(tid, when))
                for when, tid, leaver in self._service.arrivals
            ]
        else:
            reached = [self._waits.served_at_desk(when, leaver) for when, leaver in self._service.handovers]
        ended = [wait for wait in reached if wait is not None]
        for wait in ended:
            self._count_visit(wait)
        return ended

    def _count_visit(self, visit: FinishedVisit) -> None:
        """Count a wait that ended in this interval's statistics, and a served one in this hour's."""
        assert self._interval is not None
        self._interval.add_visit(visit)
        if self._hour is not None and visit.served:
            self._hour.served += 1

    def _clerks_id(self, tid: int | None, t: float) -> bool:
        """Whether track ``tid`` was seen in the counter zone within ``relink_s`` before ``t`` (the clerk's id)."""
        seen = self._at_counter.get(tid) if tid is not None else None
        return seen is not None and t - seen <= self.config.tracking.relink_s

    def _at_desk(self, box: np.ndarray) -> bool:
        """Whether ``box`` stands in a service zone."""
        if self._zones is None or not self._zones.service:
            return False
        return bool(self._zones.test(self._zones.service, sv.Detections(xyxy=box[None].astype(np.float32))).any())

    def _track(self, det: sv.Detections, t: float, planes: tuple[np.ndarray, ...]) -> sv.Detections:
        """ByteTrack on enlarged boxes, then person ids (:mod:`.identity`) instead of tracker ids (-1: new).

        The returned boxes are the detector's again.
        """
        if not len(det):
            out = self._tracker.update(empty_detections(), timestamp=t)
            out.tracker_id = np.zeros(0, dtype=int)
            return out
        k = self.config.tracking.box_scale
        centre = (det.xyxy[:, :2] + det.xyxy[:, 2:]) / 2.0
        half = (det.xyxy[:, 2:] - det.xyxy[:, :2]) / 2.0
        score = 1.0 if det.confidence is None else det.confidence  # a plugin's detector may give no scores
        grown = person_detections(np.hstack([centre - half * k, centre + half * k]), score)
        tracked = self._tracker.update(grown, timestamp=t)
        if len(tracked):
            c = (tracked.xyxy[:, :2] + tracked.xyxy[:, 2:]) / 2.0
            h = (tracked.xyxy[:, 2:] - tracked.xyxy[:, :2]) / (2.0 * k)
            tracked.xyxy = np.hstack([c - h, c + h]).astype(np.float32)
            assert self._identity is not None and tracked.tracker_id is not None
            looks = appearance(planes, tracked.xyxy)
            anchors = tracked.get_anchors_coordinates(self._anchor)
            heights = tracked.xyxy[:, 3] - tracked.xyxy[:, 1]
            tracked.tracker_id = self._identity.update(t, tracked.tracker_id, anchors, looks, heights)
        return tracked

    def _back_date(self, t: float, length: int) -> None:
        """Correct the ledger's readings since a change it made on this frame came true, then keep this frame's.

        A walk-out is decided ``reentry_grace_s`` after the person was last seen in line (they may step back in):
        the readings in between counted them, and count one fewer from then (``WaitTracker.departures``; composite
        across view, rush-x-s10 206.3 s: someone giving up at 201.5 s, the ``pile_up`` clear 4.8 s late). A start
        added for someone in line since before this frame (found in line, one of a pair told apart with the pair's
        start: ``WaitTracker.joins``) counts one more from their start (away-x-s8 156.3 s: the sixth of a line
        counted 7.4 s late, the ``pile_up`` with them). The alert timers date a run from these readings (see
        :meth:`_held_since`); the lengths already reported are not changed.
        """
        assert self._waits is not None and self._service is not None
        kept = self._ledger_lengths
        waits = self._waits
        changes = [(since, -1) for since in waits.departures] + [(since, 1) for since in waits.joins]
        if self._auto_count and self._service.thin_zone:  # (the people seen are counted: see _line_length)
            changes = []
        for since, step in changes:
            self._back_dated = t
            for k, (when, n) in enumerate(kept):
                if when > since:
                    kept[k] = (when, max(n + step, 0))
            for k, (when, n, staffed) in enumerate(self._recent):
                if when > since:
                    self._recent[k] = (when, max(n + step, 0), staffed)
        kept.append((t, length))
        horizon = self.config.tracking.reentry_grace_s + self.config.tracking.relink_s
        while kept[0][0] < t - horizon:
            kept.popleft()

    def _held_since(self, t: float, holds: Callable[[int], bool]) -> float:
        """Since when the ledger's readings (back-dated, see :meth:`_back_date`) have met ``holds`` without a break,
        up to this frame (``t`` when this frame's does not, or when nothing was back-dated within them)."""
        kept = self._ledger_lengths
        if not kept or self._back_dated < kept[0][0]:
            return t
        since = t
        for when, n in reversed(kept):
            if not holds(n):
                break
            since = when
        return since

    def _smooth(self, t: float, length: int, staffed: bool) -> tuple[int, bool]:
        recent = self._recent
        recent.append((t, length, staffed))
        while recent and recent[0][0] < t - self.config.smoothing_s:
            recent.popleft()
        lengths = sorted(r[1] for r in recent)
        median = lengths[len(lengths) // 2]
        present = sum(r[2] for r in recent) * 2 >= len(recent)
        return median, present

    def _alerts(self, t: float, length: int, staffed: bool) -> list[QueueEvent]:
        out: list[QueueEvent] = []
        pu = self.config.pile_up
        # a median holds a step some time after the readings did (half its window): each timer begins at the
        # first reading of its condition in the window the median just followed (see Hysteresis.update's began)
        recent = self._recent
        if pu.enabled:
            pile = self._pile

            def holds(n: int) -> bool:
                return n <= pu.clear_level if pile.active else n >= pu.threshold

            began = min(next((r[0] for r in recent if holds(r[1])), t), self._held_since(t, holds))
            tr = pile.update(length >= pu.threshold, length <= pu.clear_level, t, began)
            if tr is not None:
                kind = "pile_up" if tr.raised else "pile_up_cleared"
                data: dict[str, JsonValue] = {"length": length, "threshold": pu.threshold, "since": round(tr.since, 3)}
                out.append(QueueEvent(kind, t, self.queue_zone, data))
        us = self.config.unstaffed
        if us.enabled and self.counter_zone is not None:
            is_open = us.is_open(t)
            if is_open:
                began = next((r[0] for r in recent if r[2] == self._unstaffed.active), t)
                tr = self._unstaffed.update(not staffed, staffed, t, began)
            else:
                tr = self._unstaffed.force_clear(t)
            if tr is not None:
                kind = "counter_unstaffed" if tr.raised else "counter_staffed"
                data = {"since": round(tr.since, 3), "open": is_open}
                out.append(QueueEvent(kind, t, self.counter_zone, data))
        if self.config.stalled_active:
            out += self._stall(t, length, staffed)
        return out

    def _stall(self, t: float, length: int, staffed: bool) -> list[QueueEvent]:
        """``counter_stalled``: staffed, people waiting, nobody reaching the service zone for ``for_s``."""
        assert self._service is not None and self._waits is not None and self.counter_zone is not None
        rule = self.config.stalled
        is_open = rule.is_open(t)
        waiting = length >= rule.min_waiting
        service = self._service
        # someone reached the desk just now: a new stay there, or a wait that ended there (the tracker may hand the
        # one served's id to the next, whose stay then looks like the same one going on)
        arrived = service.reached_since(t)
        raised_at = self._stalled.raised_at
        resumed = raised_at is not None and service.arrived_since(raised_at)
        # a run begins at the first reading of a line and of the clerk in the median's window (as pile_up's), never
        # before the first frame after the last arrival
        if arrived:
            self._stall_from = math.inf
        elif self._stall_from == math.inf:
            self._stall_from = t
        began = None
        if not self._stalled.active:
            line = next((r[0] for r in self._recent if r[1] >= rule.min_waiting), t)
            clerk = next((r[0] for r in self._recent if r[2]), t)
            began = max(line, clerk, self._stall_from)
        if not is_open:
            tr = self._stalled.force_clear(t)
        else:
            # someone waits while the line holds them or the wait ledger does: a visit outlives a miss of a few
            # seconds (relink_s), the median of the count does not (the clear still reads the line as seen)
            held = waiting or len(self._waits.open) >= rule.min_waiting
            on = staffed and held and not arrived
            tr = self._stalled.update(on, resumed or not waiting or not staffed, t, began)
        if tr is None:
            return []
        last = service.last_arrival
        data: dict[str, JsonValue] = {
            "since": round(tr.since, 3),
            "waiting": length,
            "last_service_start": round(last, 3) if last is not None else None,
            "open": is_open,
        }
        if not tr.raised:
            reasons = ((not is_open, "closed"), (resumed, "served"), (not staffed, "unstaffed"), (True, "queue_empty"))
            data["reason"] = next(r for cond, r in reasons if cond)
        return [QueueEvent("counter_stalled" if tr.raised else "counter_resumed", t, self.counter_zone, data)]

    def _roll_interval(self, t: float) -> list[QueueEvent]:
        assert self._interval is not None
        out = []
        while t >= self._interval.end:
            out.append(self._stats_event(self._interval))
            start = self._interval.end
            if t >= start + self.config.interval_s:  # a gap (stream outage): skip the empty intervals
                start = math.floor(t / self.config.interval_s) * self.config.interval_s
            self._interval = IntervalStats(start=start, end=start + self.config.interval_s)
        return out

    def _setup_service(self, wh: tuple[int, int], t: float) -> None:
        trk = self.config.tracking
        self._service = ServiceTracker(
            relink_s=trk.relink_s,
            relink_px=trk.relink_distance * wh[1],
            warmup_s=max(1.0, 2.0 / self._fps),
            hidden_s=trk.hidden_s,
        )
        if self.service_zone is not None and self._hour is None:
            start = math.floor(t / 3600.0) * 3600.0
            self._hour = HourlyServiceStats(start=start, end=start + 3600.0, first=t)

    def _roll_hour(self, t: float) -> list[QueueEvent]:
        out = []
        while self._hour is not None and t >= self._hour.end:
            out.append(self._hour_event(self._hour, partial=False))
            start = math.floor(t / 3600.0) * 3600.0  # after an outage the empty hours are skipped
            self._hour = HourlyServiceStats(start=start, end=start + 3600.0, first=t)
        return out

    def _hour_event(self, hour: HourlyServiceStats, partial: bool) -> QueueEvent:
        data: dict[str, JsonValue] = dict(hour.summary(partial))
        data["service_zone"] = self.service_zone
        return QueueEvent("service_stats_hourly", hour.end, self.counter_zone or self.service_zone or "", data)

    def _stats_event(self, interval: IntervalStats) -> QueueEvent:
        data: dict[str, JsonValue] = dict(interval.summary())
        data["in_queue_now"] = len(self._waits.open) if self._waits else 0
        return QueueEvent("queue_stats", interval.end, self.queue_zone, data)

    def flush(self, t: float | None = None) -> list[QueueEvent]:
        """Emit the current partial interval (call at the end of a stream).

        Args:
            t: end time, seconds (default: the last frame's time).

        Stays in the service zone still open are ended (see :meth:`ServiceTracker.finish`) and counted in these
        statistics; they are added to :attr:`last`'s ``services``. An arrival at the desk still held back is decided
        then: the wait it ends is counted too and added to :attr:`last`'s ``visits``.

        Returns:
            The last ``queue_stats`` event and, with a service zone, the partial hour's ``service_stats_hourly``
            (``partial: true``); nothing if no frame was analysed.
        """
        if self._interval is None or not self._interval.lengths:
            return []
        end = t if t is not None else (self._prev_t or self._interval.start)
        if self._service is not None:  # the stays the stream's end cut short, and the waits it decided: last
            stays = self._service.finish(self._prev_t if self._prev_t is not None else end)
            self._count_stays(stays)
            waits = self._waits_ended_at_desk()
            if self.last is not None:
                self.last = dataclasses.replace(
                    self.last, services=self.last.services + tuple(stays), visits=self.last.visits + tuple(waits)
                )
        self._interval.end = max(end, self._interval.start)
        events = [self._stats_event(self._interval)]
        self._interval = IntervalStats(start=self._interval.end, end=self._interval.end + self.config.interval_s)
        if self._hour is not None:
            self._hour.end = max(self._interval.start, self._hour.start)
            events.append(self._hour_event(self._hour, partial=True))
            start = self._hour.end
            self._hour = HourlyServiceStats(start=start, end=math.floor(start / 3600.0) * 3600.0 + 3600.0, first=start)
        return events

    def _line_length(self, t: float, seen: int) -> int:
        """The line counted by its ledger; with ``line_count: auto`` where the view survey names the desk zone thin,
        the people seen.

        The ledger is kept by arrivals at the desk, which such a view gets wrong (``desk_zone_thin``): the front of
        the line dips into the zone, the one served reads above it, and ids trade between the two.
        """
        assert self._waits is not None and self._service is not None
        if self._auto_count and self._service.thin_zone:
            return seen
        return self._waits.waiting(t)

    def _survey(self, tracked: sv.Detections, in_service: np.ndarray) -> None:
        """Feed one detection's people (detected, not coasted) to the view survey; log each new finding once."""
        if self._view is None or not len(tracked):
            return
        detected = np.asarray(tracked.confidence) > 0
        self._view.add(tracked.xyxy[detected], in_service[detected])
        if self._service is not None and self._service.thin_zone and "desk_zone_thin" in self._told:
            return  # (named and told for good: no medians to work out on every detection)
        findings = self._view.findings()
        if self._service is not None:  # (the front of the line dips into a thin zone: no arrival beside the served)
            # once named, for good: the view does not change under a running analyzer (new zones, a new analyzer)
            thin = self._service.thin_zone or any(f.code == "desk_zone_thin" for f in findings)
            self._service.thin_zone = thin
            if self._waits is not None:
                self._waits.thin_zone = self._service.thin_zone
        for finding in findings:
            if finding.code not in self._told:
                self._told.add(finding.code)
                self._to_tell.append(finding)
                _log.warning("queue zone %s: %s", self.service_zone, finding.message)

    def _view_event(self, t: float, finding: ViewFinding) -> QueueEvent:
        data: dict[str, JsonValue] = {
            "code": finding.code,
            "message": finding.message,
            "value": round(finding.value, 3),
            "limit": finding.limit,
        }
        return QueueEvent("view_warning", t, self.service_zone or self.queue_zone, data)

    @property
    def view_survey(self) -> ViewSurvey | None:
        """The survey of this camera's view (its figures, e.g. ``desk_zone_share``), or ``None`` without a service
        zone or before the first frame."""
        return self._view

    @property
    def view_findings(self) -> list[ViewFinding]:
        """What about this camera's view makes the figures unreliable (see :mod:`.view_check`): empty when nothing
        was found, or before enough people were seen at the desk."""
        return self._view.findings() if self._view is not None else []

    @property
    def pile_up_active(self) -> bool:
        """Whether a pile-up is currently raised."""
        return self._pile.active

    @property
    def unstaffed_active(self) -> bool:
        """Whether counter_unstaffed is currently raised."""
        return self._unstaffed.active

    @property
    def stalled_active(self) -> bool:
        """Whether counter_stalled is currently raised."""
        return self._stalled.active

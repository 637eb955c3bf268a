"""Service times scored on real footage: Intel's CC BY 4.0 clip of visitors stepping up to a high table one by one.

The clip (tests/data/footage/one-by-one-person-detection.mp4) is a camera above and behind a stand where six
visitors in turn walk in from below the picture, stand and read, and walk out to the right: a counter seen the way
a ceiling camera sees it. Its truth times each visit at the stand frame by frame.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from kedirivms.analytics.queue import FinishedStay
from kedirivms.analytics.queue.evaluation import FootageTruth, evaluate_clip, score_services
from kedirivms.errors import ConfigError

DATA = Path(__file__).resolve().parents[2] / "data" / "footage"
CLIP = DATA / "one-by-one-person-detection.mp4"
TRUTH = DATA / "one-by-one.truth.json"


def test_the_committed_clip_is_the_one_the_truth_counts() -> None:
    truth = FootageTruth.load(TRUTH)
    assert hashlib.sha256(CLIP.read_bytes()).hexdigest() == truth.sha256
    assert "Creative Commons Attribution 4.0" in truth.source
    assert len(truth.frames) >= 20 and len(truth.tracks) == 6


def test_stays_are_matched_to_visits_by_overlap() -> None:
    truth = FootageTruth.load(TRUTH)
    first, second = truth.tracks[0], truth.tracks[1]
    assert first.service_enter_s is not None and first.service_end_s is not None
    assert second.service_enter_s is not None and second.service_end_s is not None
    true_first = first.service_end_s - first.service_enter_s
    stays = [
        # the first visit, seen 1 s late and 10 % short of its end
        FinishedStay(end=first.service_end_s - 0.1 * true_first + 1.0, service_s=0.9 * true_first, censored=False),
        # someone passing while nobody visits: a stay no visit overlaps
        FinishedStay(end=first.service_end_s + 3.0, service_s=2.0, censored=False),
    ]
    score = score_services(truth.model_copy(update={"tracks": (first, second)}), stays)
    assert (score.truth, score.measured, score.matched, score.missed, score.false) == (2, 2, 1, 1, 1)
    assert score.rows[0][0] == first.id
    assert score.duration_error_pct == pytest.approx(10.0)
    assert score.start_error_s == pytest.approx(1.0)


def test_the_first_two_visits_are_timed_on_the_real_clip() -> None:
    """The default detector at 2 Hz: both visitors of the first 50 s are found at the stand, each once.

    The first walks in from below the picture (her box is cut by its bottom edge until her feet show) and stands
    close to where she came in.
    """
    truth = FootageTruth.load(TRUTH)
    score = evaluate_clip(CLIP, truth, detector="dnn", end_s=50.0)
    assert score.services is not None
    assert score.services.truth == 2
    assert (score.services.matched, score.services.false) == (2, 0), score.services.rows
    assert score.services.duration_error_pct <= 20.0, score.services.rows
    assert score.mae <= 0.25, score.per_frame  # one person or nobody: counted right on (almost) every frame
    # the run's own output, kept beside the score (benchmarks/queue_footage_trace.py compares it between versions)
    assert len(score.stays) == score.services.measured and len(score.lengths) == score.decoded
    assert score.decoded == 501  # decoded to end_s (10 fps), past the last annotated frame


def test_a_visit_still_at_the_stand_where_the_run_stops_is_scored_to_there() -> None:
    """Cut at 30 s, the second visitor (at the stand 23.6-44.3 s) is still being served: the truth counts their
    service up to 30 s, as the analyzer's stay is flushed there, and the two match (before, the service was dropped
    from the truth and the stay read as false)."""
    truth = FootageTruth.load(TRUTH)
    score = evaluate_clip(CLIP, truth, detector="dnn", end_s=30.0)
    assert score.services is not None
    assert (score.services.truth, score.services.matched, score.services.false) == (2, 2, 0), score.services.rows
    second = score.services.rows[1]
    assert second[2] == pytest.approx(30.0) and second[4] == pytest.approx(30.0, abs=0.2), second


def test_end_before_any_annotated_frame_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no annotated frame"):
        evaluate_clip(CLIP, FootageTruth.load(TRUTH), detector="background", end_s=1.0)


def test_the_streams_end_ends_the_stays_it_cut_short() -> None:
    """A visitor who left 1 s before the end (lost, not yet given up) is a service; one still there is censored."""
    from kedirivms.analytics.queue.service import ServiceTracker

    service = ServiceTracker(relink_s=4.0, relink_px=20.0, warmup_s=0.0)
    t = 0.0
    while t <= 12.0:
        ids, xy, inside = [1], [[100.0, 100.0]], [True]
        if t >= 2.0:  # a second person arrives at another spot and is still there at the end
            ids, xy, inside = [1, 2], [[100.0, 100.0], [300.0, 100.0]], [True, True]
        if t > 10.0:  # the first walks out of the picture (lost)
            ids, xy, inside = [2], [[300.0, 100.0]], [True]
        done, _ = service.update(t, np.array(ids), np.array(xy), np.array(inside))
        assert done == []  # the first is lost for less than relink_s: their stay is still open
        t = round(t + 0.5, 1)
    ended = sorted(service.finish(12.0), key=lambda s: s.end)
    assert [(s.end, s.service_s, s.censored) for s in ended] == [(10.0, 10.0, False), (12.0, 10.0, True)]
    assert service.finish(12.5) == []


def test_a_gif_clip_of_people_seated_still_is_scored() -> None:
    """A GIF decodes to RGB pictures (no luma plane): the analyzer once crashed on them.

    The four people sit still behind desks for the whole 3 s clip: the model finds all four on every frame. The
    motion gate (on by default) once held them back until they moved (MAE 1.04); its start-up trial counts them
    from the first picture, since none of them is ever perfectly still (see the docs).
    """
    truth = FootageTruth.load(DATA / "classroom.truth.json")
    ungated = evaluate_clip(
        DATA / "classroom.gif", truth, detector="dnn", config={"dnn": {"motion_gate": {"enabled": False}}}
    )
    assert ungated.frames == 23 and ungated.mae == 0.0, ungated.per_frame
    gated = evaluate_clip(DATA / "classroom.gif", truth, detector="dnn")
    assert gated.frames == 23 and gated.bias <= 0.0  # never invented
    assert gated.mae <= 0.5, gated.per_frame  # the goal


@pytest.mark.parametrize(
    "clip, truth",
    [
        ("worker-zone-detection.gif", "worker-zone.truth.json"),
        ("face-demographics-walking.gif", "walking.truth.json"),
        ("face-demographics-walking-and-pause.gif", "walking-and-pause.truth.json"),
        # held out while the motion gate's start-up trial was built
        ("people-detection.gif", "people-detection.truth.json"),
        ("person-bicycle-car-detection.gif", "person-bicycle-car.truth.json"),
        ("head-pose-face-detection-female-and-male.gif", "head-pose.truth.json"),
        # held out until scored once on 2026-12-04 (tenth session)
        ("head-pose-face-detection-male.gif", "head-pose-male.truth.json"),
        ("head-pose-face-detection-female.gif", "head-pose-female.truth.json"),
    ],
)
def test_more_real_clips_are_what_their_truth_counts_and_never_over_counted(clip: str, truth: str) -> None:
    """Intel's previews, counted by eye before any code ran on them: a worker crossing a hall of white pillars,
    two people walking up a corridor, three walking up to the camera and standing; and, held out while the motion
    gate's start-up trial was built, a woman leaving an empty room, a cyclist and a car in a car park, two people
    standing still facing the camera from the first frame. The default detector never counts a pillar, a wall, a
    door, a window or a car as a person: the trial counts places of the first picture only while they are not
    perfectly still. Held out until scored once (tenth session): one man, then one woman, standing still close to
    the camera. Every clip is mostly right since the tenth session: people cut by the picture's bottom edge are in a
    zone drawn to it (head-pose), and the closer look where something moved finds the car park's cyclist: each meets
    the goal (MAE <= 0.5) since then, and this test keeps it."""
    t = FootageTruth.load(DATA / truth)
    assert hashlib.sha256((DATA / clip).read_bytes()).hexdigest() == t.sha256
    assert "Creative Commons Attribution 4.0" in t.source
    score = evaluate_clip(DATA / clip, t, detector="dnn")
    assert score.frames == len(t.frames) >= 18
    assert all(got <= expected for _, _, expected, got in score.per_frame), score.per_frame
    assert score.mae <= 0.5, score.per_frame  # the goal, met on every clip since the tenth session


def test_the_model_finds_the_woman_whose_box_reaches_the_pictures_bottom_edge() -> None:
    """Head-pose (female): the model finds her on every annotated frame, one box reaching the picture's bottom edge.

    The analyzer counted her on none before the tenth session (MAE 1.0): what lost her was not the model but the
    zone test of the next test.
    """
    import av

    from kedirivms.analytics.queue.onnx import OnnxPersonDetector
    from kedirivms.stream import Frame

    truth = FootageTruth.load(DATA / "head-pose-female.truth.json")
    wanted = {f.index for f in truth.frames}
    detector = OnnxPersonDetector()  # the shipped model, default confidence
    seen = 0
    with av.open(str(DATA / "head-pose-face-detection-female.gif")) as container:
        for index, picture in enumerate(container.decode(video=0)):
            if index not in wanted:
                continue
            found = detector.detect_frame(Frame(picture, time=index / 12.0, index=index), index / 12.0)
            assert len(found) == 1, (index, found.xyxy)
            assert found.xyxy[0, 3] == picture.height, (index, found.xyxy)  # cut by the bottom edge
            seen += 1
    assert seen == len(wanted) == 23


def test_a_person_cut_by_the_pictures_bottom_edge_is_inside_a_whole_picture_zone() -> None:
    """The woman's box on head-pose (female), frame 0, in the zone that covers the whole picture."""
    import supervision as sv

    from kedirivms.analytics.zones import Zone

    zone = Zone(name="scene", kind="queue", points=[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    box = sv.Detections(
        xyxy=np.array([[137.0, 44.0, 328.0, 270.0]]), confidence=np.array([0.88]), class_id=np.array([0])
    )
    assert zone.polygon_zone((480, 270), sv.Position.BOTTOM_CENTER).trigger(box).tolist() == [True]


def test_the_view_survey_names_a_thin_zone_on_the_real_clip_and_not_the_annotated_one() -> None:
    """Footage we did not make (the thin-zone limit was set on our renderer and our composite scenes): the stand's
    zone as annotated is 0.4 of the visitors' box height where they stand, nothing named; redrawn as a strip of a
    quarter of its height on the row their feet stand on (``benchmarks/queue_view_survey_real.py``), it is named
    ``desk_zone_thin``, and both visits of the first 50 s are still timed."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
    from queue_view_survey_real import strip

    truth = FootageTruth.load(TRUTH)
    annotated = evaluate_clip(CLIP, truth, detector="dnn", end_s=50.0)
    assert annotated.view_findings == [] and annotated.desk_zone_share is not None
    assert annotated.desk_zone_share > 0.3
    thin = evaluate_clip(CLIP, strip(truth, 0.25, 0.90), detector="dnn", end_s=50.0)
    assert thin.view_findings == ["desk_zone_thin"] and thin.desk_zone_share is not None
    assert thin.desk_zone_share < 0.2
    assert thin.services is not None and thin.services.matched == 2, thin.services.rows


def test_a_service_still_going_on_at_the_end_counts_when_the_end_is_given() -> None:
    """A visitor still at the desk when the clip ends has no service end in the truth; the analyzer's flush ends
    their stay at the last frame. Given that end (``end_s``), the two are matched; without it the service is not
    counted and the stay reads as false."""
    truth = FootageTruth.load(TRUTH)
    first = truth.tracks[0]
    assert first.service_enter_s is not None
    open_visit = first.model_copy(update={"service_end_s": None})
    end = first.service_enter_s + 20.0
    stays = [FinishedStay(end=end, service_s=19.0, censored=False)]
    only = truth.model_copy(update={"tracks": (open_visit,)})
    with_end = score_services(only, stays, end_s=end)
    assert (with_end.truth, with_end.matched, with_end.false) == (1, 1, 0)
    assert with_end.start_error_s == pytest.approx(1.0)
    without = score_services(only, stays)
    assert (without.truth, without.matched, without.false) == (0, 0, 1)

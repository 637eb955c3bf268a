"""The recorder: packets demuxed by a :class:`~kedirivms.stream.Stream` remuxed into indexed MP4 segments."""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import os
import queue
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import av

from kedirivms._redact import redact_text
from kedirivms.errors import InvalidArgument, KedirivmsError, RecordingError, StorageError
from kedirivms.record._index import SegmentIndex, release_lock, try_lock
from kedirivms.record._layout import camera_dir_name, complete_length, segment_relpath, utc
from kedirivms.record._models import RecorderState, RecorderStats, RetentionPolicy, Segment, SegmentStatus
from kedirivms.record._segment import Pkt, SegmentWriter, Template
from kedirivms.stream import StateChange, Stream, StreamState, open_stream

if TYPE_CHECKING:
    from av.packet import Packet
    from av.video.stream import VideoStream

__all__ = ["Recorder"]

log = logging.getLogger("kedirivms.record")

_STOP = object()
_RETRY_STORAGE = 2.0  # seconds between attempts to write again after a storage failure
# The demux thread hands packets to the writer in batches, not one by one: one batch per MP4 fragment, handed
# over with the packet that starts the next fragment (a keyframe, or the first packet fragment_seconds of dts
# after the fragment's first: the muxer's frag_keyframe and frag_duration rules), so a fragment reaches the file
# as soon as it is complete; and at the latest _HANDOFF_FRAGMENTS fragments' time after the last hand-over (a
# stream whose timestamps stall). A wake-up per packet, or a writer polling ten times a second, cost more CPU
# than the remux itself; handing over at each keyframe and every 0.5 s woke the writer 3.5-3.9 times a second,
# this about once (measured per thread from /proc: docs/recording.md, Cost).
_HANDOFF_FRAGMENTS = 2.0
# What the demux thread hands over per packet: (packet, arrival time.time(), template) for a packet lent to the
# writer, which reads its fields; (copy, arrival, template, pts, dts, keyframe, duration) for a copy of its payload.
_Demuxed = tuple[Any, ...]
_IDLE = 0.5  # seconds the writer waits for work before its idle pass (event mode's post-roll on a stalled camera)


class Recorder:
    """Record one camera's stream into ``<root>/<camera>/<YYYY-MM-DD>/<HH>/<MM.SS>.mp4`` segments (UTC).

    The recorder hooks the stream's packet listener: the same RTSP connection that feeds decoding feeds the
    recording, and packets are remuxed (never transcoded) into fragmented MP4 on a writer thread of its own, so
    a slow disk never stalls the demux thread. Segments are cut at the first keyframe after ``segment_seconds``;
    fragments last at most ``fragment_seconds``, which bounds what a crash can lose. Each segment is indexed
    when it opens (``recording``) and when it closes (``complete``); gaps (disconnects, storage failures, the
    recorder being down) are indexed too.

    Args:
        stream: the :class:`~kedirivms.stream.Stream` to record (not started by the recorder unless it owns it).
        root: the recording root folder.
        camera: camera name (the folder under ``root``; unsafe characters become ``_``).
        segment_seconds: target segment length; cut at the next keyframe.
        fragment_seconds: longest MP4 fragment (<= 1 s by default).
        mode: ``"continuous"``, or ``"event"``: only around :meth:`trigger` calls.
        pre_roll: event mode: seconds kept before a trigger (at least back to the last keyframe).
        post_roll: event mode: seconds recorded after the last trigger.
        retention: a policy applied after each closed segment (and by :meth:`apply_retention`).
        index: a shared :class:`SegmentIndex` (default: one of the recorder's own).
        max_queue: packets buffered for the writer before new ones are dropped (and counted).

    Example:
        >>> with open_stream(url, decode=False) as s, Recorder(s, "/srv/rec", "gate-1", segment_seconds=60):
        ...     time.sleep(3600)
    """

    def __init__(
        self,
        stream: Stream,
        root: str | os.PathLike[str],
        camera: str,
        *,
        segment_seconds: float = 60.0,
        fragment_seconds: float = 1.0,
        mode: Literal["continuous", "event"] = "continuous",
        pre_roll: float = 0.0,
        post_roll: float = 10.0,
        retention: RetentionPolicy | None = None,
        index: SegmentIndex | None = None,
        max_queue: int = 3000,
    ) -> None:
        if segment_seconds <= 0 or not 0 < fragment_seconds <= segment_seconds:
            raise InvalidArgument("segment_seconds must be > 0 and 0 < fragment_seconds <= segment_seconds")
        if mode not in ("continuous", "event"):
            raise InvalidArgument(f"mode {mode!r} is not valid", hint="continuous or event")
        if pre_roll < 0 or post_roll < 0:
            raise InvalidArgument("pre_roll and post_roll must be >= 0 seconds")
        self.stream = stream
        self.root = Path(root)
        self.camera = camera_dir_name(camera)
        self.segment_seconds = float(segment_seconds)
        self.fragment_seconds = float(fragment_seconds)
        self.mode = mode
        self.pre_roll = float(pre_roll)
        self.post_roll = float(post_roll)
        self.retention = retention
        self._index = index
        self._own_index = index is None
        self._own_stream = False
        self._max_queue = max_queue
        # batches of packets (lists of _Demuxed, see _HANDOFF_FRAGMENTS) and control messages, in order, for the writer
        self._inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._batch: list[_Demuxed] = []  # demux thread: packets not handed over yet
        self._hand_by = 0.0  # demux thread: time.time() by which the next hand-over is due (_HANDOFF_FRAGMENTS)
        self._frag_end = -math.inf  # demux thread: dts at which the muxer's current fragment ends (by duration)
        self._frag_ticks = 0.0  # demux thread: fragment_seconds in the template's time-base ticks
        self._hand_lock = threading.Lock()
        self._queued = 0  # packets handed over (written by the demux thread only)
        self._taken = 0  # packets taken by the writer (written by the writer thread only)
        self._thread: threading.Thread | None = None
        self._lock_fd: int | None = None
        self._state = RecorderState.NEW
        self._error: StorageError | None = None
        self._c: dict[str, int] = collections.defaultdict(int)
        # demux-thread state
        self._video: VideoStream | None = None
        self._template: Template | None = None
        self._stale_template = False  # set by the writer when the muxer refused a segment's first packet
        self._unready = True  # demux thread: no template, or no picture size yet (see _prepare)
        self._listener = self._on_packet  # one bound method: compared by identity with Stream.packet_owner
        # writer-thread state
        self._dating: Template | None = None  # the template of the packets being dated (see _date)
        self._anchor: float | None = None
        self._held: tuple[av.Packet, int] | None = None
        self._writer: SegmentWriter | None = None
        self._seg_rel: str | None = None
        self._seg_start = 0.0
        self._seg_kind = "continuous"
        self._last_end: float | None = None  # end (epoch) of the last closed segment of this run
        self._gap_from: tuple[float, str] | None = None  # open gap: (since, reason)
        self._names: set[str] = set()
        self._seg_indexed = False  # the open (or just abandoned) segment's row made it into the index
        self._unforgotten: set[str] = set()  # empty segments whose row the index refused to remove
        self._retry_at = 0.0
        self._record_until = 0.0
        self._preroll: collections.deque[list[Pkt]] = collections.deque()
        self._next_start: float | None = None
        self._paused = False

    @classmethod
    def open(
        cls, source: str | os.PathLike[str], root: str | os.PathLike[str], camera: str | None = None, **kwargs: Any
    ) -> Recorder:
        """A recorder with a stream of its own (demux only, no decoding), started and closed with it.

        Args:
            source: ``rtsp://`` URL or file; credentials in the URL are never logged.
            root: the recording root.
            camera: camera name (default: the stream's ``host_port``).
            **kwargs: :class:`Recorder` keywords, plus ``timeout`` and ``transport`` for :func:`open_stream`.
        """
        stream_kw = {k: kwargs.pop(k) for k in ("timeout", "transport", "backoff") if k in kwargs}
        stream = open_stream(source, decode=False, **stream_kw)
        if camera:
            name = camera
        elif "://" in stream.source:
            name = stream.source.split("://")[-1].split("@")[-1].split("/")[0].replace(":", "_")  # host_port
        else:
            name = Path(stream.source).stem  # a file being imported
        rec = cls(stream, root, name, **kwargs)
        rec._own_stream = True
        return rec

    # ----------------------------------------------------------------------------------------- public
    @property
    def state(self) -> RecorderState:
        """The current :class:`RecorderState`."""
        return self._state

    @property
    def error(self) -> StorageError | None:
        """The last storage failure (None once writing works again)."""
        return self._error

    @property
    def index(self) -> SegmentIndex:
        """The segment index of the root (opened by :meth:`start`)."""
        if self._index is None:
            raise RecordingError("the recorder is not started", camera=self.camera, operation="index")
        return self._index

    @property
    def stats(self) -> RecorderStats:
        """A snapshot of the counters."""
        c = self._c
        return RecorderStats(
            camera=self.camera,
            state=self._state,
            packets_in=c["in"] + c["in_skipped"],  # counted per batch handed over, and when skipped
            packets_written=c["written"],
            packets_skipped=c["skipped"] + c["skipped_w"],  # each key has one writer thread
            packets_dropped=c["dropped"],
            bytes_written=c["bytes"],
            segments=c["segments"],
            gaps=c["gaps"],
            storage_errors=c["storage_errors"],
            mux_errors=c["mux_errors"],
            current_segment=self._seg_rel,
            last_error=str(self._error) if self._error else None,
        )

    def start(self) -> Recorder:
        """Check the root, reconcile the index, hook the stream and start the writer thread. Returns ``self``.

        Raises:
            StorageError: the root cannot be created or written.
            RecordingError: another recorder (maybe in another process) records this camera into this root.
        """
        if self._thread is not None:
            return self
        if self._index is None:
            self._index = SegmentIndex(self.root)
        try:
            self._lock_fd = try_lock(self.root, self.camera)
        except OSError as exc:
            raise StorageError(
                f"cannot write under {self.root}: {exc.strerror}",
                camera=self.camera,
                operation="start recording",
                hint="check that the root exists, is writable and has free space",
            ) from exc
        if self._lock_fd is None:
            raise RecordingError(
                f"{self.camera} is already being recorded into {self.root}",
                camera=self.camera,
                operation="start recording",
                hint="stop the other recorder, or use another root or camera name",
            )
        self._index.reconcile(held={self.camera}, cameras={self.camera})
        last = self._index.segments(self.camera)
        if last and self.mode == "continuous":
            self._gap_from = (last[-1].end.timestamp(), "recorder not running")
        self._state = RecorderState.ARMED if self.mode == "event" else RecorderState.WAITING
        self._thread = threading.Thread(target=self._run, name=f"kedirivms-record[{self.camera}]", daemon=True)
        self._thread.start()
        self.stream.on_state(self._on_state)
        self.stream.add_packet_listener(self._listener)
        if self._own_stream:
            self.stream.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Close the open segment (indexed ``complete``), stop the writer and release the camera. Idempotent."""
        if self._thread is None or self._state is RecorderState.CLOSED:
            self._state = RecorderState.CLOSED
            return
        self.stream.remove_packet_listener(self._listener)
        if self._own_stream:
            self.stream.close()
        self._hand_over()  # what the demux thread had not handed over yet
        self._post(_STOP)
        self._thread.join(timeout)
        if self._lock_fd is not None:
            release_lock(self._lock_fd)
            self._lock_fd = None
        if self._own_index and self._index is not None:
            self._index.close()
        self._state = RecorderState.CLOSED

    close = stop

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pause(self) -> None:
        """Stop writing (the open segment is closed; the stream keeps running). In continuous mode the time until
        :meth:`resume` is indexed as a gap ``paused``."""
        self._post(("pause", True, time.time()))

    def resume(self) -> None:
        """Write again from the next keyframe after :meth:`pause`."""
        self._post(("pause", False, time.time()))

    @property
    def paused(self) -> bool:
        """True between :meth:`pause` and :meth:`resume`."""
        return self._paused

    def trigger(self, name: str = "trigger", *, post_roll: float | None = None, detail: str | None = None) -> None:
        """Mark an event now; in event mode record from the pre-roll until ``post_roll`` s after the last one.

        Args:
            name: event name stored in the index (``motion``, ``line_crossing``...).
            post_roll: seconds to keep recording after this trigger (default: the recorder's ``post_roll``).
            detail: free text stored with the event.
        """
        post = self.post_roll if post_roll is None else float(post_roll)
        self._post(("trigger", name, time.time(), post, detail))

    def apply_retention(self, policy: RetentionPolicy | None = None) -> Any:
        """Run retention now (the recorder's policy by default); returns the :class:`RetentionReport`."""
        from kedirivms.record._retention import apply_retention

        policy = policy or self.retention
        if policy is None:
            raise InvalidArgument("no retention policy given", camera=self.camera, operation="retention")
        return apply_retention(self.index, policy)

    def __repr__(self) -> str:
        return f"<kedirivms.Recorder {self.camera} {self._state.value} -> {self.root}>"

    # ------------------------------------------------------------------------------ demux thread side
    def _on_packet(self, packet: Packet, video: VideoStream) -> None:
        # Once per packet on the demux thread, which does only what cannot wait: note the arrival time, lend (or
        # copy) the packet, and decide the hand-over. Dating the packet (pts, the wall-clock anchor, a held first
        # picture) is the writer's, once per batch (_date); counting and the queue's bound are done once per batch
        # (_hand_over); a new stream, parameters to capture again or a picture size still unknown go through
        # _prepare. A packet arrives after tens of milliseconds of sleep, when this code is out of the CPU caches,
        # so each line of Python here costs ~15x what it costs in a loop (docs/recording.md, Cost).
        template = self._template
        if video is not self._video or self._unready or self._stale_template:
            template = self._prepare(packet, video)
            if template is None:
                return
        now = time.time()
        dts = packet.dts
        if self.stream.packet_owner is self._listener:
            # nothing else uses the packet (a demux-only stream recorded once): the writer gets it, reads its
            # timestamps and changes them
            self._batch.append((packet, now, template))
        else:  # the writer changes timestamps and stream: it gets a copy of the payload (buffer protocol)
            copy = av.Packet(packet)  # type: ignore[arg-type, unused-ignore]  # older PyAV stubs refuse a Packet
            self._batch.append((copy, now, template, packet.pts, dts, packet.is_keyframe, packet.duration))
        if dts is None:
            dts = packet.pts
            if dts is None:  # an undated packet (see _date) decides no hand-over, unless the batch is full
                if len(self._batch) >= self._max_queue:
                    self._hand_over(now)
                return
        if packet.is_keyframe or dts >= self._frag_end or now >= self._hand_by:
            # this packet begins the muxer's next fragment (see _HANDOFF_FRAGMENTS)
            self._frag_end = dts + self._frag_ticks
            self._hand_over(now)

    def _prepare(self, packet: Packet, video: VideoStream) -> Template | None:
        """The template for a packet :meth:`_on_packet` cannot take as is (None: skip the packet): capture the codec
        parameters of a new stream, or again after the muxer refused them (at a keyframe), and learn a missing
        picture size from a keyframe."""
        key = packet.is_keyframe
        if video is not self._video or (self._stale_template and key):
            self._new_template(video)
        template = self._template
        if template is None or (not template.sized and not (key and template.learn_size(packet))):
            # no usable stream, or no picture size yet: segments start at a keyframe, whose decoding tells it
            self._c["in_skipped"] += 1
            self._c["skipped"] += 1
            self._unready = True
            return None
        self._unready = False
        return template

    def _new_template(self, video: VideoStream) -> None:
        """A new stream, or the muxer refused to start a segment with the parameters captured so far: capture
        them again (FFmpeg may have learnt more of the stream since)."""
        self._stale_template = False
        try:
            self._template = Template(video)
        except Exception as exc:  # noqa: BLE001 - an unusable stream must not kill the demux thread
            log.warning("%s: cannot record this stream: %s", self.camera, exc)
            self._template = None
        else:
            # the fragment rule in time-base ticks (exact: Fraction), compared with each packet's dts
            self._frag_ticks = float(Fraction(self.fragment_seconds) / self._template.time_base)
        self._video = video
        self._frag_end = -math.inf  # the next dated packet begins a fragment

    def _hand_over(self, now: float | None = None) -> None:
        """Give the writer the packets batched so far (one wake-up for the lot), within the queue's bound."""
        with self._hand_lock:  # stop() hands over from another thread: never put one batch twice
            now = time.time() if now is None else now
            self._hand_by = now + self.fragment_seconds * _HANDOFF_FRAGMENTS
            batch = self._batch
            if batch:
                self._batch = []
                c = self._c
                c["in"] += len(batch)
                room = self._max_queue - (self._queued - self._taken)
                if len(batch) > room:  # bounded: a stuck disk must not eat all memory; the newest packets go
                    keep = max(room, 0)
                    c["dropped"] += len(batch) - keep
                    del batch[keep:]
                if batch:
                    self._queued += len(batch)
                    self._inbox.put(batch)

    def _on_state(self, change: StateChange) -> None:
        if change.state in (StreamState.DISCONNECTED, StreamState.ENDED, StreamState.CLOSED):
            self._hand_over()  # on the demux thread: the packets before the change go first
            self._post(("state", change.state, change.time, change.reason))

    # ----------------------------------------------------------------------------- writer thread side
    def _post(self, message: Any) -> None:
        self._inbox.put(message)

    def _run(self) -> None:
        inbox = self._inbox
        idle = _IDLE if self.mode == "event" else None  # the idle pass does nothing in continuous mode: no wake-ups
        while True:
            try:
                item = inbox.get(timeout=idle)
            except queue.Empty:
                self._idle()
                continue
            if item is _STOP:
                self._close_segment()
                self._forget_again()
                return
            if isinstance(item, list):
                self._taken += len(item)
                try:
                    dated = self._date(item)
                except Exception:  # noqa: BLE001 - as _handle: the writer must survive anything and keep recording
                    log.exception("recorder %s: unexpected failure", self.camera)
                    continue
                self._write_batch(dated)
            else:
                self._handle(item)

    def _date(self, batch: list[_Demuxed]) -> list[Pkt]:
        """The batch's packets with their timestamps and wall-clock times (:class:`Pkt`), in order."""
        out: list[Pkt] = []
        for entry in batch:
            if len(entry) == 3:  # a lent packet: its own fields (the demux thread is done with it)
                packet, now, template = entry
                pts, dts, key, duration = packet.pts, packet.dts, packet.is_keyframe, packet.duration
            else:
                packet, now, template, pts, dts, key, duration = entry
            if template is not self._dating:  # a new stream (or its parameters captured again): a new clock
                self._dating = template
                self._anchor = None
                self._held = None
            if pts is None:
                pts = dts
            if pts is None:
                # FFmpeg's RTP demuxer gives the first picture (the IDR a server starts with) no timestamp until
                # RTCP sync: hold it and date it one frame before the next one rather than lose a whole GOP
                if self._held is None and key:
                    self._held = (packet, duration or 0)
                else:
                    self._c["skipped_w"] += 1
                continue
            tick = template.tick
            st = pts * tick
            offset = now - st
            anchor = self._anchor
            if anchor is None or offset < anchor or offset - anchor > 2.0:
                anchor = self._anchor = offset  # least-delayed arrival maps pts to wall time; re-anchor on jumps
            if self._held is not None:
                held, held_duration = self._held
                self._held = None
                step = held_duration or template.frame_ticks
                out.append(Pkt(held, pts - step, pts - step, True, held_duration, template, anchor + st - step * tick))
            out.append(Pkt(packet, pts, dts if dts is not None else pts, key, duration or 0, template, anchor + st))
        return out

    def _write_batch(self, batch: list[Pkt]) -> None:
        """Write one hand-over's packets, in order.

        The common packet (continuous mode, not paused, a segment open for its stream, not a keyframe: nothing to
        decide) goes straight to :meth:`_write`; every other one through :meth:`_handle`, which decides.
        """
        if self._paused or self.mode != "continuous":
            for pkt in batch:
                self._handle(pkt)
            return
        for pkt in batch:
            w = self._writer
            if w is None or pkt.key or w.template is not pkt.template:
                self._handle(pkt)
                continue
            try:
                self._write(pkt)
            except Exception:  # noqa: BLE001 - as _handle: the writer must survive anything and keep recording
                log.exception("recorder %s: unexpected failure", self.camera)

    def _handle(self, item: Any) -> None:
        try:
            if isinstance(item, Pkt):
                self._on_item(item)
            elif item[0] == "trigger":
                self._on_trigger(*item[1:])
            elif item[0] == "state":
                self._on_disconnect(*item[1:])
            elif item[0] == "pause":
                self._on_pause(*item[1:])
        except Exception:  # noqa: BLE001 - the writer must survive anything and keep recording
            log.exception("recorder %s: unexpected failure", self.camera)

    def _on_pause(self, pause: bool, when: float) -> None:
        if pause == self._paused:
            return
        self._paused = pause
        if pause:
            had = self._writer is not None
            self._close_segment()
            self._preroll.clear()
            if self.mode == "continuous" and self._gap_from is None:
                self._gap_from = (self._last_end if had and self._last_end else when, "paused")
            self._state = RecorderState.PAUSED
        else:
            self._state = RecorderState.ARMED if self.mode == "event" else RecorderState.WAITING
        self._safe_index(lambda ix: ix.add_event(self.camera, when, "paused" if pause else "resumed"))

    def _on_item(self, item: Pkt) -> None:
        if self._paused:
            self._c["skipped_w"] += 1
            return
        if self.mode == "event" and self._writer is None:
            self._buffer(item)
            return
        w = self._writer
        if w is not None:
            if w.template is not item.template:
                self._close_segment()
            elif item.key and w.elapsed(item.pts) >= self.segment_seconds - 1e-3:
                # contiguous with the previous segment, unless the camera clock drifted from ours by > 0.5 s
                follow = self._seg_start + w.elapsed(item.pts)
                self._close_segment(next_start=follow if abs(follow - item.wall) <= 0.5 else item.wall)
            elif self.mode == "event" and item.wall > self._record_until:
                self._close_segment()
                self._state = RecorderState.ARMED
                self._buffer(item)
                return
        if self._writer is None:
            if not item.key or (self._state is RecorderState.FAILED and time.time() < self._retry_at):
                self._c["skipped_w"] += 1
                return
            if not self._open_segment(item, self._next_start or item.wall):
                self._c["skipped_w"] += 1
                return
        self._write(item)

    def _buffer(self, item: Pkt) -> None:
        gops = self._preroll
        if item.key:
            gops.append([item])
            while len(gops) >= 2 and gops[1][0].wall <= item.wall - self.pre_roll:
                gops.popleft()
        elif gops:
            gops[-1].append(item)
        else:
            self._c["skipped_w"] += 1
        if gops and item.wall <= self._record_until:
            self._flush_preroll()

    def _flush_preroll(self) -> None:
        items = [p for gop in self._preroll for p in gop]
        self._preroll.clear()
        if not items or not self._open_segment(items[0], items[0].wall):
            self._c["skipped_w"] += len(items)
            return
        for p in items:
            if self._writer is None:
                break
            self._write(p)

    def _on_trigger(self, name: str, wall: float, post: float, detail: str | None) -> None:
        self._record_until = max(self._record_until, wall + post)
        self._safe_index(lambda ix: ix.add_event(self.camera, wall, name, detail))
        if self.mode == "event" and self._writer is None and self._preroll:
            self._flush_preroll()

    def _idle(self) -> None:
        # event mode: the post-roll ran out while no packet arrived (stalled camera)
        if self.mode == "event" and self._writer is not None and time.time() > self._record_until + 1.0:
            self._close_segment()
            self._state = RecorderState.ARMED

    def _on_disconnect(self, state: StreamState, when: float, reason: str | None) -> None:
        had = self._writer is not None
        self._close_segment()
        self._preroll.clear()
        if state is StreamState.DISCONNECTED:
            self._state = RecorderState.DISCONNECTED
            why = redact_text(reason or "disconnected")
            self._safe_index(lambda ix: ix.add_event(self.camera, when, "disconnected", why))
            if self.mode == "continuous" and self._gap_from is None:
                self._gap_from = (self._last_end if had and self._last_end else when, f"disconnected: {why}")

    def _open_segment(self, item: Pkt, start: float) -> bool:
        rel = segment_relpath(self.camera, start, self._names)
        try:
            writer = SegmentWriter(self.root / rel, item.template, item.pts, self.fragment_seconds, item.dts)
        except OSError as exc:
            self._storage_failure(exc, "open segment", rel)
            return False
        except av.error.FFmpegError as exc:
            self._mux_rejected(exc, "open segment", rel, header=True)
            return False
        self._writer = writer
        self._seg_rel = rel
        self._seg_start = start
        self._seg_kind = self.mode
        self._names.add(rel)
        self._next_start = None
        if self._gap_from is not None:
            since, reason = self._gap_from
            self._gap_from = None
            if start - since > 0.05:
                self._c["gaps"] += 1
                self._safe_index(lambda ix: ix.add_gap(self.camera, since, start, reason))
        self._seg_indexed = self._safe_index(lambda ix: ix.put_segment(self._row(SegmentStatus.RECORDING)))
        if self._seg_indexed and self._unforgotten:
            self._forget_again()
        if self._error is not None:
            self._error = None
        self._state = RecorderState.RECORDING
        return True

    def _write(self, item: Pkt) -> None:
        w = self._writer
        assert w is not None
        try:
            w.write(item)
        except OSError as exc:  # av.error.OSError too: the file system failed (ENOSPC, EIO, EACCES)
            self._storage_failure(exc, "write segment", self._seg_rel)
            return
        except av.error.FFmpegError as exc:  # EINVAL and friends: the muxer refused this packet
            self._c["skipped_w"] += 1
            self._mux_rejected(exc, "write segment", self._seg_rel, header=w.packets == 0)
            return
        self._c["written"] += 1
        self._c["bytes"] += item.packet.size

    def _close_segment(self, next_start: float | None = None) -> None:
        w = self._writer
        if w is None:
            return
        if w.packets == 0:  # nothing written (so nothing indexed): leave no file behind
            self._drop_empty(w)
            return
        try:
            w.close()
        except OSError as exc:
            self._storage_failure(exc, "close segment", self._seg_rel)
            return
        except av.error.FFmpegError as exc:
            self._mux_rejected(exc, "close segment", self._seg_rel, header=False, closing=True)
            return
        row = self._row(SegmentStatus.COMPLETE)
        self._writer = None
        self._last_end = row.end.timestamp()
        self._next_start = next_start
        self._seg_rel = None
        self._c["segments"] += 1
        self._safe_index(lambda ix: ix.put_segment(row))
        if self.retention is not None:
            try:
                self.apply_retention()
            except KedirivmsError as exc:
                log.warning("%s: retention failed: %s", self.camera, exc)

    def _row(self, status: SegmentStatus) -> Segment:
        w = self._writer
        assert w is not None and self._seg_rel is not None
        duration = w.duration if status is not SegmentStatus.RECORDING else 0.0
        try:
            size = (self.root / self._seg_rel).stat().st_size
        except OSError:
            size = w.bytes
        t = w.template
        return Segment(
            camera=self.camera,
            path=self._seg_rel,
            start=utc(self._seg_start),
            end=utc(self._seg_start + duration),
            duration=duration,
            bytes=size,
            codec=t.codec,
            width=t.width,
            height=t.height,
            packets=w.packets,
            status=status,
            kind=self._seg_kind,
        )

    def _storage_failure(self, exc: BaseException, operation: str, rel: str | None) -> None:
        """Abandon the open segment, keep what is readable of it, and retry at later keyframes."""
        text = getattr(exc, "strerror", None) or str(exc)
        self._error = StorageError(
            f"{operation} {rel or ''} failed: {text}",
            camera=self.camera,
            operation=operation,
            hint="free disk space or fix permissions under the recording root; recording resumes by itself",
        )
        self._c["storage_errors"] += 1
        log.error("%s", self._error)
        now = time.time()
        w = self._writer
        if w is not None:
            w.abort()
            self._writer = None
            self._seg_rel = None
            end = self._seg_start + w.duration
            self._gap_from = (end, f"storage error: {text}")
            self._salvage(rel)
        elif self._gap_from is None and self._state is not RecorderState.FAILED:
            self._gap_from = (now, f"storage error: {text}")
        if self._state is not RecorderState.FAILED:
            self._safe_index(lambda ix: ix.add_event(self.camera, now, "storage_error", text))
        self._state = RecorderState.FAILED
        self._retry_at = now + _RETRY_STORAGE

    def _drop_empty(self, w: SegmentWriter) -> None:
        """Forget a segment that holds no packet: its (empty) file and its ``recording`` row."""
        rel = self._seg_rel
        assert rel is not None  # (set with the writer, see _open_segment)
        w.abort()
        self._writer = None
        self._seg_rel = None
        self._forget(rel, indexed=self._seg_indexed)

    def _mux_rejected(
        self, exc: BaseException, operation: str, rel: str | None, *, header: bool, closing: bool = False
    ) -> None:
        """The muxer (not the disk) refused: close the segment, keep it, start a new one at the next keyframe.

        A packet FFmpeg's muxer refuses (EINVAL: timestamps or sizes it cannot store, parameters it cannot
        describe) says nothing about the storage, so it neither raises a storage error nor waits for the disk
        to recover: at most the rest of this GOP is lost. When a segment's very first packet is refused, the
        codec parameters are captured again at the next keyframe.
        """
        text = getattr(exc, "strerror", None) or str(exc)  # FFmpeg's message without the file's full path
        self._c["mux_errors"] += 1
        log.warning("%s: the muxer refused a packet (%s %s: %s); recording resumes at the next keyframe",
                    self.camera, operation, rel or "", text)  # fmt: skip
        now = time.time()
        self._safe_index(lambda ix: ix.add_event(self.camera, now, "mux_error", f"{operation}: {text}"))
        if header:
            self._stale_template = True
        w = self._writer
        if w is not None:
            if w.packets == 0:
                self._drop_empty(w)
            elif closing:
                w.abort()
                self._writer = None
                self._seg_rel = None
                self._gap_from = (self._seg_start + w.duration, f"muxer error: {text}")
                self._salvage(rel)
            else:
                self._close_segment()  # a failure to close is handled there (storage or muxer)
                if self._state is RecorderState.FAILED:
                    return
                if self.mode == "continuous" and self._gap_from is None and self._last_end is not None:
                    self._gap_from = (self._last_end, f"muxer error: {text}")
        if self._state is not RecorderState.FAILED:
            self._state = RecorderState.ARMED if self.mode == "event" else RecorderState.WAITING

    def _salvage(self, rel: str | None) -> None:
        """Index what survived of an abandoned segment (trimmed to whole fragments); drop it if it holds nothing."""
        if rel is None:
            return
        path = self.root / rel
        try:
            _good, fragments = complete_length(path)
        except OSError:
            fragments = 0
        if fragments == 0:
            self._forget(rel, indexed=self._seg_indexed)
            return
        self._safe_index(lambda ix: ix.reconcile(held={self.camera}, cameras={self.camera}))

    def _forget(self, rel: str, *, indexed: bool) -> None:
        """Drop a segment that holds nothing: its row first (if it was ``indexed``), then its file.

        On a full disk the index may refuse the removal; the file then stays with its ``recording`` row (index and
        files still agree, and reconcile settles the pair), and the removal is tried again once the index takes
        writes again.
        """
        if indexed and not self._safe_index(lambda ix: ix.remove_segment(rel)):
            self._unforgotten.add(rel)
            return
        self._unforgotten.discard(rel)
        with contextlib.suppress(OSError):
            (self.root / rel).unlink()

    def _forget_again(self) -> None:
        """Retry the removals the index refused (called after it took a write)."""
        for rel in sorted(self._unforgotten):
            self._forget(rel, indexed=True)

    def _safe_index(self, fn: Any) -> bool:
        """Run one index update; a failure is counted, logged and kept as the recorder's error. True if it took."""
        if self._index is None:
            return True
        try:
            fn(self._index)
        except (KedirivmsError, OSError) as exc:
            self._c["storage_errors"] += 1
            if isinstance(exc, KedirivmsError):
                self._error = StorageError(exc.message, camera=self.camera, operation=exc.operation, hint=exc.hint)
            else:
                self._error = StorageError(f"index update failed: {exc}", camera=self.camera, operation="index")
            log.error("%s: index update failed: %s", self.camera, exc)
            return False
        return True

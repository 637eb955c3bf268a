"""The PyAV-backed stream reader: one demux thread per stream feeding decode, packet listeners and consumers."""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import av
import tenacity

from kedirivms._redact import redact_url, register_secret, url_password
from kedirivms.errors import KedirivmsError, StreamClosed, StreamError, StreamTimeout
from kedirivms.stream._describe import check_describe
from kedirivms.stream._errors import camera_label, is_live, map_av_error, source_text
from kedirivms.stream._frame import Frame
from kedirivms.stream._models import StateChange, StreamOptions, StreamState, StreamStats
from kedirivms.stream._watchdog import Watch, watchdog

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.packet import Packet
    from av.video.stream import VideoStream

__all__ = ["Stream"]

log = logging.getLogger("kedirivms.stream")

FrameCallback = Callable[[Frame], Any]
PacketListener = Callable[["Packet", "VideoStream"], Any]
StateCallback = Callable[[StateChange], Any]


class _Stop(Exception):
    """Internal: the demux loop must end without reconnecting."""


class _Disconnected(Exception):
    """Internal: a session ended; tenacity decides whether and when to reconnect."""


class _Attempt:
    # the minimal retry-state shape that tenacity's wait strategies read
    def __init__(self, number: int) -> None:
        self.attempt_number = number


class Stream:
    """A live (or file) video source decoded on a background thread.

    Nothing runs until :meth:`start` (or ``with``, iteration, :meth:`read`). The demux thread alone opens, reads
    and closes the PyAV container, so :meth:`close` is safe from any thread: it asks the thread to stop and waits
    for it (at most about the read time-out when the source is stalled).

    Args:
        source: ``rtsp://`` (or any FFmpeg URL) or a file path.
        options: see :class:`StreamOptions`.

    Attributes:
        packet_owner: the packet listener that is the only user of the demuxed packets (see :meth:`owns_packets`),
            or None; read-only, for a listener to compare with itself once per packet without a call.

    Example:
        >>> with Stream("rtsp://127.0.0.1:8554/Profile_1_sub") as s:
        ...     frame = s.read(timeout=5)
    """

    def __init__(self, source: str | os.PathLike[str], options: StreamOptions | None = None) -> None:
        self._source = source_text(source)
        register_secret(url_password(self._source))
        self._redacted = redact_url(self._source)
        self._label = camera_label(self._source)
        self.options = options or StreamOptions()
        self._live = is_live(self._source)
        self._block = self.options.block_when_full
        if self._block is None:
            self._block = not self._live
        # a blocking (file) reader gets some slack so producer and consumer do not ping-pong every frame
        self._queue_limit = max(self.options.queue_size, 8) if self._block else self.options.queue_size
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._queue: collections.deque[Frame] = collections.deque()
        self._cb_queue: collections.deque[Frame] = collections.deque()
        self._closing = threading.Event()
        self._stopping = False  # set with _closing: read by the demux loops once per packet without a call
        self._thread: threading.Thread | None = None
        self._dispatcher: threading.Thread | None = None
        self._frame_callbacks: list[FrameCallback] = []
        self._packet_listeners: list[PacketListener] = []
        self.packet_owner: PacketListener | None = None  # see owns_packets
        self._state_callbacks: list[StateCallback] = []
        self._state = StreamState.NEW
        self._reason: str | None = None
        self._error: KedirivmsError | None = None
        self._pulled = False
        self._failures = 0
        self._wait = tenacity.wait_exponential(
            multiplier=self.options.backoff[0], min=self.options.backoff[0], max=self.options.backoff[1]
        )
        # counters (written by the demux thread; ints are atomic enough for a snapshot)
        self._c: dict[str, int] = collections.defaultdict(int)
        self._fps_window: collections.deque[float] = collections.deque(maxlen=64)
        self._last_frame_mono: float | None = None
        self._geometry: tuple[int | None, int | None, str | None] = (None, None, None)
        self._index = 0
        self._watch: Watch | None = None  # the current session's read time-out watch (None: PyAV's stays armed)

    # -- public surface -------------------------------------------------------------------------------------
    @property
    def source(self) -> str:
        """The source with any password redacted."""
        return self._redacted

    @property
    def state(self) -> StreamState:
        """The current :class:`StreamState`."""
        return self._state

    @property
    def last_error(self) -> KedirivmsError | None:
        """Why the last connection attempt failed or ended (``None`` while streaming or before any attempt).

        Lets a caller that got no frame tell a refused password (:class:`AuthenticationFailed`) from an
        unreachable server (:class:`StreamOpenError`) or a stall (:class:`StreamTimeout`).
        """
        return self._error

    @property
    def stats(self) -> StreamStats:
        """A snapshot of the counters (a new :class:`StreamStats` each call)."""
        now = time.monotonic()
        window = [t for t in tuple(self._fps_window) if now - t <= 5.0]  # tuple(): atomic snapshot
        fps = 0.0
        if len(window) >= 2 and window[-1] > window[0]:
            fps = (len(window) - 1) / (window[-1] - window[0])
        age = None if self._last_frame_mono is None else now - self._last_frame_mono
        width, height, codec = self._geometry
        c = self._c
        return StreamStats(
            source=self._redacted,
            state=self._state,
            packets=c["packets"],
            bytes=c["bytes"],
            decoded=c["decoded"],
            delivered=c["delivered"],
            dropped=c["dropped"],
            skipped=c["skipped"],
            capped=c["capped"],
            decode_errors=c["decode_errors"],
            reconnects=c["reconnects"],
            fps=round(fps, 3),
            last_frame_age=age,
            width=width,
            height=height,
            codec=codec,
        )

    def start(self) -> Stream:
        """Start the demux thread (idempotent). Returns ``self``.

        Raises:
            StreamClosed: the stream was already closed.
        """
        with self._lock:
            if self._closing.is_set():
                raise StreamClosed("the stream is closed", camera=self._label, operation="start")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"kedirivms-demux[{self._label}]", daemon=True)
                self._thread.start()
            if self._frame_callbacks and self._dispatcher is None:
                self._start_dispatcher()
        return self

    def close(self, timeout: float | None = None) -> None:
        """Stop and release everything; safe from any thread, idempotent.

        Args:
            timeout: seconds to wait for the threads; default the larger time-out plus one second.
        """
        self._stopping = True
        self._closing.set()
        with self._cond:
            self._cond.notify_all()
        wait = timeout if timeout is not None else max(self.options.timeout) + 1.0
        deadline = time.monotonic() + wait
        for thread in (self._thread, self._dispatcher):
            if thread is not None and thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        with self._cond:
            self._queue.clear()
            self._cb_queue.clear()
        if self._state is not StreamState.CLOSED:
            self._set_state(StreamState.CLOSED, None)

    def __enter__(self) -> Stream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        """Yield the latest frames until the stream is closed or ends (reconnects are waited through)."""
        self.start()
        while True:
            try:
                yield self._take(None)
            except StreamClosed:
                return

    def read(self, timeout: float | None = 1.0) -> Frame:
        """Return the next frame (the oldest one still queued).

        Args:
            timeout: seconds to wait; ``None`` waits until a frame arrives or the stream closes.

        Raises:
            StreamTimeout: no frame within ``timeout``.
            StreamClosed: the stream was closed or ended.
            StreamOpenError, AuthenticationFailed: the source failed and ``reconnect`` is off.
        """
        self.start()
        return self._take(timeout)

    def on_frame(self, callback: FrameCallback) -> None:
        """Call ``callback(frame)`` for each frame on a dispatcher thread (latest-frame: slow callbacks drop)."""
        with self._lock:
            self._frame_callbacks.append(callback)
            if self._thread is not None and self._dispatcher is None:
                self._start_dispatcher()

    def on_state(self, callback: StateCallback) -> None:
        """Call ``callback(StateChange)`` on every state change (on the demux thread; keep it quick)."""
        self._state_callbacks.append(callback)

    def add_packet_listener(self, listener: PacketListener) -> None:
        """Call ``listener(packet, video_stream)`` for every demuxed video packet, before decoding.

        Runs on the demux thread: it must be quick and must not keep the packet past the call unless it is done
        with it (PyAV packets are refcounted, keeping one is safe). A new ``video_stream`` object after a
        reconnect means new codec parameters (see :meth:`on_state`).
        """
        self._packet_listeners.append(listener)
        self._relisted()

    def owns_packets(self, listener: PacketListener) -> bool:
        """Whether ``listener`` is the only user of the demuxed packets (no decoding, no other listener).

        Such a listener may keep a packet and change it (timestamps, stream) after the call instead of copying its
        payload; the demux thread does not touch a packet again once its listeners have returned.
        """
        sole = self.packet_owner
        return sole is not None and (sole is listener or sole == listener)

    def remove_packet_listener(self, listener: PacketListener) -> None:
        """Stop calling ``listener``."""
        if listener in self._packet_listeners:
            self._packet_listeners.remove(listener)
        self._relisted()

    def _relisted(self) -> None:
        one = len(self._packet_listeners) == 1 and not self.options.decode
        # read once per packet by a listener (the recorder) as ``stream.packet_owner is listener``: owns_packets()
        # without a call
        self.packet_owner = self._packet_listeners[0] if one else None

    def wait_for(self, *states: StreamState, timeout: float) -> bool:
        """Block until the stream is in one of ``states``; False after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._state not in states:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.25))
        return True

    def __repr__(self) -> str:
        return f"<kedirivms.Stream {self._redacted} {self._state.value}>"

    # -- consumer side --------------------------------------------------------------------------------------
    def _take(self, timeout: float | None) -> Frame:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._pulled = True
            while not self._queue:
                if self._closing.is_set() or self._state in (StreamState.ENDED, StreamState.CLOSED):
                    if self._error is not None and self._state is StreamState.ENDED:
                        raise self._error
                    raise StreamClosed("the stream is closed", camera=self._label, operation="read")
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    why = f" (last: {self._reason})" if self._reason else ""
                    raise StreamTimeout(
                        f"no frame within {timeout:g} s, stream is {self._state.value}{why}",
                        camera=self._label,
                        operation="read",
                        hint="the camera may be down; the reader keeps reconnecting in the background",
                    )
                self._cond.wait(0.25 if left is None else min(left, 0.25))
            frame = self._queue.popleft()
            self._c["delivered"] += 1
            self._cond.notify_all()
            return frame

    def _start_dispatcher(self) -> None:
        self._dispatcher = threading.Thread(target=self._dispatch, name=f"kedirivms-frames[{self._label}]", daemon=True)
        self._dispatcher.start()

    def _dispatch(self) -> None:
        while True:
            with self._cond:
                while not self._cb_queue:
                    if self._closing.is_set() or self._state is StreamState.ENDED:
                        return
                    self._cond.wait(0.25)
                frame = self._cb_queue.popleft()
                self._c["delivered"] += 1  # under the lock: read() counts deliveries from another thread
            for callback in list(self._frame_callbacks):
                try:
                    callback(frame)
                except Exception:  # a consumer's bug must not stop the stream
                    log.exception("frame callback %r failed on %s", callback, self._redacted)

    # -- demux side -----------------------------------------------------------------------------------------
    def _set_state(self, state: StreamState, reason: str | None, attempt: int = 0) -> None:
        with self._cond:
            self._state = state
            self._reason = reason
            self._cond.notify_all()
        change = StateChange(state, reason, attempt)
        for callback in list(self._state_callbacks):
            try:
                callback(change)
            except Exception:
                log.exception("state callback %r failed on %s", callback, self._redacted)

    def _run(self) -> None:
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Disconnected),
            wait=lambda _rs: self._wait(_Attempt(max(1, self._failures))),  # type: ignore[arg-type]
            stop=lambda _rs: self._closing.is_set(),
            sleep=self._sleep,
            reraise=True,
        )
        attempt = 0
        try:
            for retry in retrying:
                with retry:
                    attempt = 1 if self._failures == 0 else attempt + 1
                    self._session(attempt)
        except (_Stop, _Disconnected):
            pass
        except Exception as exc:  # noqa: BLE001 - last-resort guard: the thread must record, never die silently
            self._error = map_av_error(exc, self._source, "stream", read_timeout=self.options.timeout[1])
            log.exception("demux thread of %s failed", self._redacted)
        finally:
            if not self._closing.is_set():
                self._set_state(StreamState.ENDED, self._reason)
            with self._cond:
                self._cond.notify_all()

    def _sleep(self, seconds: float) -> None:
        self._closing.wait(seconds)  # back-off that close() interrupts at once

    def _session(self, attempt: int) -> None:
        """One connection: open, pump until it ends; raises _Disconnected to reconnect, _Stop to finish."""
        if self._closing.is_set():
            raise _Stop
        self._set_state(StreamState.CONNECTING, self._reason, attempt)
        container: InputContainer | None = None
        streaming = False
        try:
            try:
                container = self._open()
                self._watch = watchdog.watch(container, container.read_timeout)
                video = container.streams.video[0] if container.streams.video else None
                if video is None:
                    raise StreamError("the source has no video stream", camera=self._label, operation="open")
                self._configure(video)
                if self._c["sessions"] > 0:
                    self._c["reconnects"] += 1
                self._c["sessions"] += 1
                self._failures = 0
                streaming = True
                self._set_state(StreamState.STREAMING, None, attempt)
                self._pump(container, video)
                reason = "the source ended" + (" (the server closed the connection)" if self._live else "")
                self._error = None
            except (_Stop, StreamClosed):
                raise _Stop from None
            except Exception as exc:
                op = "read" if streaming else "open"
                if self._watch is not None and self._watch.stalled() and isinstance(exc, av.error.FFmpegError):
                    # the watchdog's interrupt ended a read after a stall; FFmpeg's RTSP-over-TCP reader reports
                    # an interrupt inside an interleaved frame's header as EIO, not as an exit (seen under load)
                    exc = TimeoutError()
                err = map_av_error(exc, self._source, op, read_timeout=self.options.timeout[1])
                reason = str(err)
                self._error = err
            if self._closing.is_set():
                raise _Stop
            if not self._live or not self.options.reconnect:
                self._reason = reason
                raise _Stop
            # announce before closing: closing an RTSP container sends TEARDOWN, which waits on a dead server
            self._failures += 1
            self._set_state(StreamState.DISCONNECTED, reason, attempt)
        finally:
            if self._watch is not None:
                self._watch.close()
                self._watch = None
            if container is not None:
                with contextlib.suppress(Exception):  # closing a broken connection may complain
                    container.close()
        raise _Disconnected(reason)

    def _open(self) -> InputContainer:
        open_t, read_t = self.options.timeout
        # FFmpeg's RTSP demuxer retries a timed-out read once (measured: a stall surfaces after 2x either
        # time-out), so both per-read bounds get half the read time-out to detect a stall within read_t.
        per_read = read_t * 0.45
        # FFmpeg allocates per announced stream: a source announcing thousands would cost hundreds of MiB
        opts: dict[str, str] = {"max_streams": str(self.options.max_tracks)}
        # PyAV's read time-out is an interrupt callback that takes the GIL on every socket read and poll (~1000 a
        # second for a 4 Mbit/s RTSP stream over TCP: measured 20 % of a bare demux's CPU). It is the only bound
        # on the time between *pictures*: FFmpeg's socket time-out restarts with every byte, so a camera whose
        # encoder hung while RTCP reports keep its session alive would never be seen as stalled
        # (tests/stream/test_pictureless_session.py). So it is kept, but armed only once a stream has gone the
        # per-read bound without a packet (_watchdog: one thread per process), not on every read.
        if self._source.lower().startswith(("rtsp://", "rtsps://")):
            opts["rtsp_transport"] = self.options.transport
            opts["timeout"] = str(int(per_read * 1_000_000))  # socket I/O time-out, microseconds
            opts["allowed_media_types"] = "video"
            # the SDP carries SPS/PPS: 0.1 s of probing is plenty and cuts the open from ~2 s to ~0.3 s
            opts["analyzeduration"] = "100000"
        elif self._live:
            opts["rw_timeout"] = str(int(read_t * 1_000_000))
            opts["timeout"] = str(int(open_t * 1_000_000))
        opts.update(self.options.ffmpeg_options)
        checked = None
        if self._source.lower().startswith("rtsp://"):  # FFmpeg would read an SDP of any size: check it first
            checked = check_describe(
                self._source,
                budget=open_t,
                per_read=per_read,
                max_bytes=self.options.max_sdp_bytes,
                max_tracks=self.options.max_tracks,
                label=self._label,
            )
        try:
            return av.open(self._source, mode="r", options=opts, timeout=(open_t, per_read))
        finally:
            if checked is not None:  # kept open until FFmpeg's own DESCRIBE is answered (see _describe)
                checked.close()

    def _configure(self, video: VideoStream) -> None:
        ctx = video.codec_context
        video.thread_type = "AUTO"
        if self.options.decoder_threads:
            ctx.thread_count = self.options.decoder_threads
        if self.options.keyframes_only:
            ctx.skip_frame = "NONKEY"
        self._geometry = (ctx.width or None, ctx.height or None, ctx.name)
        self._anchor: float | None = None
        self._next_due: float | None = None
        self._skip_to_key = False
        self._last_key: float | None = None
        self._gop: float | None = None
        self._last_pts: int | None = None
        self._first_pts: int | None = None
        rate = video.average_rate or video.guessed_rate or 25
        tb = self._tb = video.time_base or Fraction(1, 90000)
        self._dur_ticks = max(1, round(1 / (float(rate) * float(tb))))

    def _pump(self, container: InputContainer, video: VideoStream) -> None:
        # the loop runs once per packet: names are bound to locals and the watch's packet() is inlined, since on a
        # demux-only stream this Python is most of what kedirivms adds to FFmpeg's own work (docs/recording.md)
        if not self.options.decode:
            self._pump_packets(container, video)
            return
        tb = float(video.time_base) if video.time_base else 1 / 90000
        listeners = self._packet_listeners
        watch = self._watch
        monotonic = time.monotonic
        c = self._c
        for packet in container.demux(video):
            if watch is not None:
                watch.last = monotonic()  # Watch.packet(), inlined
                if watch.armed:
                    watch.disarm()  # PyAV's read time-out stays off until the watchdog sees a stall (_watchdog)
            if self._stopping:
                raise _Stop
            size = packet.size
            if size == 0:
                self._decode(video, packet, tb)  # flush delayed frames at the end of a file
                continue
            c["packets"] += 1
            c["bytes"] += size
            if packet.pts is not None:  # the anchor dates decoded frames
                if self._first_pts is None:
                    self._first_pts = packet.pts
                offset = time.time() - packet.pts * tb
                if self._anchor is None or offset < self._anchor or offset - self._anchor > 2.0:
                    self._anchor = offset  # earliest arrival = least delay; re-anchor on clock jumps/stalls
            for listener in listeners:
                try:
                    listener(packet, video)
                except Exception:
                    log.exception("packet listener %r failed on %s", listener, self._redacted)
            if not self._should_skip(packet, tb):
                self._decode(video, packet, tb)

    def _pump_packets(self, container: InputContainer, video: VideoStream) -> None:
        """:meth:`_pump` of a demux-only stream: packets to the listeners and nothing else, in as few bytecodes as
        the counters allow (run once per packet after a sleep, when this code is out of the CPU caches: each
        line costs microseconds, docs/recording.md)."""
        listeners = self._packet_listeners
        watch = self._watch
        monotonic = time.monotonic
        c = self._c
        for packet in container.demux(video):
            if watch is not None:
                watch.last = monotonic()  # Watch.packet(), inlined
                if watch.armed:
                    watch.disarm()  # PyAV's read time-out stays off until the watchdog sees a stall (_watchdog)
            if self._stopping:
                raise _Stop
            size = packet.size
            if size == 0:
                continue
            c["packets"] += 1
            c["bytes"] += size
            for listener in listeners:
                try:
                    listener(packet, video)
                except Exception:
                    log.exception("packet listener %r failed on %s", listener, self._redacted)

    def _should_skip(self, packet: Packet, tb: float) -> bool:
        key = packet.is_keyframe
        if self.options.keyframes_only and not key:
            self._c["skipped"] += 1
            return True
        if self.options.max_fps is None:
            return False
        st = (packet.pts or 0) * tb
        if key:
            if self._last_key is not None and st > self._last_key:
                self._gop = st - self._last_key
            self._last_key = st
            self._skip_to_key = False
            return False
        if self._skip_to_key or self._consumers_behind():
            # every consumer still has a full queue: decoding more pictures would only drop them, so stop
            # decoding until the next keyframe (a P-frame cannot be decoded without its predecessors)
            self._skip_to_key = True
            self._c["skipped"] += 1
            return True
        return False

    def _consumers_behind(self) -> bool:
        if self._block:
            return False  # a blocking (file) reader waits for its consumer instead
        limit = self._queue_limit
        behind_pull = len(self._queue) >= limit if self._pulled else None
        behind_cb = len(self._cb_queue) >= limit if self._frame_callbacks else None
        states = [b for b in (behind_pull, behind_cb) if b is not None]
        return bool(states) and all(states)

    def _decode(self, video: VideoStream, packet: Packet, tb: float) -> None:
        try:
            frames = video.decode(packet)
        except av.error.FFmpegError:
            self._c["decode_errors"] += 1
            return
        for av_frame in frames:
            self._on_decoded(av_frame, tb)

    def _on_decoded(self, av_frame: Any, tb: float) -> None:
        c = self._c
        c["decoded"] += 1
        now = time.monotonic()
        self._last_frame_mono = now
        self._fps_window.append(now)
        if av_frame.pts is None:
            # FFmpeg's RTP depacketizer leaves the very first picture without a timestamp: extrapolate
            if self._last_pts is not None:
                av_frame.pts = self._last_pts + self._dur_ticks
            else:
                av_frame.pts = max(0, (self._first_pts or 0) - self._dur_ticks)
        self._last_pts = av_frame.pts
        st = av_frame.pts * tb
        cap = self.options.max_fps
        if cap is not None:
            interval = 1.0 / cap
            if self._next_due is not None and st < self._next_due - interval * 0.25:
                c["capped"] += 1
                return
            self._next_due = st + interval if self._next_due is None else max(self._next_due + interval, st)
            if self._gop is not None and self._last_key is not None and self._last_key + self._gop <= self._next_due:
                self._skip_to_key = True  # the next due frame is a later keyframe: skip the rest of this GOP
        self._index += 1
        wall = (self._anchor + st) if self._anchor is not None else time.time()
        frame = Frame(av_frame, time=wall, index=self._index, time_base=self._tb, stream_time=st)
        if self._geometry[0] != frame.width:
            self._geometry = (frame.width, frame.height, self._geometry[2])
        self._enqueue(frame)

    def _enqueue(self, frame: Frame) -> None:
        size = self._queue_limit
        with self._cond:
            if self._frame_callbacks:
                if len(self._cb_queue) >= size:
                    self._cb_queue.popleft()
                    self._c["dropped"] += 1
                self._cb_queue.append(frame)
            if self._frame_callbacks and not self._pulled:
                self._cond.notify_all()
                return
            if self._block:
                while len(self._queue) >= size and not self._closing.is_set():
                    self._cond.wait(0.25)
            elif len(self._queue) >= size:
                self._queue.popleft()
                self._c["dropped"] += 1
            self._queue.append(frame)
            self._cond.notify_all()

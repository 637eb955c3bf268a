"""The centre's page for one host: ``kedirivms run FLEET --http``, no NATS.

The run's events reach a :class:`~kedirivms.cluster.CentreStore` through a sink of the deployment, and the
cameras' states (running, retrying, last frame) are folded in every few seconds, as a worker's ``camera_state``
events would be; the page is the same page over the same store.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kedirivms.analytics import Event
from kedirivms.centre_web._auth import users_for_page
from kedirivms.centre_web._data import CentreData, SiteInfo
from kedirivms.centre_web._evidence import local_evidence
from kedirivms.centre_web._serve import parse_bind
from kedirivms.centre_web._server import CentreWeb
from kedirivms.cluster.centre import CentreStore
from kedirivms.errors import KedirivmsError
from kedirivms.sinks import CallbackSink, Sink

__all__ = ["LocalCentre"]


class LocalCentre:
    """A centre store and its page fed by one host's deployment.

    Args:
        fleet: the loaded fleet file (:func:`kedirivms.fleet.load_fleet`).
        db: the store's SQLite file.
        bind: ``HOST:PORT`` of the page (loopback unless ``users``).
        only: the cameras or sites the run covers (default: all).
        users: users file; the page then needs a login (default: the fleet file's ``centre: {users: ...}``).
        state_interval: seconds between folds of the cameras' states.

    Raises:
        ConfigError: bad bind or users file, or a non-loopback bind without users.
        StorageError: the store cannot be opened.

    Example:
        >>> local = LocalCentre(fleet, "centre.sqlite")  # doctest: +SKIP
        >>> deployment = Deployment(fleet, extra_sinks=[local.sink()]).start()  # doctest: +SKIP
        >>> local.start(lambda: deployment.statuses)  # doctest: +SKIP
    """

    def __init__(
        self,
        fleet: Any,
        db: str | Path,
        bind: str = "127.0.0.1:8088",
        *,
        only: Sequence[str] | None = None,
        users: str | Path | None = None,
        state_interval: float = 2.0,
    ) -> None:
        host, port = parse_bind(bind)
        targets = fleet.cameras(only)
        self._site_of = {t.name: t.site for t in targets}
        sites = {}
        for site_id, site in fleet.model.sites.items():
            sites[site_id] = SiteInfo((site.location or site_id).split("/", 1)[0].strip() or site_id, site_id)
        self.store = CentreStore(db)
        try:
            self.data = CentreData(self.store, sites=sites, cameras=list(self._site_of.items()))
            # this host's own recordings play in the page
            evidence = local_evidence(fleet.recording.root) if fleet.recording is not None else None
            self.web = CentreWeb(self.data, host=host, port=port, users=users_for_page(users, fleet),
                                 evidence=evidence)  # fmt: skip
        except BaseException:
            self.store.close()
            raise
        self._host = socket.gethostname()
        self._interval = state_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The page's address."""
        return self.web.url

    def sink(self) -> Sink:
        """A sink for the deployment: each event into the store (the deployment starts and closes it)."""
        return CallbackSink(self._store_event, name="centre-page", queue_size=10_000)

    def _store_event(self, event: Event) -> None:
        self.store.add(event, site=self._site_of.get(event.camera, "_"))

    def start(self, statuses: Callable[[], dict[str, Any]]) -> LocalCentre:
        """Serve the page and fold ``statuses()`` (camera name -> ``CameraStatus``) into the store from a thread."""
        self.web.start()
        self._thread = threading.Thread(target=self._fold, args=(statuses,), name="kedirivms-local-centre")
        self._thread.daemon = True
        self._thread.start()
        return self

    def _fold(self, statuses: Callable[[], dict[str, Any]]) -> None:
        while True:
            now = time.time()
            items = []
            for name, s in statuses().items():
                data = {"worker": self._host, "lease_revision": 0, "state": str(s.state), "frames": s.frames,
                        "last_frame_time": s.last_frame_time, "error": s.error, "recorder": s.recorder}  # fmt: skip
                event = Event(camera=name, source="run", kind="camera_state", time=now, data=data)
                items.append((event, self._site_of.get(name, "_"), None, None))
            # a failed write is tried again at the next fold; the page shows the last stored state meanwhile
            with contextlib.suppress(KedirivmsError):
                self.store.add_many(items)
            if self._stop.wait(self._interval):
                return

    def close(self) -> None:
        """Stop the page and the folding, close the store; idempotent (close the deployment first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None
        self.web.close()
        self.data.close()
        self.store.close()

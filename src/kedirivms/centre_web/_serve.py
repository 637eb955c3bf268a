"""Wiring the page to a running :class:`~kedirivms.cluster.Centre`: fleet-file sites, users, publishing acks."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kedirivms.analytics import Event
from kedirivms.centre_web._auth import users_for_page
from kedirivms.centre_web._data import CentreData, SiteInfo
from kedirivms.centre_web._evidence import cluster_evidence
from kedirivms.centre_web._server import CentreWeb
from kedirivms.cluster.centre import Centre
from kedirivms.cluster.events import event_subject
from kedirivms.errors import ClusterError, ConfigError

__all__ = ["parse_bind", "serve_centre", "sites_from_fleet"]

log = logging.getLogger("kedirivms.centre_web")


def parse_bind(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8088`` for IPv6, ``:8088`` for loopback) -> (host, port).

    Raises:
        ConfigError: no port, or a port outside 0-65535.
    """
    host, sep, port = value.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not sep or not 0 <= number <= 65535:
        raise ConfigError(f"--http wants HOST:PORT (e.g. 127.0.0.1:8088), got {value!r}")
    return host, number


def sites_from_fleet(path: str | Path | Any) -> tuple[dict[str, SiteInfo], list[tuple[str, str]]]:
    """From a fleet file: each site's district and office, and every (camera, site).

    A site's district is the first ``/``-separated part of its ``location`` (``pare/kantor-kecamatan`` -> ``pare``;
    default: the site id); its office is the site id.

    Raises:
        ConfigError: as :func:`kedirivms.fleet.load_fleet`.
    """
    from kedirivms.fleet import load_fleet

    fleet = load_fleet(path) if isinstance(path, str | Path) else path
    sites = {}
    for site_id, site in fleet.model.sites.items():
        district = (site.location or site_id).split("/", 1)[0].strip() or site_id
        sites[site_id] = SiteInfo(district, site_id)
    cameras = [(site_id_cam.name, site_id_cam.site) for site_id_cam in fleet.cameras()]
    return sites, cameras


def serve_centre(
    centre: Centre,
    bind: str = "127.0.0.1:8088",
    *,
    fleet: str | Path | None = None,
    users: str | Path | None = None,
    tls: tuple[str | Path, str | Path] | None = None,
) -> CentreWeb:
    """Serve the page for a started centre (acknowledgements are stored and published to its JetStream; clips
    around alerts are fetched from the workers through its NATS link).

    Args:
        centre: a started :class:`~kedirivms.cluster.Centre`.
        bind: ``HOST:PORT``; loopback unless ``users`` is given.
        fleet: fleet file for districts, offices and counters without events yet, and its users
            (``centre: {users: ...}``) when ``users`` is not given.
        users: users file (:func:`load_users`); every page then needs a login.
        tls: (certificate, key) files to serve HTTPS.

    Returns:
        The started server (close it before the centre).

    Raises:
        ConfigError: bad bind, fleet or users file, or a non-loopback bind without users.
    """
    from kedirivms.fleet import load_fleet

    host, port = parse_bind(bind)
    loaded = load_fleet(fleet) if fleet else None
    sites, cameras = sites_from_fleet(loaded) if loaded is not None else ({}, [])
    logins = users_for_page(users, loaded)

    def publish(event: Event, site: str) -> None:
        try:
            centre.link.publish(event_subject(site or "_", event.camera, event.kind),
                                event.model_dump_json().encode(), msg_id=event.id, timeout=2.0)  # fmt: skip
        except ClusterError as exc:  # stored at the centre already; other consumers miss it
            log.warning("centre page: acknowledgement stored but not published: %s", exc)

    data = CentreData(centre.store, sites=sites, cameras=cameras, publish=publish)
    # clips around alerts come from the workers that recorded them, through the centre's NATS link
    evidence = cluster_evidence(centre.link)
    try:
        web = CentreWeb(data, host=host, port=port, users=logins, tls=tls,
                        evidence=evidence)  # fmt: skip
    except BaseException:
        evidence.close()
        raise
    return web.start()

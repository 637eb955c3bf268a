"""The command centre's web page: tiles per counter, alerts as work items, history and CSV, over a JSON API.

``kedirivms centre --nats URL --http 127.0.0.1:8088`` serves it beside the centre store; in Python::

    from kedirivms.centre_web import CentreData, CentreWeb
    with CentreWeb(CentreData(centre.store), port=8088) as web:
        print(web.url)

The page is plain HTML, CSS and JS shipped in the package (no build step, nothing from the internet) and uses only
the API documented in docs/centre.md.
"""

from kedirivms.centre_web._auth import Sessions, hash_password, load_users, users_for_page, verify_password
from kedirivms.centre_web._data import CentreData, SiteInfo
from kedirivms.centre_web._evidence import Evidence, cluster_evidence, local_evidence
from kedirivms.centre_web._local import LocalCentre
from kedirivms.centre_web._serve import parse_bind, serve_centre, sites_from_fleet
from kedirivms.centre_web._server import CentreWeb
from kedirivms.centre_web.snapshot import SnapshotConfig, SnapshotPlugin, SnapshotThrottle, snapshot_event

__all__ = [
    "CentreData",
    "CentreWeb",
    "Evidence",
    "LocalCentre",
    "Sessions",
    "SiteInfo",
    "SnapshotConfig",
    "SnapshotPlugin",
    "SnapshotThrottle",
    "cluster_evidence",
    "hash_password",
    "load_users",
    "local_evidence",
    "parse_bind",
    "serve_centre",
    "sites_from_fleet",
    "snapshot_event",
    "users_for_page",
    "verify_password",
]

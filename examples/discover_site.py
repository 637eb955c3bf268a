"""Sweep a routed site by unicast, then talk ONVIF to what was found.

Without arguments the script builds a small virtual site on loopback: three virtual cameras on 127.0.1.21-23
that answer WS-Discovery, and one on 127.0.1.24 whose firmware ignores unicast Probes (only the HTTP check
finds it). Then it does what an integrator does for a site behind a router:

    python examples/discover_site.py                       # the virtual site
    python examples/discover_site.py 10.20.0.0/24 admin PASSWORD   # a real site (unicast only)
"""

from __future__ import annotations

import sys
from contextlib import ExitStack

import kedirivms as kvms
from kedirivms.discovery import DEFAULT_HTTP_PORTS
from kedirivms.sim import VirtualCamera
from kedirivms.sim.discovery import DiscoveryResponder

PASSWORD = "site-pass-1"
SITE = [
    ("127.0.1.21", "Loket 1", True),
    ("127.0.1.22", "Loket 2", True),
    ("127.0.1.23", "Lobby", True),
    ("127.0.1.24", "Parkir", False),  # deaf to unicast Probes
]


def survey(site_range: str, username: str, password: str) -> None:
    devices = kvms.discover(
        ranges=[site_range],
        timeout=1.0,
        http_check_ports=[*DEFAULT_HTTP_PORTS, 8899],
        progress=lambda done, total: print(f"\rprobed {done}/{total}", end="", file=sys.stderr),
    )
    print(file=sys.stderr)
    for d in devices:
        label = d.name or "(no name scope)"
        print(f"{d.address:15} {label:16} via {d.source:8} {d.device_service_url}")
        if d.device_service_url is None:
            continue
        try:
            with kvms.Camera(d.device_service_url, username=username, password=password, timeout=3.0) as cam:
                info = cam.device_information()
                print(f"{'':15} {info.manufacturer} {info.model}, serial {info.serial_number}")
        except kvms.KedirivmsError as exc:  # one bad camera does not stop the survey
            print(f"{'':15} not reachable with these credentials: {exc}")


def main() -> None:
    if len(sys.argv) == 4:
        survey(*sys.argv[1:])
        return
    with ExitStack() as stack:
        for host, name, answers_probes in SITE:
            cam = stack.enter_context(VirtualCamera(host=host, port=8899, password=PASSWORD, model=f"VC-{name}"))
            if answers_probes:
                responder = DiscoveryResponder(
                    host=host,
                    xaddrs=[cam.device_url],
                    scopes=[
                        f"onvif://www.onvif.org/name/{name.replace(' ', '%20')}",
                        "onvif://www.onvif.org/location/Kediri",
                        "onvif://www.onvif.org/Profile/Streaming",
                    ],
                )
                stack.enter_context(responder)
        survey("127.0.1.20-29", "admin", PASSWORD)


if __name__ == "__main__":
    main()

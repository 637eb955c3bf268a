"""WS-Discovery for ONVIF devices: multicast Probes, unicast sweeps across routed sites, Hello/Bye listening.

Public names: :func:`discover`, :class:`DiscoveredDevice`, :class:`HelloListener`, :class:`ListenerState`,
:func:`expand_targets` and :data:`DEFAULT_HTTP_PORTS`. See ``docs/discovery.md``.
"""

from __future__ import annotations

from kedirivms._exports import claim
from kedirivms.discovery._discover import discover
from kedirivms.discovery._http import DEFAULT_PORTS as DEFAULT_HTTP_PORTS
from kedirivms.discovery._listener import HelloListener, ListenerState
from kedirivms.discovery._models import DiscoveredDevice
from kedirivms.discovery._net import expand_targets

__all__ = [
    "DEFAULT_HTTP_PORTS",
    "DiscoveredDevice",
    "HelloListener",
    "ListenerState",
    "discover",
    "expand_targets",
]

claim(globals(), ("DiscoveredDevice", "HelloListener", "ListenerState", "discover", "expand_targets"))

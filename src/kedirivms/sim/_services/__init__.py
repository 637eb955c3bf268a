"""Built-in SOAP service modules of the virtual camera; importing this package registers them all.

To add a service (recording, search, replay, ...): create ``_services/<name>.py`` holding a
:class:`~kedirivms.sim._soap.ServiceSpec` passed to ``register_service`` and its ``@SPEC.operation(...)`` handlers,
then import the module below. See ``docs/simulator.md``.
"""

from __future__ import annotations

from kedirivms.sim._services import device, events, imaging, media, media2, ptz

__all__ = ["device", "events", "imaging", "media", "media2", "ptz"]

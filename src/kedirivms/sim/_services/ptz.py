"""PTZ service (ver20 ``ptz.wsdl``): registered and advertised, no operations yet (they answer
``ter:ActionNotSupported``). Add handlers here with ``@PTZ.operation("GetNodes")``."""

from __future__ import annotations

from kedirivms.sim._context import SoapContext
from kedirivms.sim._soap import ServiceSpec, register_service


def _has_ptz(ctx: SoapContext) -> bool:
    return ctx.config.has_ptz


PTZ = register_service(
    ServiceSpec(
        name="ptz",
        path="/onvif/ptz_service",
        namespace="http://www.onvif.org/ver20/ptz/wsdl",
        wsdl="ptz.wsdl",
        binding="PTZBinding",
        version=(2, 60),
        advertised=_has_ptz,
    )
)

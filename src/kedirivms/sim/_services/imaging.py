"""Imaging service (ver20 ``imaging.wsdl``): registered and advertised, no operations yet (they answer
``ter:ActionNotSupported``). Add handlers here with ``@IMAGING.operation("GetImagingSettings")``."""

from __future__ import annotations

from kedirivms.sim._soap import ServiceSpec, register_service

IMAGING = register_service(
    ServiceSpec(
        name="imaging",
        path="/onvif/imaging_service",
        namespace="http://www.onvif.org/ver20/imaging/wsdl",
        wsdl="imaging.wsdl",
        binding="ImagingBinding",
        version=(2, 60),
    )
)

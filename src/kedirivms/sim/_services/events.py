"""Event service (ver10 ``events.wsdl``): registered and advertised, no operations yet (they answer
``ter:ActionNotSupported``). Add handlers here with ``@EVENTS.operation("CreatePullPointSubscription")``;
pull-point subscriptions can live below the service path (``/onvif/events_service/sub/1``), see
``SoapContext.path``."""

from __future__ import annotations

from kedirivms.sim._soap import ServiceSpec, register_service

EVENTS = register_service(
    ServiceSpec(
        name="events",
        path="/onvif/events_service",
        namespace="http://www.onvif.org/ver10/events/wsdl",
        wsdl="events.wsdl",
        binding=("EventBinding", "PullPointSubscriptionBinding", "SubscriptionManagerBinding"),
        version=(2, 60),
    )
)

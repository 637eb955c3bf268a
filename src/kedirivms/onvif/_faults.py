"""SOAP faults as :mod:`kedirivms.errors`: which fault codes mean refused credentials, an unsupported operation or
a refused value (ONVIF Core spec fault subcodes, plus the WS-Security ones cameras send)."""

from __future__ import annotations

from kedirivms._redact import escape_controls
from kedirivms.errors import AuthenticationFailed, InvalidArgument, KedirivmsError, NotSupported, OnvifFault
from kedirivms.onvif._xml import FaultInfo

REASON_CHARS = 500
_UNAUTHORIZED = (
    "NotAuthorized",
    "FailedAuthentication",
    "InvalidSecurity",
    "FailedCheck",
    "SenderNotAuthorized",
)
_UNSUPPORTED = ("ActionNotSupported", "NoSuchService", "OperationProhibited", "NotImplemented")
_INVALID = ("InvalidArgVal", "InvalidArgs", "ConfigModify", "NoProfile", "NoConfig", "InvalidArg", "NoSource")


def error_for_fault(fault: FaultInfo, *, camera: str, operation: str) -> KedirivmsError:
    """The kedirivms error for ``fault`` (``OnvifFault`` when no more specific class fits)."""
    # the camera's words, on one line and bounded (the full text stays in OnvifFault.detail)
    reason = escape_controls((fault.reason or "no reason given")[:REASON_CHARS])
    codes = "/".join(fault.local_subcodes) or (fault.code or "")
    if fault.has(*_UNAUTHORIZED) or "not authorized" in reason.lower():
        return AuthenticationFailed(
            f"credentials refused ({codes}: {reason})",
            camera=camera,
            operation=operation,
            hint="check user name, password and the camera's user level; the clock offset was applied",
        )
    if fault.has(*_UNSUPPORTED):
        return NotSupported(
            f"{codes}: {reason}",
            camera=camera,
            operation=operation,
            hint="this camera does not support the operation",
        )
    if fault.has(*_INVALID):
        return InvalidArgument(
            f"the camera refused a value ({codes}: {reason})",
            camera=camera,
            operation=operation,
            hint="read the options for valid values",
        )
    return OnvifFault(
        f"SOAP fault {fault.code or ''} {codes}: {reason}".strip(),
        code=fault.code,
        subcodes=fault.local_subcodes,
        detail=fault.reason,
        camera=camera,
        operation=operation,
    )

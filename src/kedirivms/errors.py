"""The kedirivms error tree.

Every public call raises only these (third-party exceptions are chained with ``raise ... from``)::

    KedirivmsError
    ├── ConfigError (ValueError)            invalid configuration / inventory file
    ├── InvalidArgument (ValueError)        a value the camera or API cannot take (lists valid ones)
    ├── ConnectionFailed                    could not reach the peer (refused, reset, DNS, dropped)
    │   └── StreamOpenError                 an RTSP/file source could not be opened
    ├── Timeout (TimeoutError)              a bounded wait ran out
    │   └── StreamTimeout                   no packet within the read time-out
    ├── AuthenticationFailed                credentials refused (never carries the password)
    ├── NotSupported                        the device does not offer this service/operation
    ├── ProtocolError                       malformed, hostile or unexpected replies
    │   ├── OnvifFault                      a SOAP fault (``code``, ``subcodes``, ``detail``)
    │   └── LimitExceeded                   a reply passed a size/count limit (``limit``, ``value``)
    ├── DiscoveryError                      WS-Discovery could not run (socket/interface problems)
    ├── StreamError                         stream-level problems
    │   ├── DecodeError
    │   └── StreamClosed                    the stream was closed by the caller
    ├── RecordingError                      recorder, index, retention or export failures
    │   └── StorageError                    disk full or root not writable
    ├── PluginError
    │   └── PluginValidationError (ValueError)
    ├── AnalyticsError                      analytics could not run on a frame
    │   └── DetectorError                   the person detector (model runtime) failed
    ├── ProvisionError                      a camera could not converge to the fleet file
    └── ClusterError                        NATS / JetStream failed (unreachable, refused, API error)
        ├── ClusterTimeout (Timeout)        no answer from NATS within the time-out
        └── LeaseConflict                   a compare-and-set lost: another worker changed the key

Messages say what was tried, on which camera (never with its password) and what to do next.
"""

from __future__ import annotations

from kedirivms._redact import redact_text

__all__ = [
    "AnalyticsError",
    "AuthenticationFailed",
    "ClusterError",
    "ClusterTimeout",
    "ConfigError",
    "ConnectionFailed",
    "DecodeError",
    "DetectorError",
    "DiscoveryError",
    "InvalidArgument",
    "KedirivmsError",
    "LeaseConflict",
    "LimitExceeded",
    "NotSupported",
    "OnvifFault",
    "PluginError",
    "PluginValidationError",
    "ProtocolError",
    "ProvisionError",
    "RecordingError",
    "StorageError",
    "StreamClosed",
    "StreamError",
    "StreamOpenError",
    "StreamTimeout",
    "Timeout",
]


class KedirivmsError(Exception):
    """Root of every error kedirivms raises.

    Args:
        message: what went wrong, in plain words.
        camera: the camera label (``host:port`` or name), never with credentials.
        operation: the operation that was tried (e.g. ``GetProfiles``).
        hint: what the caller can do about it.
    """

    def __init__(
        self,
        message: str,
        *,
        camera: str | None = None,
        operation: str | None = None,
        hint: str | None = None,
    ) -> None:
        # the one redaction point: whatever text a peer put in the message, no known secret is ever raised
        self.message = redact_text(message)
        self.camera = camera
        self.operation = operation
        self.hint = redact_text(hint) if hint else hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.operation and self.camera:
            where = f"{self.operation} on {self.camera}: "
        elif self.operation:
            where = f"{self.operation}: "
        elif self.camera:
            where = f"{self.camera}: "
        text = where + self.message
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # keep keyword-only arguments when pickled across processes
        return (_rebuild, (type(self), self.message, self.__dict__.copy()))


def _rebuild(cls: type[KedirivmsError], message: str, state: dict[str, object]) -> KedirivmsError:
    err = cls.__new__(cls)
    err.__dict__.update(state)
    Exception.__init__(err, err._render())
    return err


class ConfigError(KedirivmsError, ValueError):
    """A configuration or inventory file is invalid."""


class InvalidArgument(KedirivmsError, ValueError):
    """A value the API or the camera cannot take; the message lists the valid ones."""


class ConnectionFailed(KedirivmsError):
    """The peer could not be reached or dropped the connection."""


class Timeout(KedirivmsError, TimeoutError):
    """A bounded wait (connect, read, open) ran out."""


class AuthenticationFailed(KedirivmsError):
    """The camera refused the credentials."""


class NotSupported(KedirivmsError):
    """The camera does not offer this service or operation."""


class ProtocolError(KedirivmsError):
    """The peer answered with something malformed, hostile or unexpected."""


class OnvifFault(ProtocolError):
    """A SOAP fault returned by the camera.

    Attributes:
        code: the fault code (e.g. ``env:Sender``), prefixes as sent.
        subcodes: the chain of subcodes, local names (e.g. ``["InvalidArgVal", "NoProfile"]``).
        detail: the fault reason text.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        subcodes: list[str] | None = None,
        detail: str | None = None,
        camera: str | None = None,
        operation: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.code = code
        self.subcodes = list(subcodes or [])
        self.detail = redact_text(detail) if detail else detail
        super().__init__(message, camera=camera, operation=operation, hint=hint)


class LimitExceeded(ProtocolError):
    """A reply passed one of the limits that bound what a peer may cost us (see :class:`kedirivms.Limits`).

    Attributes:
        limit: the setting that was exceeded, e.g. ``"max_reply_bytes"``.
        value: its value in force.
    """

    def __init__(
        self,
        message: str,
        *,
        limit: str,
        value: int,
        camera: str | None = None,
        operation: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.limit = limit
        self.value = value
        super().__init__(message, camera=camera, operation=operation, hint=hint)


class DiscoveryError(KedirivmsError):
    """WS-Discovery could not run (no usable interface, socket errors)."""


class StreamError(KedirivmsError):
    """A stream-level failure."""


class StreamOpenError(StreamError, ConnectionFailed):
    """An RTSP or file source could not be opened."""


class StreamTimeout(StreamError, Timeout):
    """No packet arrived within the read time-out."""


class DecodeError(StreamError):
    """A packet could not be decoded."""


class StreamClosed(StreamError):
    """The stream was closed by the caller."""


class RecordingError(KedirivmsError):
    """Recorder, index, retention or export failure."""


class StorageError(RecordingError):
    """The recording root is full or not writable."""


class PluginError(KedirivmsError):
    """A plugin failed."""


class PluginValidationError(PluginError, ValueError):
    """A plugin's configuration did not validate."""


class AnalyticsError(KedirivmsError):
    """Analytics could not run on a frame (a detector, tracker or model failed)."""


class DetectorError(AnalyticsError):
    """The person detector failed: its runtime raised, or the model's output has a layout it cannot read."""


class ProvisionError(KedirivmsError):
    """A camera could not be converged to its inventory entry."""


class ClusterError(KedirivmsError):
    """NATS or JetStream failed: server unreachable, connection lost, or an API error."""


class ClusterTimeout(ClusterError, Timeout):
    """NATS did not answer within the call's time-out."""


class LeaseConflict(ClusterError):
    """A compare-and-set on a key-value entry lost: the key exists or changed (another worker holds it)."""

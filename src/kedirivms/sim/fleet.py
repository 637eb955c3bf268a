"""A fleet of virtual cameras, each on its own loopback address (or port)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any, Literal

from kedirivms.errors import ConfigError
from kedirivms.sim._attachments import SceneFactory
from kedirivms.sim._models import VirtualCameraConfig
from kedirivms.sim.camera import VirtualCamera

__all__ = ["VirtualFleet", "fleet_configs", "fleet_hosts"]


def fleet_hosts(n: int, first: str = "127.0.1.1") -> list[str]:
    """``n`` distinct loopback addresses from ``first`` on, skipping ``.0`` and ``.255``."""
    out: list[str] = []
    addr = ipaddress.IPv4Address(first)
    while len(out) < n:
        if not addr.is_loopback:
            raise ConfigError(f"ran out of loopback addresses after {len(out)} cameras")
        if addr.packed[-1] not in (0, 255):
            out.append(str(addr))
        addr += 1
    return out


def fleet_configs(
    n: int, base: VirtualCameraConfig | None = None, distinct_hosts: bool = True, **overrides: Any
) -> list[VirtualCameraConfig]:
    """The configurations :meth:`VirtualFleet.start` would use (distinct hosts or ports, serials and names).

    Raises:
        ConfigError: ``n`` < 1 or an invalid override.
    """
    if n < 1:
        raise ConfigError("a fleet needs at least one camera")
    template = (base or VirtualCameraConfig()).model_dump()
    template.update(overrides)
    hosts = fleet_hosts(n) if distinct_hosts else [template["host"]] * n
    configs = []
    for i, host in enumerate(hosts, start=1):
        fields = dict(template)
        fields["host"] = host
        if not distinct_hosts and template["port"]:
            fields["port"] = template["port"] + i - 1
        fields["serial_number"] = f"{template['serial_number']}-{i:03d}"
        fields["hardware_id"] = f"{template['hardware_id']}-{i:03d}"
        fields["name"] = f"{template['name']} {i}"
        try:
            configs.append(VirtualCameraConfig.model_validate(fields))
        except ValueError as exc:
            raise ConfigError(f"invalid fleet camera configuration: {exc}") from exc
    return configs


class VirtualFleet:
    """Several :class:`VirtualCamera` s started and stopped together.

    Each camera gets a distinct serial number, name and (with ``distinct_hosts``) its own ``127.0.1.x`` address.
    Iterate it, index it, or use it as a context manager.

    Example:
        >>> with VirtualFleet.start(4, base=VirtualCameraConfig(auth="digest")) as fleet:
        ...     urls = [cam.device_url for cam in fleet]
    """

    def __init__(self, cameras: list[VirtualCamera]) -> None:
        self.cameras = cameras

    @classmethod
    def start(
        cls,
        n: int,
        base: VirtualCameraConfig | None = None,
        distinct_hosts: bool = True,
        *,
        rtsp: bool = False,
        discovery: bool | Literal["unicast", "multicast"] = False,
        scene: SceneFactory | None = None,
        **overrides: Any,
    ) -> VirtualFleet:
        """Start ``n`` cameras derived from ``base`` and return the running fleet.

        Args:
            n: number of cameras (>= 1).
            base: the template configuration; ``host`` is replaced when ``distinct_hosts``.
            distinct_hosts: one loopback address per camera (127.0.1.1, 127.0.1.2, ...) on ``base.port``
                (0 = any free port); otherwise all on ``base.host``, ports ``base.port + i`` (or free ones).
            rtsp, discovery, scene: as for :class:`VirtualCamera` (discovery needs ``distinct_hosts``).
            **overrides: fields applied to every camera's configuration.

        Raises:
            ConfigError: ``n`` < 1 or an invalid override.
            ConnectionFailed: a camera could not bind its address (the others are stopped again).
        """
        return cls.from_configs(
            fleet_configs(n, base, distinct_hosts, **overrides), rtsp=rtsp, discovery=discovery, scene=scene
        )

    @classmethod
    def from_configs(
        cls,
        configs: list[VirtualCameraConfig],
        *,
        rtsp: bool = False,
        discovery: bool | Literal["unicast", "multicast"] = False,
        scene: SceneFactory | None = None,
    ) -> VirtualFleet:
        """Start one camera per configuration (all or none: on a failure the started ones are stopped)."""
        cams: list[VirtualCamera] = []
        try:
            for cfg in configs:
                cams.append(VirtualCamera(cfg, rtsp=rtsp, discovery=discovery, scene=scene).start())
        except BaseException:
            for cam in cams:
                cam.stop()
            raise
        return cls(cams)

    def stop(self) -> None:
        """Stop every camera."""
        for cam in self.cameras:
            cam.stop()

    def __enter__(self) -> VirtualFleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __iter__(self) -> Iterator[VirtualCamera]:
        return iter(self.cameras)

    def __len__(self) -> int:
        return len(self.cameras)

    def __getitem__(self, index: int) -> VirtualCamera:
        return self.cameras[index]

    def __repr__(self) -> str:
        return f"VirtualFleet({len(self.cameras)} cameras)"

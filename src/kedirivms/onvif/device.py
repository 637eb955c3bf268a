"""Device management service (``tds``): identity, clock, NTP, hostname, scopes, users, network, reboot."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from kedirivms.errors import InvalidArgument
from kedirivms.onvif import _replies
from kedirivms.onvif.models import DeviceInfo, NetworkInterface, NTPSettings, Scope, SystemDateTime, User

if TYPE_CHECKING:
    from kedirivms.onvif._transport import OnvifTransport

SCOPE_PREFIX = "onvif://www.onvif.org/"
USER_LEVELS = ("Administrator", "Operator", "User")


class DeviceService:
    """``camera.device``: the ONVIF device management service of one camera."""

    def __init__(self, transport: OnvifTransport) -> None:
        self._t = transport

    def _call(self, operation: str, **kwargs: Any) -> Any:
        return self._t.call("device", operation, **kwargs)

    # ---------------------------------------------------------------- identity
    def information(self) -> DeviceInfo:
        """Manufacturer, model, firmware, serial number and hardware id."""
        reply = self._t.call_xml("device", "GetDeviceInformation")
        return self._t.read("GetDeviceInformation", _replies.device_information, reply)

    # ---------------------------------------------------------------- clock
    def system_date_time(self) -> SystemDateTime:
        """The camera's clock settings and time; also refreshes the clock offset used for tokens."""
        reply = self._t.read_clock()
        reader = partial(_replies.system_date_time, clock_offset_s=self._t.clock_offset_s)
        return self._t.read("GetSystemDateAndTime", reader, reply)

    def set_system_time(
        self, when: datetime | None = None, *, time_zone: str | None = None, daylight_savings: bool = False
    ) -> None:
        """Set the clock manually to ``when`` (default: our UTC now) and re-learn the offset."""
        when = (when or datetime.now(UTC)).astimezone(UTC)
        kwargs: dict[str, Any] = {
            "DateTimeType": "Manual",
            "DaylightSavings": daylight_savings,
            "UTCDateTime": _onvif_datetime(when),
        }
        if time_zone:
            kwargs["TimeZone"] = {"TZ": time_zone}
        self._call("SetSystemDateAndTime", **kwargs)
        self._t.learn_clock()

    def set_time_source(self, mode: str, *, time_zone: str | None = None, daylight_savings: bool = False) -> None:
        """Switch between ``"NTP"`` and ``"Manual"`` time without changing the time itself."""
        if mode not in ("NTP", "Manual"):
            raise InvalidArgument(f"time source {mode!r} is not valid", hint="use 'NTP' or 'Manual'")
        kwargs: dict[str, Any] = {"DateTimeType": mode, "DaylightSavings": daylight_savings}
        if time_zone:
            kwargs["TimeZone"] = {"TZ": time_zone}
        self._call("SetSystemDateAndTime", **kwargs)

    def set_time_zone(self, time_zone: str, *, daylight_savings: bool | None = None) -> None:
        """Set the POSIX time zone (e.g. ``"WIB-7"``) keeping the current time source."""
        if not time_zone or len(time_zone) > 64:
            raise InvalidArgument("time zone must be a POSIX TZ string such as 'WIB-7'", operation="set_time_zone")
        current = self._call("GetSystemDateAndTime")
        dst = bool(current.DaylightSavings) if daylight_savings is None else daylight_savings
        mode = str(current.DateTimeType or "Manual")
        kwargs: dict[str, Any] = {"DateTimeType": mode, "DaylightSavings": dst, "TimeZone": {"TZ": time_zone}}
        if mode == "Manual":
            # a Manual clock needs UTCDateTime in every set: send the camera's own time back (offset applied)
            kwargs["UTCDateTime"] = _onvif_datetime(datetime.now(UTC) + timedelta(seconds=self._t.clock_offset_s))
        self._call("SetSystemDateAndTime", **kwargs)

    # ---------------------------------------------------------------- NTP
    def ntp(self) -> NTPSettings:
        """NTP servers (manual or from DHCP)."""
        r = self._call("GetNTP")
        from_dhcp = bool(r.FromDHCP)
        hosts = (r.NTPFromDHCP if from_dhcp else r.NTPManual) or []
        return NTPSettings(from_dhcp=from_dhcp, servers=[_host_text(h) for h in hosts if _host_text(h)])

    def set_ntp(self, servers: list[str], *, from_dhcp: bool = False) -> None:
        """Set manual NTP servers (IPv4, IPv6 or DNS names), or take them from DHCP."""
        hosts = [_network_host(s) for s in servers]
        self._call("SetNTP", FromDHCP=from_dhcp, NTPManual=hosts if not from_dhcp else [])

    # ---------------------------------------------------------------- hostname
    def hostname(self) -> str:
        """The device hostname."""
        r = self._call("GetHostname")
        return str(getattr(r, "Name", None) or "")

    def set_hostname(self, name: str) -> None:
        """Set the hostname (RFC 1123 label rules are checked first)."""
        if not name or len(name) > 63 or not all(c.isalnum() or c == "-" for c in name) or name[0] == "-":
            raise InvalidArgument(
                f"hostname {name!r} is not valid",
                operation="SetHostname",
                hint="1-63 letters, digits or '-', not starting with '-'",
            )
        self._call("SetHostname", Name=name)

    # ---------------------------------------------------------------- scopes
    def scopes(self) -> list[Scope]:
        """All scopes with whether each is fixed."""
        r = self._call("GetScopes") or []
        return [Scope(uri=s.ScopeItem, fixed=str(s.ScopeDef) == "Fixed") for s in r]

    def scope_values(self, kind: str) -> list[str]:
        """Decoded values of ``onvif://www.onvif.org/<kind>/...`` scopes (e.g. ``kind="name"``)."""
        prefix = SCOPE_PREFIX + kind + "/"
        return [unquote(s.uri[len(prefix) :]) for s in self.scopes() if s.uri.startswith(prefix)]

    def set_scopes(
        self, *, name: str | None = None, location: str | None = None, extra: list[str] | None = None
    ) -> None:
        """Replace the configurable ``name``/``location`` scopes, keeping the other configurable ones."""
        current = [s for s in self.scopes() if not s.fixed]
        replaced = {k for k, v in (("name", name), ("location", location)) if v is not None}
        keep = [s.uri for s in current if not any(s.uri.startswith(f"{SCOPE_PREFIX}{k}/") for k in replaced)]
        if name is not None:
            keep.append(f"{SCOPE_PREFIX}name/{quote(name, safe='')}")
        if location is not None:
            keep.append(f"{SCOPE_PREFIX}location/{quote(location, safe='/')}")
        keep.extend(extra or [])
        self._call("SetScopes", Scopes=keep)

    # ---------------------------------------------------------------- users
    def users(self) -> list[User]:
        """Users and their levels (passwords are never returned)."""
        r = self._call("GetUsers") or []
        return [User(username=u.Username, user_level=str(u.UserLevel)) for u in r]

    def create_user(self, username: str, password: str, level: str = "User") -> None:
        """Create a user with ``level`` 'Administrator', 'Operator' or 'User'."""
        _check_level(level)
        self._call("CreateUsers", User=[{"Username": username, "Password": password, "UserLevel": level}])

    def delete_user(self, username: str) -> None:
        """Delete a user."""
        self._call("DeleteUsers", Username=[username])

    def set_user(self, username: str, password: str, level: str | None = None) -> None:
        """Change a user's password (and level); keeps the level when not given."""
        if level is None:
            found = [u for u in self.users() if u.username == username]
            if not found:
                raise InvalidArgument(
                    f"no user {username!r}",
                    operation="SetUser",
                    camera=self._t.label,
                    hint="list users with camera.device.users()",
                )
            level = found[0].user_level
        _check_level(level)
        self._call("SetUser", User=[{"Username": username, "Password": password, "UserLevel": level}])

    # ---------------------------------------------------------------- network / system
    def network_interfaces(self) -> list[NetworkInterface]:
        """Network interfaces with their IPv4 addresses."""
        out = []
        for nic in self._call("GetNetworkInterfaces") or []:
            info = getattr(nic, "Info", None)
            ipv4 = getattr(nic, "IPv4", None)
            cfg = getattr(ipv4, "Config", None) if ipv4 is not None else None
            addrs = []
            dhcp = False
            if cfg is not None:
                dhcp = bool(getattr(cfg, "DHCP", False))
                for a in list(getattr(cfg, "Manual", None) or []) + [getattr(cfg, "FromDHCP", None)]:
                    if a is not None and getattr(a, "Address", None):
                        addrs.append(f"{a.Address}/{a.PrefixLength}")
            out.append(
                NetworkInterface(
                    token=str(nic.token),
                    name=getattr(info, "Name", None) if info is not None else None,
                    enabled=bool(nic.Enabled),
                    mac=getattr(info, "HwAddress", None) if info is not None else None,
                    mtu=getattr(info, "MTU", None) if info is not None else None,
                    dhcp=dhcp,
                    ipv4_addresses=addrs,
                )
            )
        return out

    def reboot(self) -> str:
        """Reboot the camera; returns its message. Reconnect after it comes back."""
        return str(self._call("SystemReboot") or "")


def _onvif_datetime(when: datetime) -> dict[str, Any]:
    when = when.astimezone(UTC)
    return {
        "Date": {"Year": when.year, "Month": when.month, "Day": when.day},
        "Time": {"Hour": when.hour, "Minute": when.minute, "Second": when.second},
    }


def _check_level(level: str) -> None:
    if level not in USER_LEVELS:
        raise InvalidArgument(f"user level {level!r} is not valid", hint=f"one of {', '.join(USER_LEVELS)}")


def _network_host(text: str) -> dict[str, Any]:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        if not text or " " in text:
            raise InvalidArgument(f"NTP server {text!r} is not an address or DNS name") from None
        return {"Type": "DNS", "DNSname": text}
    if ip.version == 4:
        return {"Type": "IPv4", "IPv4Address": text}
    return {"Type": "IPv6", "IPv6Address": text}


def _host_text(host: Any) -> str:
    return str(
        getattr(host, "IPv4Address", None) or getattr(host, "IPv6Address", None) or getattr(host, "DNSname", None) or ""
    )

"""Device Management service (ver10 ``devicemgmt.wsdl``) of the virtual camera."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

from pydantic import SecretStr

from kedirivms.sim._context import SoapContext
from kedirivms.sim._models import NetworkHost, UserAccount
from kedirivms.sim._soap import NS, ServiceSpec, SoapFault, register_service, render_element

DEVICE = register_service(
    ServiceSpec(
        name="device",
        path="/onvif/device_service",
        namespace=NS["tds"],
        wsdl="devicemgmt.wsdl",
        binding="DeviceBinding",
        version=(2, 60),
    )
)

_HOSTNAME = re.compile(r"^(?=.{1,63}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")
_POSIX_TZ = re.compile(r"^(?P<name>[A-Za-z]{3,}|<[A-Za-z0-9+\-]+>)(?P<off>[+-]?\d{1,2}(?::\d{2}){0,2})(?P<dst>.*)$")
_USER_LEVELS = ("Administrator", "Operator", "User", "Anonymous", "Extended")


def _device_capabilities(ctx: SoapContext) -> Any:
    auth = ctx.config.auth
    value = {
        "Network": {"IPFilter": False, "ZeroConfiguration": False, "IPVersion6": False, "DynDNS": False,
                    "HostnameFromDHCP": False, "NTP": 1},
        "Security": {"UsernameToken": auth in ("username_token", "any"), "HttpDigest": auth in ("digest", "any"),
                     "MaxUsers": 16},
        "System": {"DiscoveryResolve": True, "DiscoveryBye": True, "RemoteDiscovery": False,
                   "SystemBackup": False, "SystemLogging": False, "FirmwareUpgrade": False},
        "Misc": None,
    }  # fmt: skip
    return render_element("devicemgmt.wsdl", f"{{{NS['tds']}}}Capabilities", value)


DEVICE.capabilities = _device_capabilities


@DEVICE.operation("GetServices")
def get_services(ctx: SoapContext, req: Any) -> dict[str, Any]:
    include = bool(getattr(req, "IncludeCapability", False))
    services = []
    for spec in ctx.services():
        caps = spec.capabilities(ctx) if include and spec.capabilities else None
        services.append(
            {
                "Namespace": spec.namespace,
                "XAddr": ctx.xaddr(spec),
                "Capabilities": {"_value_1": caps} if caps is not None else None,
                "Version": {"Major": spec.version[0], "Minor": spec.version[1]},
            }
        )
    return {"Service": services}


@DEVICE.operation("GetCapabilities")
def get_capabilities(ctx: SoapContext, req: Any) -> dict[str, Any]:
    wanted = set(getattr(req, "Category", None) or ["All"])
    specs = {s.name: s for s in ctx.services()}

    def want(cat: str) -> bool:
        return "All" in wanted or cat in wanted

    caps: dict[str, Any] = {}
    if want("Device"):
        caps["Device"] = {
            "XAddr": ctx.xaddr(specs["device"]),
            "Network": {"IPFilter": False, "ZeroConfiguration": False, "IPVersion6": False, "DynDNS": False},
            "System": {
                "DiscoveryResolve": True, "DiscoveryBye": True, "RemoteDiscovery": False, "SystemBackup": False,
                "SystemLogging": False, "FirmwareUpgrade": False,
                "SupportedVersions": [{"Major": 2, "Minor": 60}, {"Major": 2, "Minor": 0}],
            },
            "IO": {"InputConnectors": 0, "RelayOutputs": 0},
            "Security": {"TLS1.1": False, "TLS1.2": False, "OnboardKeyGeneration": False,
                         "AccessPolicyConfig": False, "X.509Token": False, "SAMLToken": False,
                         "KerberosToken": False, "RELToken": False},
        }  # fmt: skip
    if want("Media") and "media" in specs:
        caps["Media"] = {
            "XAddr": ctx.xaddr(specs["media"]),
            "StreamingCapabilities": {"RTPMulticast": False, "RTP_TCP": True, "RTP_RTSP_TCP": True},
        }
    if want("Events") and "events" in specs:
        caps["Events"] = {
            "XAddr": ctx.xaddr(specs["events"]),
            "WSSubscriptionPolicySupport": False,
            "WSPullPointSupport": True,
            "WSPausableSubscriptionManagerInterfaceSupport": False,
        }
    if want("Imaging") and "imaging" in specs:
        caps["Imaging"] = {"XAddr": ctx.xaddr(specs["imaging"])}
    if want("PTZ") and "ptz" in specs:
        caps["PTZ"] = {"XAddr": ctx.xaddr(specs["ptz"])}
    if not caps:
        raise SoapFault(["ActionNotSupported", "NoSuchService"], f"no capability in categories {sorted(wanted)}",
                        code="Receiver")  # fmt: skip
    return {"Capabilities": caps}


@DEVICE.operation("GetDeviceInformation")
def get_device_information(ctx: SoapContext, req: Any) -> dict[str, Any]:
    cfg = ctx.config
    return {
        "Manufacturer": cfg.manufacturer,
        "Model": cfg.model,
        "FirmwareVersion": cfg.firmware_version,
        "SerialNumber": cfg.serial_number,
        "HardwareId": cfg.hardware_id,
    }


def _onvif_datetime(value: dt.datetime, overflow: bool) -> dict[str, Any]:
    """ONVIF DateTime fields; ``overflow`` writes the same instant with Minute >= 60 or Hour = 24 (firmware quirk:
    10:05 becomes 09:65, 00:05 becomes 24:05 of the previous day). Carry the overflow to read it back."""
    day, hour, minute = value.date(), value.hour, value.minute
    if overflow and hour == 0:
        day, hour = day - dt.timedelta(days=1), 24
    elif overflow:
        hour, minute = hour - 1, minute + 60
    return {
        "Time": {"Hour": hour, "Minute": minute, "Second": value.second},
        "Date": {"Year": day.year, "Month": day.month, "Day": day.day},
    }


def tz_offset(tz: str) -> dt.timedelta | None:
    """UTC offset of a POSIX TZ string's standard time (``CET-1`` -> +1 h); None if unparsable."""
    m = _POSIX_TZ.match(tz.strip())
    if not m:
        return None
    sign = -1 if m.group("off").startswith("-") else 1
    parts = [int(p) for p in m.group("off").lstrip("+-").split(":")]
    parts += [0] * (3 - len(parts))
    seconds = parts[0] * 3600 + parts[1] * 60 + parts[2]
    if parts[0] > 24 or parts[1] > 59 or parts[2] > 59:
        return None
    return dt.timedelta(seconds=-sign * seconds)  # POSIX offsets are west-positive


@DEVICE.operation("GetSystemDateAndTime")
def get_system_date_and_time(ctx: SoapContext, req: Any) -> dict[str, Any]:
    now = ctx.now()
    overflow = ctx.quirk("overflow_time")
    with ctx.state.lock:
        tz = ctx.state.time_zone
        value = {
            "DateTimeType": ctx.state.date_time_type,
            "DaylightSavings": ctx.state.daylight_savings,
            "TimeZone": {"TZ": tz},
            "UTCDateTime": _onvif_datetime(now, overflow),
            "LocalDateTime": _onvif_datetime(now + (tz_offset(tz) or dt.timedelta()), overflow),
        }
    return {"SystemDateAndTime": value}


@DEVICE.operation("SetSystemDateAndTime")
def set_system_date_and_time(ctx: SoapContext, req: Any) -> None:
    kind = req.DateTimeType
    tz = req.TimeZone.TZ if req.TimeZone is not None else None
    if tz is not None and tz_offset(tz) is None:
        raise SoapFault(["InvalidArgVal", "InvalidTimeZone"], f"unsupported TZ string {tz!r} (POSIX 1003.1)")
    new_skew = None
    if kind == "Manual":
        utc = req.UTCDateTime
        if utc is None:
            raise SoapFault(["InvalidArgVal", "InvalidDateTime"], "Manual needs UTCDateTime")
        try:
            when = dt.datetime(
                utc.Date.Year, utc.Date.Month, utc.Date.Day, utc.Time.Hour, utc.Time.Minute, utc.Time.Second,
                tzinfo=dt.UTC,
            )  # fmt: skip
        except (TypeError, ValueError, AttributeError) as exc:
            raise SoapFault(["InvalidArgVal", "InvalidDateTime"], f"invalid UTCDateTime: {exc}") from None
        new_skew = (when - dt.datetime.now(dt.UTC)).total_seconds()
    elif kind != "NTP":
        raise SoapFault(["InvalidArgVal", "InvalidDateTime"], f"unknown DateTimeType {kind!r}")
    with ctx.state.lock:
        ctx.state.date_time_type = kind
        ctx.state.daylight_savings = bool(req.DaylightSavings)
        if tz is not None:
            ctx.state.time_zone = tz
        if new_skew is not None:
            ctx.state.clock_skew_s = new_skew
    return None


@DEVICE.operation("GetNTP")
def get_ntp(ctx: SoapContext, req: Any) -> dict[str, Any]:
    with ctx.state.lock:
        hosts = [_host_out(h) for h in ctx.state.ntp_servers]
        return {"NTPInformation": {"FromDHCP": ctx.state.ntp_from_dhcp, "NTPManual": hosts}}


def _host_out(host: NetworkHost) -> dict[str, Any]:
    key = {"IPv4": "IPv4Address", "IPv6": "IPv6Address", "DNS": "DNSname"}[host.type]
    return {"Type": host.type, key: host.address}


@DEVICE.operation("SetNTP")
def set_ntp(ctx: SoapContext, req: Any) -> None:
    hosts: list[NetworkHost] = []
    for item in req.NTPManual or []:
        address = {"IPv4": item.IPv4Address, "IPv6": item.IPv6Address, "DNS": item.DNSname}.get(item.Type)
        if not address:
            raise SoapFault(["InvalidArgVal", "InvalidNetworkHost"], f"NTP host of type {item.Type} has no address")
        hosts.append(NetworkHost(type=item.Type, address=address))
    with ctx.state.lock:
        ctx.state.ntp_from_dhcp = bool(req.FromDHCP)
        ctx.state.ntp_servers = hosts
    return None


@DEVICE.operation("GetHostname")
def get_hostname(ctx: SoapContext, req: Any) -> dict[str, Any]:
    with ctx.state.lock:
        return {"HostnameInformation": {"FromDHCP": ctx.state.hostname_from_dhcp, "Name": ctx.state.hostname}}


@DEVICE.operation("SetHostname")
def set_hostname(ctx: SoapContext, req: Any) -> None:
    name = (req.Name or "").strip()
    if not _HOSTNAME.match(name):
        raise SoapFault(["InvalidArgVal", "InvalidHostname"], f"invalid host name {name!r} (RFC 1123 label)")
    with ctx.state.lock:
        ctx.state.hostname = name
        ctx.state.hostname_from_dhcp = False
    return None


@DEVICE.operation("GetScopes")
def get_scopes(ctx: SoapContext, req: Any) -> dict[str, Any]:
    with ctx.state.lock:
        fixed = [{"ScopeDef": "Fixed", "ScopeItem": s} for s in ctx.state.fixed_scopes]
        conf = [{"ScopeDef": "Configurable", "ScopeItem": s} for s in ctx.state.scopes]
    return {"Scopes": fixed + conf}


def _check_scopes(items: list[str]) -> list[str]:
    out = [str(s).strip() for s in items]
    for s in out:
        if not s or any(c.isspace() for c in s):
            raise SoapFault(["InvalidArgVal", "InvalidScope"], f"invalid scope {s!r} (a URI without spaces)")
    return out


@DEVICE.operation("SetScopes")
def set_scopes(ctx: SoapContext, req: Any) -> None:
    items = _check_scopes(req.Scopes or [])
    with ctx.state.lock:
        if any(s in ctx.state.fixed_scopes for s in items):
            raise SoapFault(["OperationProhibited", "ScopeOverwrite"], "fixed scopes cannot be set")
        ctx.state.scopes = list(dict.fromkeys(items))
    return None


@DEVICE.operation("AddScopes")
def add_scopes(ctx: SoapContext, req: Any) -> None:
    items = _check_scopes(req.ScopeItem or [])
    with ctx.state.lock:
        if len(ctx.state.scopes) + len(items) > 64:
            raise SoapFault(["OperationProhibited", "TooManyScopes"], "at most 64 configurable scopes")
        for s in items:
            if s not in ctx.state.scopes and s not in ctx.state.fixed_scopes:
                ctx.state.scopes.append(s)
    return None


@DEVICE.operation("RemoveScopes")
def remove_scopes(ctx: SoapContext, req: Any) -> dict[str, Any]:
    items = _check_scopes(req.ScopeItem or [])
    with ctx.state.lock:
        for s in items:
            if s in ctx.state.fixed_scopes:
                raise SoapFault(["OperationProhibited", "FixedScope"], f"scope {s} is fixed")
            if s not in ctx.state.scopes:
                raise SoapFault(["InvalidArgVal", "NoScope"], f"scope {s} does not exist")
        ctx.state.scopes = [s for s in ctx.state.scopes if s not in items]
    return {"ScopeItem": items}


@DEVICE.operation("GetUsers")
def get_users(ctx: SoapContext, req: Any) -> dict[str, Any]:
    with ctx.state.lock:
        return {"User": [{"Username": u.username, "UserLevel": u.level} for u in ctx.state.users]}


def _check_user(item: Any, *, need_password: bool) -> tuple[str, str | None, str]:
    name = (item.Username or "").strip()
    if not name or len(name) > 32:
        raise SoapFault(["InvalidArgVal", "UsernameTooLong" if name else "UsernameMissing"], "bad user name")
    password = item.Password
    if password is not None and len(password) > 64:
        raise SoapFault(["OperationProhibited", "PasswordTooLong"], "the password is too long (max 64)")
    if need_password and not password:
        raise SoapFault(["OperationProhibited", "PasswordTooWeak"], f"user {name} needs a password")
    if item.UserLevel not in _USER_LEVELS:
        raise SoapFault(["InvalidArgVal", "InvalidUserLevel"], f"unknown user level {item.UserLevel!r}")
    if item.UserLevel == "Anonymous":
        raise SoapFault(["OperationProhibited", "AnonymousNotAllowed"], "anonymous users are not allowed")
    return name, password, item.UserLevel


@DEVICE.operation("CreateUsers")
def create_users(ctx: SoapContext, req: Any) -> None:
    new = [_check_user(u, need_password=True) for u in req.User or []]
    names = [n for n, _, _ in new]
    if len(set(names)) != len(names):
        raise SoapFault(["OperationProhibited", "UsernameClash"], "the same user name twice")
    with ctx.state.lock:
        for name in names:
            if ctx.state.user(name) is not None:
                raise SoapFault(["OperationProhibited", "UsernameClash"], f"user {name} exists")
        if len(ctx.state.users) + len(new) > 16:
            raise SoapFault(["OperationProhibited", "MaxUsers"], "at most 16 users")
        for name, password, level in new:
            ctx.state.users.append(UserAccount(username=name, password=SecretStr(password or ""), level=level))
    return None


@DEVICE.operation("DeleteUsers")
def delete_users(ctx: SoapContext, req: Any) -> None:
    names = [str(n) for n in req.Username or []]
    with ctx.state.lock:
        for name in names:
            if ctx.state.user(name) is None:
                raise SoapFault(["InvalidArgVal", "UsernameMissing"], f"no user {name}")
            if name == ctx.config.username:
                raise SoapFault(["InvalidArgVal", "FixedUser"], f"user {name} is fixed and cannot be deleted")
        ctx.state.users = [u for u in ctx.state.users if u.username not in names]
    return None


@DEVICE.operation("SetUser")
def set_user(ctx: SoapContext, req: Any) -> None:
    changes = [_check_user(u, need_password=False) for u in req.User or []]
    with ctx.state.lock:
        for name, _, _ in changes:
            if ctx.state.user(name) is None:
                raise SoapFault(["InvalidArgVal", "UsernameMissing"], f"no user {name}")
        for name, password, level in changes:
            user = ctx.state.user(name)
            assert user is not None
            if password:
                user.password = SecretStr(password)
            if name != ctx.config.username:  # the built-in administrator keeps its level
                user.level = level  # type: ignore[assignment]
    return None


@DEVICE.operation("GetNetworkInterfaces")
def get_network_interfaces(ctx: SoapContext, req: Any) -> dict[str, Any]:
    digest = hashlib.sha1(ctx.config.serial_number.encode()).hexdigest()
    mac = ":".join(["02"] + [digest[i : i + 2] for i in range(0, 10, 2)])
    host = ctx.config.advertised_host or ctx.camera.host
    ipv4 = host if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", host) else "127.0.0.1"
    link = {"AutoNegotiation": True, "Speed": 100, "Duplex": "Full"}
    return {
        "NetworkInterfaces": [
            {
                "token": "eth0",
                "Enabled": True,
                "Info": {"Name": "eth0", "HwAddress": mac, "MTU": 1500},
                "Link": {"AdminSettings": link, "OperSettings": link, "InterfaceType": 6},
                "IPv4": {
                    "Enabled": True,
                    "Config": {"Manual": [{"Address": ipv4, "PrefixLength": 24}], "DHCP": False},
                },
            }
        ]
    }


@DEVICE.operation("SystemReboot")
def system_reboot(ctx: SoapContext, req: Any) -> dict[str, Any]:
    ctx.camera.reboot()
    return {"Message": "Rebooting in 1 second"}


@DEVICE.operation("GetWsdlUrl")
def get_wsdl_url(ctx: SoapContext, req: Any) -> dict[str, Any]:
    return {"WsdlUrl": "http://www.onvif.org/Documents/Specifications.aspx"}

"""The names a server answers to (the Host header of a request, the origin of a page opening its live connection):
its own on this machine, and those it is given (`fast-style-serve --allow-host`), so that a web page elsewhere cannot
reach it through a name of its own (DNS rebinding)."""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from collections.abc import Sequence
from urllib.parse import SplitResult, urlsplit

from fastapi.responses import JSONResponse
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fast_style.errors import UserError, remedy

log = logging.getLogger(__name__)

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")  # how a browser on this machine names a server on it
EVERY_ADDRESS = ("0.0.0.0", "::")  # a --host that listens on every network


def as_written(host: str) -> str:
    """An address given to listen on as it is written alone, so that each is known by one spelling: "::" for
    0:0:0:0:0:0:0:0 (taken for one address: no "from others", and http://[0:0:0:0:0:0:0:0] to open), "::1" for
    0:0:0:0:0:0:0:1 (not seen as this machine's: any name was let through), "0.0.0.0" for 0 or 000.0.0.0 (as the
    system reads them when it binds), "127.0.0.1" for ::ffff:127.0.0.1 (`unmapped`); a name is kept as given, less
    the trailing dot of its fully qualified spelling (`localhost.` was "no name or address of this machine")."""
    if len(host) > 1 and host.endswith(".") and not host.endswith(".."):
        host = undotted(host)
    try:
        return unmapped(str(ipaddress.ip_address(host)))
    except ValueError:
        pass
    if re.fullmatch(r"[0-9a-fA-FxX.]+", host):  # digits alone: the system's IPv4 spellings (0, 0x7f.1, 0177.0.0.1)
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            pass
    return host


def unmapped(name: str) -> str:
    """An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`, `[::ffff:7f00:1]`, as a browser writes it) as the IPv4 address
    it is, which a connection to it reaches (it was taken for another machine's: no Host check, and `--host` said
    "cannot be used (Invalid argument)", blaming the port); any other `name` as it is."""
    try:
        mapped = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return name
    return str(mapped.ipv4_mapped) if isinstance(mapped, ipaddress.IPv6Address) and mapped.ipv4_mapped else name


def undotted(name: str) -> str:
    """A host name without the one trailing dot of its fully qualified spelling (`localhost.`, `example.org.`: the
    same host, which was refused as another)."""
    return name.removesuffix(".")


def is_loopback(name: str) -> bool:
    """Whether `name` (a host name or address, an IPv6 one in brackets or not, with a trailing dot or not) is this
    machine's own: localhost, 127.x.x.x, ::1, or ::ffff:127.x.x.x."""
    bare = unmapped(undotted(name.strip("[]"))).lower()
    try:
        return bare == "localhost" or ipaddress.ip_address(bare).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str, also: Sequence[str] = ()) -> list[str] | None:
    """The names a request may give its server as (its Host header) for a server listening on `host`: on this
    machine only, its loopback names and `also` (a reverse proxy's public name), so that a web page elsewhere
    cannot reach it through a name of its own (DNS rebinding); listening on the network, None: any name (its
    addresses there are not known), unless `also` lists them: then those, the address it listens on and, on every
    address, this machine's loopback names (the address the server printed to open was refused)."""
    host = unmapped(host)  # (::ffff:127.0.0.1 took any name)
    loopback = is_loopback(host) or host.startswith("127.")  # (LOCALHOST: any name)
    if not also and not loopback:
        return None
    here = LOOPBACK_NAMES if host in EVERY_ADDRESS else (*LOOPBACK_NAMES, host) if loopback else (host,)
    names = [*here, *map(host_name, also)]
    names = [f"[{n}]" if ":" in n and not n.startswith("[") else n for n in names]
    return list(dict.fromkeys(names))  # (the address it listens on: 127.0.1.1 refused its own URL)


def host_name(value: str) -> str:
    """`value` as a name `allowed_hosts` takes (`proxy.example.org`, `*.example.org`, an address), UserError for
    what no request's Host header can match: a URL, a name with a port (it never matched, with or without one)."""
    name = value.strip()
    given = remedy("--allow-host", "allowed_hosts") or "--allow-host"  # (a Python caller's `also`)
    no_name = UserError(f"{given} '{value}' is not a name: give one as 'proxy.example.org'")
    if "/" in name or "@" in name:
        try:
            host = urlsplit(name).hostname
        except ValueError:  # (http://[::1)
            host = None
        if not host:  # ("give 'http:/x'")
            raise no_name
        raise UserError(f"{given} takes a name, not a URL: give '{host}'")
    bare = name.strip("[]")
    if name.count(":") == 1 or (name.startswith("[") and not name.endswith("]")):  # name:port, [::1]:8443
        alone = name.rsplit(":", 1)[0]
        if not alone or alone.count("[") != alone.count("]"):  # (":8000" was "give ''", "[::1" "give '[:'")
            raise no_name
        raise UserError(f"{given} takes a name without its port: give '{alone}'")
    if ":" in bare and not _is_address(bare):  # (a:b:c was taken for an IPv6 address, [a:b:c])
        raise no_name
    if "*" in name and not (name == "*" or (name.startswith("*.") and "*" not in name[1:])):
        raise UserError(f"{given} '{name}': a wildcard stands for a name's first parts only, as '*.example.org'")
    # ('*.', as --allow-host "*.$DOMAIN" gives with no DOMAIN set, matched no Host, as '.' did)
    if not bare.removeprefix("*.").strip(".") or any(c.isspace() for c in name) or ".." in name:
        raise no_name
    name = undotted(name)  # (example.org. matched no Host of example.org; each is compared without its dot)
    if name.startswith("."):  # Django's spelling of the names under one: no Host is ever written so
        raise UserError(
            f"{given} '{name}': give '*{name}' for the names under {name[1:]} (and '{name[1:]}' for itself)"
        )
    if not name.isascii():  # as a browser sends it (bücher.example: xn--bcher-kva.example), or it never matched
        wild = "*." if name.startswith("*.") else ""
        try:
            return wild + name.removeprefix(wild).encode("idna").decode("ascii")
        except UnicodeError:
            raise UserError(f"{given} '{value}' is no name a browser sends: give its ASCII (xn--) form") from None
    return name


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def is_named(hostname: str, hosts: Sequence[str]) -> bool:
    """Whether `hostname` (urlsplit's: an IPv6 address without brackets) is one of `hosts`, as Starlette's check of
    the Host header reads them (`*.example.org`: any name under it; the live connection was refused on a page the
    check let through); a trailing dot on either is no difference (`localhost.` is localhost)."""
    hostname = undotted(hostname)
    name = (f"[{hostname}]" if ":" in hostname else hostname).lower()
    patterns = [undotted(h).lower() for h in hosts]
    return any(p == "*" or name == p or (p.startswith("*") and name.endswith(p[1:])) for p in patterns)


def own_page(
    origin: str, host: str, hosts: Sequence[str] | None, secure: bool = False, proxies: Sequence[str] | None = None
) -> bool:
    """Whether a page of `origin` (a live connection's Origin header) may use the server's live view. A page of a
    name the server itself answers to (this machine's names, the address it listens on) only on the server's own
    port (`host`, the request's Host header; `secure`: sent as wss, so 443 where it names none): a page of another
    server there is another site's (any port was taken). A page of a reverse proxy's name (`proxies`, those
    --allow-host gave; None: every name of `hosts` but this machine's) on any port, a proxy listening on its own. On
    every address (`hosts` None) the name the request was sent to, any port (a proxy may pass its name on). `*`
    (any Host) names no page: with it, a page of the name and port the request was sent to (the server itself, or a
    proxy that passes its name on), and the names listed besides."""
    try:
        parts, sent_to = urlsplit(origin), urlsplit(f"//{host.strip()}")
    except ValueError:  # ("http://[::1", a Host of "[::1": no URL, a traceback and a 500)
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc:  # ("null": a sandboxed frame's)
        return False
    try:
        page_port = _port(parts)
        same_port = page_port == _port(sent_to, secure)
        # (with '*': a proxy ending TLS passes on a Host without the 443 of the page's https Origin)
        passed_on = page_port == _port(sent_to, secure or parts.scheme == "https")
    except ValueError:  # (a port that is no number)
        return False
    loopback = {n.strip("[]") for n in LOOPBACK_NAMES}
    # (::ffff:7f00:1 is 127.0.0.1; localhost. is localhost)
    name, own = unmapped(undotted(parts.hostname or "")), unmapped(undotted(sent_to.hostname or ""))
    if name in loopback:  # one server, whichever of its names (localhost:8000 for 127.0.0.1:8000)
        return own in loopback and same_port
    if hosts is None:
        return name == own
    if proxies is None:
        proxies = [h for h in hosts if h.lower() not in LOOPBACK_NAMES]
    proxies = [f"[{n}]" if ":" in n and not n.startswith("[") else n for n in proxies]  # (as allowed_hosts writes)
    # '*' lets any Host through, not any page: it had let every site's page post photos and open the live view
    if is_named(name, [p for p in proxies if p != "*"]) or (
        is_named(name, [h for h in hosts if h != "*"]) and same_port
    ):
        return True
    return "*" in (*hosts, *proxies) and name.lower() == own.lower() and passed_on


def _port(address: SplitResult, secure: bool = False) -> int:
    """The port `address` names (an Origin, or a Host header read as `//host`), else its scheme's default (a Host's:
    443 where `secure`, else 80); ValueError where it names no number."""
    return address.port or (443 if address.scheme == "https" or secure else 80)


class HostGuard:
    """Starlette's check of the Host header (TrustedHostMiddleware: a web page elsewhere must not reach the server
    through a name of its own), its refusal the one-line JSON every refusal is (Starlette's is plain text)."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        self.app, self.hosts = app, allowed_hosts
        self.warned: set[str] = set()  # the names a live connection was refused by, said on the terminal
        self.check = TrustedHostMiddleware(self._passed, allowed_hosts=allowed_hosts, www_redirect=False)

    @staticmethod
    async def _passed(scope: Scope, receive: Receive, send: Send) -> None:
        scope["fast_style.host_allowed"] = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # checked as the IPv4 address an IPv4-mapped one is ([::ffff:7f00:1]:8000 is 127.0.0.1:8000), and a name
        # without its fully qualified trailing dot (localhost.:8000 is localhost:8000)
        headers = [(k, _checked_host(v) if k == b"host" else v) for k, v in scope.get("headers", [])]
        checked = {**scope, "headers": headers}

        async def unsaid(message: Message) -> None:  # Starlette's own refusal: answered below instead
            return None

        await self.check(checked, receive, unsaid)
        if checked.get("fast_style.host_allowed"):
            return await self.app(scope, receive, send)
        host = dict(scope.get("headers", [])).get(b"host")
        sent = "the request names no host (no Host header): this" if not host else "this"
        said = f"{sent} server answers to {', '.join(self.hosts)} only (fast-style-serve --allow-host NAME adds one)"
        if scope["type"] == "websocket":  # a live connection's: the same line (it was Starlette's plain "Invalid
            # host header"), and on the terminal too, once a name: a browser tells the page only that it failed
            shown = host.decode("latin-1")[:80] if host else "no Host"
            if shown not in self.warned and len(self.warned) < 64:
                self.warned.add(shown)
                log.warning("live view refused to a connection sent to %s: %s", shown, said)
        await JSONResponse({"detail": said}, status_code=400)(scope, receive, send)


def _checked_host(value: bytes) -> bytes:
    """A Host header as it is checked: an IPv4-mapped IPv6 address ([::ffff:7f00:1]:8000) as its IPv4 one
    (127.0.0.1:8000), a name without the trailing dot of its fully qualified spelling (localhost.:8000)."""
    if not value.startswith(b"["):
        name, colon, port = value.partition(b":")
        return name.removesuffix(b".") + colon + port
    name, _, port = value.decode("latin-1").partition("]")
    plain = unmapped(name + "]")
    return value if plain == name + "]" else f"{plain}{port}".encode("latin-1")

"""fast_style.serving.server's app served by this process until it is stopped: Ctrl-C or SIGTERM (systemd, docker stop)
give requests under way a grace period (GRACE_S seconds unless set), then cancel them, each stop in one line;
uploads are spooled in a temporary folder of its own, removed at the end (fast-style-serve's; serve_in_background
serves a notebook's or a test's app in a thread instead)."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from fast_style.errors import Terminated, UserError, setting
from fast_style.plurals import counted

log = logging.getLogger(__name__)
GRACE_S = 10  # how long a stop waits for requests in progress (a stylization, an upload) before it cancels them


class CutShort:
    """What a stop that cut stylizations short leaves behind: their worker threads, which Python's exit would wait
    for (a minute for a large photo, and a second Ctrl-C then aborted the process), and the temporary folder they
    may write in again."""

    def __init__(self) -> None:
        self.jobs, self.temp = 0, ""

    def end_process(self, code: int) -> None:
        """Ends the process now, with `code`, where jobs were cut short; else nothing."""
        if self.jobs:
            shutil.rmtree(self.temp, ignore_errors=True)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)


def address(host: str, port: int) -> str:
    """`host`:`port` as an address is written: "[::]:8000" for an IPv6 host, "127.0.0.1:8000" otherwise."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def url(host: str, port: int) -> str:
    """The address a browser on this machine opens for a server on `host`:`port`: "http://[::1]:8000" for an IPv6
    one; a server on every address by its loopback address (a page at http://0.0.0.0 is no secure context: the
    camera of the Live tab was refused)."""
    return "http://" + address({"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host), port)


def reached_from(host: str, names: Sequence[str] | None) -> str:
    """How others reach a server listening on `host`, for the line that says where to open it: on every address, by
    the names it answers to, where they are given (--allow-host), else by its address of the one family it listens
    on ("::" is IPv6 alone: "its address" had sent people to its IPv4 one, refused); "" on one address."""
    from fast_style.serving.host_names import EVERY_ADDRESS, LOOPBACK_NAMES

    if host not in EVERY_ADDRESS:
        return ""
    # ('*', any name, and '*.example.org', names under it: no name to open, "or *.example.org from others")
    others = [n for n in names or () if n not in LOOPBACK_NAMES and not n.startswith("*")]
    family = "IPv6" if ":" in host else "IPv4"
    return f" on this machine, or {' or '.join(others) if others else f'its {family} address'} from others"


def bind_port(host: str, port: int) -> socket.socket:
    """A socket bound to `host`:`port`, at once, for the server to listen on (held from here: a server started
    meanwhile on that port left uvicorn's own line and exit code 3); UserError where it cannot be bound."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    # as uvicorn binds: a port whose last connections are in TIME-WAIT (a restart) is free to listen on
    # (not on Windows, where SO_REUSEADDR would let it bind a port another server listens on)
    if os.name != "nt":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if sock.family == socket.AF_INET6:  # IPv6 alone, as uvicorn's own bind (--host :: answered on IPv4 too)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    try:
        sock.bind((host, port))
        sock.listen()  # (two servers binding at once, with SO_REUSEADDR each: the one that listens first has it)
    except OSError as e:
        sock.close()
        if isinstance(e, socket.gaierror) or e.errno == errno.EADDRNOTAVAIL:  # the host's, not the port's: it said
            raise UserError(  # "choose another with --port" for a name that is not known
                f"{setting('--host', 'host', host)} is no name or address of this machine ({e.strerror}): give "
                "127.0.0.1 (this machine only), 0.0.0.0 (every network) or one of its own"
            ) from None
        why = "is in use" if e.errno == errno.EADDRINUSE else f"cannot be used ({e.strerror})"
        raise UserError(f"{address(host, port)} {why}: choose another with --port or --host") from None
    return sock


def serve(
    app: Any,
    host: str,
    port: int,
    cut_short: CutShort | None = None,
    sock: socket.socket | None = None,
    grace: int = GRACE_S,
) -> None:
    """Serves `app` (create_app's) on `host`:`port` until a stop: KeyboardInterrupt after Ctrl-C, its subclass
    errors.Terminated after SIGTERM or SIGHUP (fast-style-serve's exit codes 130, 143, 129, each with its one line;
    a library ends no process). Its lines (where to open it, what a stop waits for) are logged. `cut_short`: told
    the jobs a stop cut short and the temporary folder, for `end_process`. `sock`: bound to `host`:`port` already
    (else uvicorn binds it). `grace`: the seconds a stop waits for requests under way before it cancels them."""
    import uvicorn

    class Server(uvicorn.Server):
        """Started with SIGINT ignored (`fast-style-serve &` in a script, nohup), it keeps ignoring it, as every
        program does: a Ctrl-C meant for the shell must not stop it (uvicorn would take it as a stop)."""

        keep_ignoring_sigint = signal.getsignal(signal.SIGINT) is signal.SIG_IGN

        def handle_exit(self, sig: int, frame: object) -> None:
            if sig == signal.SIGINT and self.keep_ignoring_sigint:
                return
            # requests under way (a stylization, a client stalled mid-upload): idle connections close at once
            first, busy = not self.should_exit, _under_way(self.server_state.tasks)
            super().handle_exit(sig, frame)  # before the line: a second Ctrl-C may come while it is printed
            if first and busy:  # said, or the stop looks hung
                log.info(
                    "stopping: waiting for %s under way, at most %s s (Ctrl-C again stops at once)",
                    counted(busy, "request"),
                    grace,
                )

    own_temp = tempfile.mkdtemp(prefix="fast-style-serve-")  # uploads are spooled here and nowhere else
    system_temp, tempfile.tempdir = tempfile.tempdir, own_temp
    if cut_short is not None:
        cut_short.temp = own_temp
    try:
        stop = f"kill {os.getpid()} stops it" if Server.keep_ignoring_sigint else "Ctrl-C stops it"
        where = reached_from(host, getattr(getattr(app, "state", None), "hosts", None))
        log.info("fast-style-serve: open %s/%s (%s)", url(host, port), where, stop)
        # not uvicorn.run, which swallows the Ctrl-C it re-raises (exit 0, not 130); uvicorn's lines go through the
        # program's logging (fast-style-serve's: `warning: ...`, as its other warnings), not its own console
        # ("WARNING:  Invalid HTTP request received.")
        server = Server(server_config(app, grace, host=host, port=port, log_config=None))
        quiet, own_words = _QuietStop(server), _InOwnWords(url(host, port))
        logging.getLogger("uvicorn.error").addFilter(quiet)
        logging.getLogger("uvicorn.error").addFilter(own_words)
        # uvicorn stops cleanly on SIGTERM (systemd, docker stop), then raises it again: Terminated through the
        # `finally` below (the default action would kill the process and leave the temporary folder; the tool
        # says it and exits 143). A SIGHUP (the terminal closed) stops it the same way, exit 129; started with it
        # ignored (nohup), it stays ignored
        hung_up: list[int] = []

        def hang_up(signum: int, frame: object) -> None:
            hung_up.append(signum)
            server.handle_exit(signal.SIGTERM, frame)  # (uvicorn handles SIGINT and SIGTERM only)

        previous = signal.signal(signal.SIGTERM, lambda signum, frame: _terminated(hung_up[0] if hung_up else signum))
        hangup = getattr(signal, "SIGHUP", None)  # (none on Windows)
        keep = hangup is None or signal.getsignal(hangup) is signal.SIG_IGN
        previous_hangup = None if keep else signal.signal(hangup, hang_up)
        try:
            server.run(sockets=None if sock is None else [sock])
        except SystemExit as e:  # uvicorn's exit 3 where it could not listen (its own line says why)
            if server.started or e.code != uvicorn.config.STARTUP_FAILURE:
                raise
        finally:
            signal.signal(signal.SIGTERM, previous)
            if previous_hangup is not None:
                signal.signal(hangup, previous_hangup)
            logging.getLogger("uvicorn.error").removeFilter(quiet)  # another server in this process logs in full
            logging.getLogger("uvicorn.error").removeFilter(own_words)
        if not server.started:
            raise UserError(f"the server did not start on {address(host, port)}: see the messages above")
    finally:
        tempfile.tempdir = system_temp
        shutil.rmtree(own_temp, ignore_errors=True)
        if cut_short is not None:
            cut_short.jobs = app.state.gate.busy


def _under_way(tasks: set) -> int:
    """Requests a stop waits for: uvicorn's HTTP tasks; not the live connections, which close at once (a frame
    being stylized for one is answered to nobody: its handler ends without waiting), though uvicorn runs each as
    a task too."""
    sockets = ("WebSocket", "WSProtocol")  # its WebSocket protocols' run_asgi
    return sum(not any(s in getattr(t.get_coro(), "__qualname__", "") for s in sockets) for t in tasks)


class _QuietStop(logging.Filter):
    """Once a stop is asked, the tasks uvicorn cancels (a stalled upload, the app's shutdown) are not errors: their
    tracebacks (a hundred lines at a second Ctrl-C) are left out, and its own "Cancel N running task(s)" too."""

    def __init__(self, server: object) -> None:
        super().__init__()
        self.server = server

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(self.server, "should_exit", False):
            return True
        import asyncio  # (imported by uvicorn long before)

        error = record.exc_info[1] if record.exc_info else None
        text = record.getMessage()
        cancelled = isinstance(error, (asyncio.CancelledError, KeyboardInterrupt)) or "CancelledError" in text
        return not (cancelled or text.startswith("Cancel "))


class _InOwnWords(logging.Filter):
    """uvicorn's lines of the requests it refuses itself, in the tool's words: "Invalid HTTP request received.", said
    for every one (three for each https:// address a browser was given, none saying why), once, with its likely
    cause and what to do; "Unsupported upgrade request." (curl --http2 asks for HTTP/2, and is answered in HTTP/1.1,
    as it may be) not at all: nothing went wrong."""

    def __init__(self, address: str) -> None:
        super().__init__()
        self.address, self.said = address, False

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if text == "Unsupported upgrade request.":
            return False
        if text == "Invalid HTTP request received.":
            if self.said:
                return False
            self.said = True
            record.msg = (
                "a malformed request was refused (400 Bad Request): an https:// address opened? this server "
                f"speaks plain HTTP: open {self.address}/ (or put a reverse proxy with TLS in front); further ones "
                "are not said"
            )
            record.args = ()
        return True


def _terminated(signum: int) -> None:
    raise Terminated(signum)


def server_config(app: Any, grace: int = GRACE_S, **kwargs: Any) -> Any:
    """uvicorn's settings for `app` (fast-style-serve's and serve_in_background's): no per-message deflate (live
    frames are JPEGs, which do not compress: it only cost both ends CPU), a WebSocket message as large as an
    upload (uvicorn's own limit, 16 MB, closed the live connection below the server's 20 MB), and a stop's `grace`
    seconds for requests under way."""
    import uvicorn

    from fast_style.serving.server import FORM_BYTES

    limit = app.state.limits.max_upload_bytes + FORM_BYTES
    return uvicorn.Config(
        app,
        log_level="warning",
        ws_per_message_deflate=False,
        ws_max_size=limit,
        timeout_graceful_shutdown=grace,  # a client stalled mid-upload held a stop for as long as it liked
        **kwargs,
    )


@contextmanager
def serve_in_background(app: Any, host: str = "127.0.0.1") -> Iterator[str]:
    """Serves `app` with uvicorn in a thread of this process, on a free port of `host` (for scripts, tests and
    notebooks); yields its address, "http://127.0.0.1:PORT". The server stops when the block ends."""
    import uvicorn

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))  # bound here and handed over: the port cannot be taken in between
        server = uvicorn.Server(server_config(app))  # as the CLI
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        try:
            yield url(host, sock.getsockname()[1])
        finally:
            server.should_exit = True
            thread.join(timeout=10)

"""The web app and HTTP API behind `fast-style-serve` (FastAPI on uvicorn).

- `GET /`: the page (fast_style/serving/web/, no assets from elsewhere): stylize a photo, or the webcam live.
- `GET /api/styles`: the styles this server offers (the built-in ones and the model files of its folder); a
  style with a smaller, faster variant (the zoo's `-fast` models, for live use on a CPU) names it as `fast`.
- `POST /api/stylize`: a photo (multipart field `image`) with `style`, `strength`, `preserve_color`, `max_size`
  and `format` (left out: png for a photo with transparency, else jpeg) -> the stylized image; a field of another
  name (a typo: strenght) is refused, not left unread.
- `WS /api/live`: text messages set the options (JSON: style, strength, preserve_color, max_size; another key is
  refused, as a form field of another name is), answered only when refused (`{"error": ..., "options": true}`);
  each binary message is a JPEG frame, answered in order by the stylized frame as a JPEG, by `{"busy": true}` when
  it was dropped, or by `{"error": ...}`.
- `GET /openapi.json`: the API's OpenAPI description.

Every style is loaded once and shared by all clients. At most `running` stylizations run at once and `waiting`
more wait their turn; a request beyond that is answered 503 ("busy") at once, never queued without bound, and one
whose client left while it waited is skipped. Safety: styles are chosen by name from the server's list (no paths,
no model files from clients); a page of another site (its Origin, as the live view reads it) is refused
(403) before its photo is read; uploads are refused over `max_upload_bytes` (a declared length before anything is
read, an undeclared one where it passes the limit) or `max_pixels` (before they are decoded: decompression
bombs), and when they are no picture Pillow reads, as fast-style-stylize reads one (JPEG, PNG, HEIC, WebP, AVIF,
TIFF, GIF, BMP...; EPS not: Pillow reads it by running Ghostscript). fast-style-serve spools uploads only
inside its own temporary folder. Every refusal is one line, `{"detail": "..."}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import io
import json
import logging
import re
import threading
import warnings
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import FastAPI, File, Form, Request, UploadFile, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from PIL import Image
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as FormFile
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fast_style import zoo
from fast_style.errors import EMPTY_FILE, UserError, first_line, setting
from fast_style.inference.stylizer import Stylizer
from fast_style.media.images import BeyondColours, decoding, ends_early, open_rgb, picture_format, read_image
from fast_style.model.style_model import load_style_model
from fast_style.numbers import check_number
from fast_style.options import check_max_size, check_strength
from fast_style.outputs import unreadable_name
from fast_style.serving.host_names import HostGuard, is_loopback, own_page
from fast_style.walk import files_below

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent / "web"
# accepted uploads: any picture Pillow reads, as fast-style-stylize reads one (images.read_image: an animation's or
# a multi-page TIFF's first picture; a TIFF, a scan's, had been refused with a list of 7 formats), but those Pillow
# reads by running another program on them, which no upload from a web page is handed to
RUN_ELSEWHERE = {"EPS": "Ghostscript"}
KINDS = "JPEG, PNG, HEIC, WebP, AVIF, TIFF, GIF, BMP..."  # (examples, for the refusals)
OUTPUT_TYPES = {"jpeg": ("JPEG", "image/jpeg"), "png": ("PNG", "image/png")}
BUSY = "busy: the server is stylizing other requests; try again in a moment"
STOPPING = "the server is stopping: try again once it is back"
FORM_BYTES = 64 * 1024  # a multipart form's own bytes besides the photo
BODY_END = "fast_style.body_end"  # (in a request's scope: UploadGuard's)
EMPTY_FRAME = "the frame is an empty message (0 bytes): send each frame's picture, a JPEG, as a binary message"


@dataclass
class Limits:
    max_upload_bytes: int = 20 * 2**20
    max_pixels: int = 40_000_000  # of an upload, read from its header before it is decoded
    max_size: int = 2048  # the longest side of a result: larger photos are scaled down first
    running: int = 1  # stylizations at once (the network already uses every core, or the whole GPU)
    waiting: int = 4  # requests that may wait for their turn; more are answered 503 at once

    def __post_init__(self) -> None:  # (max_size=-5 made every request a 500; running=0 an executor's ValueError)
        limits = (("max_upload_bytes", 1), ("max_pixels", 1), ("max_size", 16), ("running", 1), ("waiting", 0))
        for name, least in limits:  # (kept as Python's int: numpy's int64 had been refused)
            number = check_number(
                f"Limits.{name}", getattr(self, name), lambda v, n=least: v >= n, f"a whole number >= {least}", True
            )
            setattr(self, name, number)


def _route_path(scope: Scope) -> str:
    """The path a request asks this app for, less the `root_path` it is mounted under (Starlette's Mount keeps the
    whole path, /style/api/stylize, in scope["path"]): compared as "/api/stylize", a page of another site, a full
    queue and a form that is none were let through where the app was mounted under a path of a program's own."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class UploadGuard:
    """Pure ASGI (a BaseHTTPMiddleware would hide a client's disconnect from `request.is_disconnected`): refuses
    a stylize request that `foreign` refuses (a page of another site: its one-line reason), an upload declared over
    `limit` bytes, and a stylize request while `gate` is full, before any of it is read; stops reading an
    undeclared (chunked) one where it passes `limit`, the rest never spooled. Answers are the one-line JSON every
    refusal is (Starlette's RequestBodyLimitMiddleware answers in plain text)."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        message: str,
        gate: Gate,
        foreign: Callable[[dict[bytes, bytes], str], str | None] | None = None,
    ) -> None:
        self.app, self.limit, self.message, self.gate, self.foreign = app, limit, message, gate, foreign

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers", []))
        stylize = _route_path(scope) == "/api/stylize"
        if stylize and self.foreign and (why := self.foreign(headers, scope["scheme"])):
            return await JSONResponse({"detail": why}, status_code=403)(scope, receive, send)
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            return await JSONResponse({"detail": self.message}, status_code=413)(scope, receive, send)
        if stylize and self.gate.full and not await self.gate.make_room():
            busy = JSONResponse({"detail": BUSY}, status_code=503, headers={"Retry-After": "1"})
            return await busy(scope, receive, send)
        seen = 0
        scope[BODY_END] = b""  # the body's last bytes, read so far: a multipart form's end is its closing boundary

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            scope[BODY_END] = (scope[BODY_END] + message.get("body", b"")[-256:])[-256:]
            if seen > self.limit:  # raised inside FastAPI's form parsing, which passes HTTPException on
                raise HTTPException(413, self.message)
            return message

        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except asyncio.CancelledError:  # a stop's grace period ran out while the request was read (a stalled
            if not started:  # upload): the one-line refusal, not uvicorn's plain-text 500
                stopping = JSONResponse({"detail": STOPPING}, status_code=503, headers={"Retry-After": "10"})
                await stopping(scope, receive, send)
            raise


# the page and its files are asked for again on every load (answered 304 where unchanged): without a word on caching,
# a browser kept them for as long as it guessed (days, from when the files were installed), and ran an upgraded
# server with the page of the version before
REVALIDATED = {"Cache-Control": "no-cache"}


class Revalidated(StaticFiles):
    """The page's files, each answered with REVALIDATED; the page itself sent to its own address (at
    static/index.html its relative URLs, static/app.js and api/styles, had resolved under static/: a page without
    its script or styles)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path == "index.html":  # (relative: under a proxy's path too)
            return RedirectResponse("../", status_code=308, headers=REVALIDATED)
        response = await super().get_response(path, scope)
        response.headers.update(REVALIDATED)
        return response


class Refused(UserError):
    """A request the server turns down: a UserError (the one error type users see) with the HTTP status it is
    answered with, and a one-line reason the page shows."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class Styles:
    """The styles a server offers, by name, each loaded once on first use and shared."""

    def __init__(self, models_dir: Path | None = None, device: str = "auto") -> None:
        self.device = device
        self.files: dict[str, Path] = {name: zoo.resolve(name) for name in zoo.names()}
        self.info: dict[str, dict[str, str]] = {}
        for name in self.files:
            m = zoo.manifest(name)
            painting = m.get("painting", {})
            self.info[name] = {"title": painting.get("title", name), "artist": painting.get("artist", "")}
            if m.get("fast_variant_of") in self.files:  # the page offers it as the "fast" choice of that style
                self.info[name]["fast_variant_of"] = m["fast_variant_of"]
        for name, info in self.info.items():
            if "fast_variant_of" in info:
                self.info[info["fast_variant_of"]]["fast"] = name
        if models_dir is not None:
            # (a str's .is_dir() was an AttributeError; "~/models" did not exist, where Stylizer.load reads the home
            # folder, as every path from Python is read)
            self._add_models(Path(models_dir).expanduser())
        self._loaded: dict[str, Stylizer] = {}
        self._unloadable: set[str] = set()
        self._lock = threading.Lock()

    def _add_models(self, models_dir: Path) -> None:
        """The style models in `models_dir` (`NAME.pt`, offered as NAME) and every training run's `style.pt` below
        it (`runs/wave/style.pt` in `runs/`, offered as wave; `outputs/2026-12-04/10-00-00-4242/style.pt` in
        `outputs/` as 2026-12-04-10-00-00-4242); a run's own folder (`runs/wave`) offers its `style.pt` as wave,
        and one style model file (`wave.pt`, `runs/wave/style.pt`) is offered alone, by the same names."""
        if why := unreadable_name(models_dir):  # (a name too long for the disk: an OSError's traceback)
            shown = setting("--models", "models_dir", f"{str(models_dir)[:60]}...")
            raise UserError(f"{shown}: {why}: give a style model (.pt) or a folder of them")
        said = setting("--models", "models_dir", models_dir)
        if not models_dir.exists() and str(models_dir) in self.files:  # --models wave (README: every tool that
            # takes a style model takes a built-in name): "does not exist", where it is offered anyway
            log.warning("%s: a built-in style, offered without it (--models adds your own style models)", said)
            return
        one = models_dir.is_file() and models_dir.suffix.lower() == ".pt"  # (a run's style.pt: by its run's name)
        if one:
            found = {zoo.model_name(models_dir): models_dir}
            models_dir = models_dir.parent
        elif models_dir.is_file():  # (a painting, a checkpoint: "not a style model" said below for a .pt alone)
            raise UserError(f"{said} is a file: give a style model (.pt) or a folder of them")
        elif not models_dir.is_dir():  # (/dev/null "did not exist")
            what = "is no file or folder" if models_dir.exists() else "does not exist"
            raise UserError(f"{said} {what}: give a style model (.pt) or a folder of them")
        else:  # (a hidden one, ._wave.pt beside wave.pt from a Mac, as files_below leaves it; WAVE.PT too)
            found = {  # (named as every tool names a model: zoo.model_name, a run's style.pt by its run's folder)
                zoo.model_name(path): path
                for path in sorted(models_dir.iterdir())
                if path.suffix.lower() == ".pt" and not path.name.startswith(".")
            }
        for path in [] if one else files_below(models_dir, lambda name: name == "style.pt"):  # runs/wave -> ...
            if path.parent == models_dir:  # (offered above)
                continue
            name = "-".join(path.parent.relative_to(models_dir).parts)
            if name in found:
                log.warning("%s: not offered, the name %r is %s's", path, name, found[name])
                continue
            found[name] = path
        if not found:
            log.warning(
                "%s: no style model in it (*.pt) or below it (a run's style.pt): built-in styles only",
                setting("--models", "models_dir", models_dir),
            )
        for name, path in found.items():
            if name in self.files and one:  # the one model asked for: the built-in one was served instead
                raise UserError(f"{said}: {name} is a built-in style's name: rename the file (e.g. my_{name}.pt)")
            if name in self.files:
                log.warning("%s: a built-in style has the name %r; the built-in one is served", path, name)
                continue
            try:  # read now, so that a file that is not a style model is never offered
                load_style_model(str(path))
            except UserError as e:
                if one:  # the one model asked for: not served without it
                    raise UserError(f"{said}: {first_line(e)}") from None
                # the loader's advice to pass another file (fast-style-stylize's) is no advice here
                why, passing, _ = first_line(e).partition(": pass ")
                fix = f": put style models only (the .pt files fast-style-train writes) in {said}" if passing else ""
                log.warning("skipped, not offered: %s%s", why, fix)
                continue
            self.files[name] = path
            self.info[name] = {"title": name, "artist": "", "file": str(path.relative_to(models_dir))}

    def list(self) -> list[dict[str, str]]:
        return [{"name": name, **self.info[name]} for name in self.files]

    SHOWN = 5  # the styles a refusal names: every one had been named (4.4 KB with 120 models)

    def choices(self, name: str | None = None) -> str:
        """A few of the styles offered, for a refusal: those closest to `name` first (difflib's: a mistyped name's
        own style leads), then the others in the list's order, and how many more there are and where they are all
        listed."""
        offered = list(self.files)
        if len(offered) <= self.SHOWN + 1:
            return f"one of {', '.join(offered)}"
        if name is not None:
            folded = {n.casefold().replace("_", "-"): n for n in offered}
            key = name[:200].casefold().replace("_", "-")
            close = [folded[n] for n in difflib.get_close_matches(key, list(folded), n=self.SHOWN, cutoff=0.5)]
            offered = [*close, *(n for n in offered if n not in close)]
        more = f"{len(offered) - self.SHOWN} more (GET /api/styles lists them all, as the page does)"
        return f"one of {', '.join(offered[: self.SHOWN])} or {more}"

    def get(self, name: str) -> Stylizer:
        if name not in self.files:
            shown = name if len(name) <= 80 else name[:60] + "..."  # a 900 KB name came back whole
            raise Refused(404, f"unknown style '{shown}': choose {self.choices(name)}")
        with self._lock:
            if name not in self._loaded:
                try:
                    self._loaded[name] = Stylizer.load(self.files[name], device=self.device)
                except UserError as e:
                    # the server's own file, in a server's words: the loader's advice is fast-style-stylize's
                    # ("pass the style .pt ...", "fast-style-stylize --list-styles"), no advice to a page's user
                    why = first_line(e).partition(": pass ")[0]
                    if not self.files[name].exists():
                        why = (
                            f"its file {self.files[name]} is gone (moved or removed since the server started): put it"
                            " back, or start fast-style-serve again to list the styles anew"
                        )
                    if name not in self._unloadable:  # said on the server's terminal too, once: a 500 said nowhere
                        self._unloadable.add(name)
                        log.warning("style %r cannot be loaded: %s", name, why)
                    raise Refused(500, f"style '{name}' cannot be loaded: {why}") from None
            return self._loaded[name]

    async def ready(self, name: str) -> Stylizer:
        """`get`, from the event loop: a style's first load (0.5-1 s on a CPU) on a thread of its own, not on the
        loop, where it had held up every other client's requests and frames meanwhile."""
        loaded = self._loaded.get(name)
        return loaded if loaded is not None else await asyncio.to_thread(self.get, name)


class Gate:
    """At most `running` jobs at once and `waiting` more in line; a job beyond that is refused with 503 at once.

    Jobs run on `running` threads of their own: the same few threads always, so the memory allocator keeps the
    same few arenas (a general thread pool let the server's memory grow with every new thread it used)."""

    def __init__(self, running: int, waiting: int) -> None:
        self.running, self.waiting = running, waiting
        self.admitted = 0
        self.busy = 0  # jobs on a worker thread now (one a stop cut short runs on until it ends)
        self._busy_lock = threading.Lock()
        self.open()

    def open(self) -> None:
        """Its worker threads and running slots, new: an app served again (a notebook's cell run twice) had its
        threads shut down by the first server's end ("cannot schedule new futures after shutdown")."""
        self._workers = ThreadPoolExecutor(max_workers=self.running, thread_name_prefix="fast-style-stylize")
        self._slots = asyncio.Semaphore(self.running)  # (bound to the event loop of the server it serves)
        self._waiting: dict[asyncio.Future, Callable[[], Awaitable[bool]]] = {}  # a waiting job's turn: its `gone`
        self.closed = False

    def close(self) -> None:
        self._workers.shutdown(wait=False, cancel_futures=True)
        self.closed = True

    @property
    def full(self) -> bool:
        return self.admitted >= self.running + self.waiting

    async def run(self, job: Any, *args: Any, gone: Callable[[], Awaitable[bool]] | None = None) -> Any:
        """`job(*args)` on a worker thread when its turn comes. `gone`, asked while the job waits (every
        `GONE_EVERY` s) and when its turn comes, drops a job whose client has left: its place in line is free at
        once (a page that changes its options fires a new request and drops the last; those it dropped must not
        make its newest one busy)."""
        if self.full and not await self.make_room():
            raise Refused(503, BUSY)
        self.admitted += 1
        try:
            await self._turn(gone)
            try:
                if gone is not None and await gone():
                    raise Refused(499, "the client closed the request before its turn")
                with self._busy_lock:
                    self.busy += 1
                return await asyncio.get_running_loop().run_in_executor(self._workers, self._counted, job, *args)
            finally:
                self._slots.release()
        finally:
            self.admitted -= 1

    def _counted(self, job: Any, *args: Any) -> Any:
        try:
            return job(*args)
        finally:
            with self._busy_lock:
                self.busy -= 1

    GONE_EVERY = 0.2

    async def make_room(self) -> bool:
        """Asked when full: drops, now rather than at their next look, the waiting jobs whose clients have left
        (a page aborts its request and sends the new one at once); whether there is room then."""
        for turn, gone in list(self._waiting.items()):
            if not turn.done() and await gone():
                turn.cancel()
        for _ in range(20):  # the dropped jobs leave the line within a few turns of the event loop
            if not self.full:
                return True
            await asyncio.sleep(0)
        return False

    async def _turn(self, gone: Callable[[], Awaitable[bool]] | None) -> None:
        """Wait for a running slot (held on return); Refused(499) where `gone` says the client left first."""
        acquire = asyncio.ensure_future(self._slots.acquire())
        if gone is not None:
            self._waiting[acquire] = gone
        try:
            while not (await asyncio.wait({acquire}, timeout=self.GONE_EVERY if gone else None))[0]:
                if await gone():
                    raise Refused(499, "the client closed the request while it waited")
            if acquire.cancelled():  # by make_room
                raise Refused(499, "the client closed the request while it waited")
        except BaseException:
            if acquire.done() and not acquire.cancelled() and acquire.exception() is None:
                self._slots.release()  # it came just as we gave up: pass it on
            else:
                acquire.cancel()
            raise
        finally:
            self._waiting.pop(acquire, None)


def decode_upload(data: bytes, limits: Limits, keep_alpha: bool = False, frame: bool = False) -> Image.Image:
    """Bytes of an uploaded photo -> an RGB image (images.open_rgb: EXIF orientation applied, transparency on
    white; kept instead with `keep_alpha`, for a PNG answer); Refused for anything else, said of a live view's
    `frame` where it is one (an empty one was told to choose the photo again). The type and size are read from the
    header before anything is decoded."""
    over = f"over this server's limit of {figure(limits.max_pixels / 1e6)} megapixels"
    send = "send each frame as a picture (a JPEG)" if frame else f"upload a photo ({KINDS})"
    if not data:  # (a failed download: "not an image ... upload a JPEG" for a .jpg)
        raise Refused(415, EMPTY_FRAME if frame else f"the upload is {EMPTY_FILE}: choose the photo again")
    try:  # (Pillow warns of a "decompression bomb" over its MAX_IMAGE_PIXELS: refused below if over ours)
        with decoding(), warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as header:
                fmt, (w, h) = header.format, header.size
    except Image.DecompressionBombError:  # Pillow's own guard, twice its MAX_IMAGE_PIXELS: far over ours too
        raise Refused(413, f"the image is {over}") from None
    except (OSError, ValueError):
        raise Refused(415, f"{'the frame is ' if frame else ''}not an image this server reads: {send}") from None
    if fmt in RUN_ELSEWHERE:
        why = f"{fmt} images are not accepted (Pillow reads them by running {RUN_ELSEWHERE[fmt]})"
        raise Refused(415, f"{why}: {'send each frame as a JPEG' if frame else 'save it as a PNG or JPEG first'}")
    if w * h > limits.max_pixels:
        raise Refused(413, f"{w}x{h} is {over}")
    try:  # (a DecompressionBombWarning can only be printed where Limits allow more than Pillow's MAX_IMAGE_PIXELS)
        return read_image(io.BytesIO(data)) if keep_alpha else open_rgb(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise Refused(413, f"{w}x{h} is over Pillow's limit (PIL.Image.MAX_IMAGE_PIXELS)") from None
    except BeyondColours as e:  # (a 32-bit TIFF's: "damaged or cannot be decoded")
        raise Refused(415, str(e)) from None
    except (OSError, ValueError) as e:
        if ends_early(e):
            whole = "send each frame's whole picture" if frame else "upload the whole file"
            raise Refused(415, f"the image ends early (an unfinished copy or download?): {whole}") from None
        raise Refused(415, "the image is damaged or cannot be decoded") from None


def check_options(strength: object, max_size: object, limits: Limits) -> int:
    """The options every stylization takes (numbers, not text: the live view's JSON), checked; returns the longest
    side of the result."""
    try:
        check_strength(strength, "strength")
        size = check_max_size(max_size, "max_size")  # (100.5 refused: the live view had taken it as 100)
    except (UserError, TypeError) as e:
        raise Refused(400, str(e)) from None
    return min(size or limits.max_size, limits.max_size)


def json_words(value: object) -> str:
    """A value of the live view's JSON as JSON says it: null, true, "0.5", a list (Python's words, None, True, '0.5',
    were none the page had sent)."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return json.dumps(value)


GIVE = {  # what each field of the form takes, for one sent empty
    "image": "the photo, as curl -F image=@photo.jpg sends it",
    "style": "a style's name (GET /api/styles lists them)",
    "strength": "a number within 0..1",
    "max_size": "the result's longest side in pixels",
    "preserve_color": "true or false",
    "format": "jpeg or png",
}


def empty_field(name: str) -> str:
    """Why a field sent empty is refused (FastAPI takes "" for a field left out: -F strength=$S, S unset, came back at
    full strength, and -F style= was a "missing field" though it was there)."""
    optional = "" if name in ("image", "style") else ", or leave it out"
    return f"field '{name}' is empty: give {GIVE[name]}{optional}"


def invalid_fields(
    errors: Sequence[Any],
    query: set[str] | frozenset[str] = frozenset(),
    files: Sequence[str] = (),
    empty: set[str] | frozenset[str] = frozenset(),
) -> str:
    """FastAPI's validation errors, one line: "missing field 'style'; strength: Input should be a valid number"; a
    missing field that the URL's `query` names said to be there (?style=wave: it was "missing field 'style'"); a
    missing photo said to be the file the form sent by another name (`files`: curl -F file=@photo.jpg); a field sent
    `empty` said to be so."""
    said = []
    for error in errors:
        field = str(error.get("loc", ("?",))[-1])
        others = [f"'{name[:40]}'" for name in files if name != field]
        if error.get("type") == "missing" and field in empty and field in GIVE:
            said.append(empty_field(field))
        elif error.get("type") == "missing" and field in query:
            said.append(f"missing field '{field}' (it is in the URL's query, which is not read: send it in the form)")
        elif error.get("type") == "missing" and field == "image" and others:
            sent = f"the form's file is {others[0]}" if len(others) == 1 else f"its files are {', '.join(others[:3])}"
            said.append(f"missing field 'image' ({sent}: send the photo as 'image', as curl -F image=@photo.jpg)")
        elif error.get("type") == "missing":
            said.append(f"missing field '{field}'")
        elif isinstance(error.get("input"), FormFile):  # (-F strength=@file: a 500 where it was worded as text)
            said.append(f"{field}: send text (a form field), not a file")
        elif field in OPTIONS and "input" in error:
            said.append(option_words(field, error["input"]))
        elif "UploadFile" in str(error.get("msg")):  # (Pydantic's "Expected UploadFile, received: <class 'str'>")
            said.append(f"{field}: send a file (a multipart file part), not text")
        else:
            said.append(f"{field}: {error.get('msg')}")
    return "; ".join(said) or "the request's fields are not valid"


OPTIONS = ("strength", "max_size", "preserve_color")  # the form's typed fields, read by FastAPI


def option_words(name: str, value: object) -> str:
    """Why the form's `name` cannot be `value` (text FastAPI could not read as its type), in the live view's words
    ('max_size must be a number, not "abc"'; FastAPI's were "Input should be a valid integer, unable to parse
    string as an integer", for 1.5 too)."""
    shown = value[:40] + "..." if isinstance(value, str) and len(value) > 40 else value
    if name == "preserve_color":
        return f"preserve_color must be true or false, got {json_words(shown)}"
    try:
        number = float(str(value))
    except (TypeError, ValueError):
        return f"{name} must be a number, not {json_words(shown)}"
    try:  # 1.5 pixels, 1e400, nan: said as the live view says them
        check_options(number if name == "strength" else 1.0, number if name == "max_size" else None, Limits())
    except Refused as e:
        return e.message
    whole = "a whole number of pixels in digits" if name == "max_size" else "a number"  # ("1e3", "1_000")
    return f"{name} must be {whole}, got {json_words(shown)}"


FIELDS = ("image", "style", "strength", "preserve_color", "max_size", "format")  # POST /api/stylize's form
LIVE_OPTIONS = ("style", "strength", "preserve_color", "max_size")  # the live view's options message


def unknown_key(given: Sequence[str], known: Sequence[str], what: str) -> str | None:
    """Why a request naming a key outside `known` (a form's field, a live options message's key) is refused: "unknown
    option 'strenght' (did you mean 'strength'?): the options are ..." (a typo had done nothing, unsaid); None where
    every key of `given` is known."""
    unknown = [key for key in given if key not in known]
    if not unknown:
        return None
    key = unknown[0]
    shown = key if len(key) <= 40 else key[:40] + "..."
    close = difflib.get_close_matches(key[:200].lower(), known, n=1, cutoff=0.6)
    meant = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown {what} '{shown}'{meant}: the {what}s are {', '.join(known)}"


def too_large(limits: Limits, what: str = "upload") -> str:
    return f"the {what} is over this server's limit of {figure(limits.max_upload_bytes / 2**20)} MB"


def figure(number: float) -> str:
    """`number` to 3 significant digits, as the page writes the upload limit, and never in exponent form: 1000 MB
    had been "1e+03 MB", 2000 megapixels "2e+03"."""
    return f"{Decimal(f'{number:.3g}'):f}"


def encode(img: Image.Image, fmt: str = "jpeg", quality: int = 92) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, OUTPUT_TYPES[fmt][0], **({"quality": quality} if fmt == "jpeg" else {}))
    return buffer.getvalue()


def create_app(
    styles: Styles,
    limits: Limits | None = None,
    hosts: Sequence[str] | None = None,
    proxies: Sequence[str] | None = None,
) -> FastAPI:
    """The FastAPI application of `fast-style-serve`. `hosts`: the only names requests may address it by
    (`allowed_hosts`; None: any), and the only sites whose pages may open its live connection (on its own port,
    but for `proxies`, a reverse proxy's names: host_names.own_page)."""
    limits = limits or Limits()
    gate = Gate(limits.running, limits.waiting)
    # a malformed multipart body is answered 400 "Invalid multipart data"; its parser's own warning (as "Expected
    # boundary character 45, got 255 at index 2") only puzzled the server's terminal
    logging.getLogger("python_multipart").setLevel(logging.ERROR)
    # the server's max_pixels is the rule (checked in every upload's header): Pillow's own guard, a process-wide
    # setting (89 MP), must not refuse photos below it; it is only ever raised
    Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, limits.max_pixels) if Image.MAX_IMAGE_PIXELS else None

    # the interactive docs pages load their scripts from elsewhere: only the OpenAPI description is served
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if gate.closed:  # served again
            gate.open()
        yield
        gate.close()  # the worker threads end with the server

    warned: set[tuple[str, str]] = set()

    def refused_page(origin: str, host: str, what: str) -> str:
        """Why a page of `origin` may not use `what` (the live view, the photo form): said on the server's terminal,
        once for each site (a browser tells a page of the live view nothing but that the connection failed: behind a
        reverse proxy that does not pass its name on, the page said the server could not be reached while the
        photos it stylized came back); returned for an answer a page can show."""
        try:
            name, malformed = urlsplit(origin).hostname, False
        except ValueError:  # ("http://[::1": a traceback, and a 500)
            name, malformed = None, True
        if malformed:
            fix = "its Origin is no site's address"
        elif not name:
            fix = "a page of no site (a sandboxed frame's, or a file's)"
        elif is_loopback(name):
            fix = "another server on this machine; a reverse proxy here must pass its Host header on"
        else:
            allow = setting("--allow-host", "proxies", name)
            fix = f"if it is this server's public name (a reverse proxy), add {allow}"
        origin = origin if len(origin) <= 80 else origin[:60] + "..."
        if (what, origin) not in warned and len(warned) < 64:
            warned.add((what, origin))
            log.warning("%s refused to a page of %s (sent to %s): %s", what, origin, host or "?", fix)
        return fix

    def foreign_page(headers: dict[bytes, bytes], scheme: str) -> str | None:
        """Why a photo sent by a page of another site is refused (a browser sends a form to any site, and a page
        elsewhere kept the server busy with its photos), as the live view decides it; None for this server's own
        pages and for programs that are no browser (they send no Origin)."""
        origin = headers.get(b"origin")
        if origin is None:
            return None
        origin_text, host = origin.decode("latin-1"), headers.get(b"host", b"").decode("latin-1")
        if own_page(origin_text, host, hosts, scheme == "https", proxies):
            return None
        fix = refused_page(origin_text, host, "stylize (POST /api/stylize)")
        shown = origin_text if len(origin_text) <= 80 else origin_text[:60] + "..."
        return f"a page of another site ({shown}) may not send photos to this server: {fix}"

    app = FastAPI(title="fast-style", version="1", docs_url=None, redoc_url=None, lifespan=lifespan)
    limit = limits.max_upload_bytes + FORM_BYTES
    app.add_middleware(UploadGuard, limit=limit, message=too_large(limits), gate=gate, foreign=foreign_page)
    if hosts is not None:  # (outermost: a request by another name is turned away before anything else)
        app.add_middleware(HostGuard, allowed_hosts=list(hosts))
    app.state.styles, app.state.limits, app.state.gate, app.state.hosts = styles, limits, gate, hosts

    @app.exception_handler(Refused)
    async def refused(request: Request, e: Refused) -> JSONResponse:
        headers = {"Retry-After": "1"} if e.status == 503 else None
        return JSONResponse({"detail": e.message}, status_code=e.status, headers=headers)

    warned_paths: set[str] = set()

    @app.exception_handler(HTTPException)
    async def framework_refused(request: Request, e: HTTPException) -> JSONResponse:
        """Starlette's own refusals in the tool's words: "Not Found", "Method Not Allowed" and python-multipart's
        "Missing boundary in multipart." said neither what there is nor what to send."""
        path, asked = _route_path(request.scope), request.scope["path"]  # (asked: a static file's whole path)
        shown = asked if len(asked) <= 80 else asked[:60] + "..."
        detail = e.detail
        if e.status_code == 404:
            detail = (
                f"nothing at {shown}: the page is the server's own address; its API is GET /api/styles, POST "
                "/api/stylize and WS /api/live (/openapi.json describes it)"
            )
            # one of its own paths under another (/style/, /style/api/styles): a reverse proxy that passes its own
            # path on (nginx's proxy_pass without the trailing slash); the page said "Not Found", the terminal nothing
            own = next((p for p in OWN_PATHS if asked.endswith(p) and len(asked) > len(p) + 1), None)
            if own is not None and asked.startswith("/"):
                prefix = asked[: -len(own)]
                prefix = prefix if len(prefix) <= 60 else prefix[:60] + "..."
                fix = (
                    f"a reverse proxy serving this server under {prefix}/ must pass requests on without that path "
                    f"(nginx: location {prefix}/ {{ proxy_pass http://HOST:PORT/; }}, the trailing slash on both)"
                )
                detail = f"nothing at {shown}: the page is the server's own address; {fix}"
                # said where the one who can fix it looks, for one of its API's or files' paths (/docs/ may be a typo)
                if own != "/" and prefix not in warned_paths and len(warned_paths) < 16:
                    warned_paths.add(prefix)
                    log.warning("%s %s asked for: %s", request.method[:20], shown, fix)
        elif e.status_code == 405 and e.headers and e.headers.get("Allow"):
            methods = " or ".join(e.headers["Allow"].split(", "))
            form = ", a multipart form of the photo as 'image' and a style as 'style'" if path == "/api/stylize" else ""
            detail = f"{shown} takes no {request.method[:20]}: send {methods}{form}"
        elif e.status_code == 400 and path == "/api/stylize":  # (the form's parser's)
            why = str(e.detail).rstrip(".")
            detail = (
                f"the form cannot be read ({why}): send a multipart form, as curl -F image=@photo.jpg -F style=wave"
            )
        return JSONResponse({"detail": detail}, status_code=e.status_code, headers=e.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError) -> JSONResponse:
        """A missing or malformed form field, in one line like every other refusal (FastAPI's is a list); a photo
        sent as no multipart form (a JSON body, the picture's own bytes, a form of text fields) said to be one: its
        fields were all said to be missing, though the style was there."""
        kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        # (a form of text fields, as curl -d and --data-binary send, carries no file: the photo's own bytes sent so
        # were said to be missing fields 'image' and 'style')
        if _route_path(request.scope) == "/api/stylize" and kind != "multipart/form-data":
            sent = f"the request is {kind[:60]}" if kind else "the request has no Content-Type"
            if kind == "application/x-www-form-urlencoded":
                sent += " (as curl -d and --data-binary send), which carries no file"
            form = "its photo as 'image' and a style as 'style', as curl -F image=@photo.jpg -F style=wave sends them"
            return JSONResponse({"detail": f"{sent}: send a multipart form (multipart/form-data), {form}"}, 415)
        boundary = re.search(r'boundary="?([^";]+)', request.headers.get("content-type", ""))
        end = request.scope.get(BODY_END)
        missing = any(error.get("type") == "missing" for error in e.errors())
        if missing and boundary and end is not None and f"--{boundary[1]}--".encode("latin-1") not in end:
            # (its last part, the photo, was dropped without a word: "missing field 'image'", though it was sent)
            cut = "the form ends early, without its closing boundary (an upload cut short?): send the whole request"
            return JSONResponse({"detail": cut}, status_code=400)
        form = e.body if isinstance(e.body, FormData) else FormData()
        files = [name for name, value in form.multi_items() if isinstance(value, FormFile)]
        empty = {name for name, value in form.multi_items() if value == ""}
        said = invalid_fields(e.errors(), set(request.query_params), files, empty)
        return JSONResponse({"detail": said}, status_code=422)

    # HEAD too, as everywhere GET is (uptime checks, curl -I): FastAPI's app.get answers it 405
    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html", headers=REVALIDATED)

    app.mount("/static", Revalidated(directory=WEB_DIR), name="static")

    @app.get("/api/styles", summary="The styles this server offers")
    async def list_styles() -> dict[str, Any]:
        return {
            "styles": styles.list(),
            "max_size": limits.max_size,
            "max_upload_bytes": limits.max_upload_bytes,
            "max_pixels": limits.max_pixels,
        }

    # (a route of its own: GET and HEAD in one shared an OpenAPI operation id, which FastAPI warned of)
    app.head("/api/styles", include_in_schema=False)(list_styles)

    @app.post(
        "/api/stylize",
        summary="Stylize an uploaded photo",
        responses={
            200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "the stylized image"},
            400: {"description": "a bad option"},
            403: {"description": "sent by a page of another site"},
            404: {"description": "an unknown style"},
            413: {"description": "an upload over the size or pixel limit"},
            415: {"description": "not a picture the server reads (an EPS is not read), or not a multipart form"},
            422: {"description": "a missing or malformed field"},
            503: {"description": "busy: try again in a moment"},
        },
    )
    async def stylize(
        request: Request,
        image: Annotated[
            UploadFile, File(description=f"the photo: {KINDS} (what fast-style-stylize reads; an animation: its first)")
        ],
        style: Annotated[str, Form(description="a name from /api/styles")],
        strength: Annotated[float, Form(description="0 = the photo, 1 = full style")] = 1.0,
        preserve_color: Annotated[bool, Form(description="keep the photo's colours")] = False,
        max_size: Annotated[int | None, Form(description="longest side of the result, px")] = None,
        format: Annotated[
            str | None, Form(description="jpeg (or jpg) or png; left out: png for a photo with transparency, else jpeg")
        ] = None,
    ) -> Response:
        # a field of another name (strenght, a typo) had been left unread without a word, as the live view's options
        form = await request.form()
        sent = [name for name, _ in form.multi_items()]
        if why := unknown_key(sent, FIELDS, "field"):
            raise Refused(400, why)
        if twice := next((name for name in FIELDS if sent.count(name) > 1), None):  # (the last one was taken, unsaid)
            raise Refused(
                400,
                f"field '{twice}' is sent {sent.count(twice)} times: send it once (a request stylizes one "
                "photo, in one style)",
            )
        for name, value in form.multi_items():  # (taken by FastAPI as left out: the default, unsaid)
            if value == "" and name in GIVE:
                raise Refused(422, empty_field(name))
        for name in request.query_params:  # (?strength=0.3 was as unread, where a missing style is said so)
            if name in FIELDS and name not in sent:
                raise Refused(400, f"field '{name}' is in the URL's query, which is not read: send it in the form")
        # left out (None): as the photo comes, PNG where it is transparent (a TIFF's or a HEIC's transparency, which
        # the page cannot see in a photo its browser does not draw, came back on white in a JPEG without a word)
        chosen = None
        if format is not None:
            written = picture_format(format)  # jpg, JPG, .jpeg: as fast-style-stylize reads an output's name
            served = {pillows: name for name, (pillows, _) in OUTPUT_TYPES.items()}  # (the formats it writes)
            if written not in served:
                shown = format if len(format) <= 80 else format[:60] + "..."  # (60 KB of it came back whole)
                # (said as the form and fast-style-stylize name it, webp: Pillow's WEBP had been said)
                other = f" (this server writes no {format.strip().lower().removeprefix('.')})" if written else ""
                raise Refused(400, f"format must be jpeg (or jpg) or png{other}, got '{shown}'")
            chosen = served[written]
        size = check_options(strength, max_size, limits)
        stylizer = await styles.ready(style)
        data = await image.read(limits.max_upload_bytes + 1)
        if len(data) > limits.max_upload_bytes:
            raise Refused(413, too_large(limits))

        def job() -> tuple[bytes, str]:  # decoded on the worker too: not on the event loop, nor for a request refused
            photo = decode_upload(data, limits, keep_alpha=chosen != "jpeg")  # a PNG keeps a transparent one's alpha
            try:  # (read whole, its colours taken here: a 32-bit TIFF's values over 65535 were a 500)
                out = stylizer.stylize_image(photo, strength, preserve_color, max_size=size)
            except BeyondColours as e:
                raise Refused(415, str(e)) from None
            see_through = out.mode == "RGBA" and out.getchannel("A").getextrema()[0] < 255
            fmt = chosen or ("png" if see_through else "jpeg")
            opaque = fmt == "jpeg" and out.mode != "RGB"  # (its alpha opaque: left out)
            return encode(out.convert("RGB") if opaque else out, fmt), fmt

        try:
            answer, fmt = await gate.run(job, gone=request.is_disconnected)
        except asyncio.CancelledError:  # a stop's grace period ran out: one line, not uvicorn's plain-text 500
            return JSONResponse({"detail": STOPPING}, status_code=503, headers={"Retry-After": "10"})
        return Response(answer, media_type=OUTPUT_TYPES[fmt][1])

    warned_upgrade: list[bool] = []

    # a plain request for the live view: a reverse proxy that does not pass a WebSocket's Upgrade header on (the page
    # said "its terminal says why", and the terminal said nothing of a 404 "Not Found"), or the address opened
    @app.get("/api/live", include_in_schema=False)
    async def live_without_upgrade() -> JSONResponse:
        if not warned_upgrade:
            warned_upgrade.append(True)
            log.warning("live view (/api/live) asked for without a WebSocket upgrade: %s", PROXY_UPGRADE)
        said = f"the live view is a WebSocket, asked for here without its upgrade: {PROXY_UPGRADE}"
        return JSONResponse({"detail": said}, status_code=426, headers={"Upgrade": "websocket"})

    @app.websocket("/api/live")
    async def live(ws: WebSocket) -> None:
        # a page of another site (WebSockets have no same-origin rule) may not use it: its Origin names that site
        # ("null" for a sandboxed frame's); a program that is no browser sends none
        origin = ws.headers.get("origin")
        if origin is not None and not own_page(
            origin, ws.headers.get("host", ""), hosts, ws.url.scheme == "wss", proxies
        ):
            refused_page(origin, ws.headers.get("host", ""), "live view")
            await ws.close(1008, "a page of another site may not use this server's live view")
            return
        await ws.accept()
        options: dict[str, Any] = {"style": None, "strength": 1.0, "preserve_color": False, "max_size": 480}
        no_style = "choose a style first"  # or why the style chosen was refused
        # messages are read as they come, so a client that leaves is seen while its frames wait for their turn
        # (they had run all the same, keeping other users' requests out). A client sending frames faster than they
        # are answered keeps LIVE_AHEAD waiting at most: the oldest waiting one gives way to the newest and is
        # answered busy in its turn (its picture dropped at once; the reader never waits, or a client that left
        # behind a full queue was not seen until its frames had run)
        inbox: asyncio.Queue = asyncio.Queue()
        waiting: deque[dict] = deque()  # the frames in the inbox that still hold their picture, oldest first
        closed, flooded = asyncio.Event(), asyncio.Event()
        queued = {"frames": 0, "options": 0}  # in the inbox: frames are owed an answer; options are not answered

        async def read() -> None:
            try:
                while (message := await ws.receive())["type"] != "websocket.disconnect":
                    if message.get("bytes") is not None:
                        if len(waiting) == LIVE_AHEAD:
                            waiting.popleft().update(bytes=None, dropped=True)
                        waiting.append(message)
                    kind = "frames" if message.get("bytes") is not None else "options"
                    if queued[kind] >= LIVE_QUEUE[kind]:  # answers owed pile up: a client that never waits for them
                        flooded.set()  # closed by the handler once its answer under way is sent (only it sends)
                        queued["flooded"] = kind  # (option changes counted as owed answers: 64 closed a client)
                        break
                    if len(message.get("text") or "") > OPTIONS_CHARS:  # (held waiting: 256 of 20 MB each)
                        flooded.set()
                        queued["flooded"] = "long"
                        break
                    queued[kind] += 1
                    inbox.put_nowait(message)
            except (WebSocketDisconnect, RuntimeError):
                pass
            finally:
                closed.set()
                while not inbox.empty():  # the client is gone: what it sent is not answered
                    inbox.get_nowait()
                waiting.clear()
                inbox.put_nowait(None)

        async def gone() -> bool:
            return closed.is_set()

        def _frame_done(task: asyncio.Future) -> None:
            if not task.cancelled():
                task.exception()  # (retrieved: a Refused after the client left is nobody's to hear)

        reader = asyncio.create_task(read())
        try:
            while (message := await inbox.get()) is not None:
                queued["frames" if message.get("bytes") is not None or message.get("dropped") else "options"] -= 1
                if waiting and message is waiting[0]:
                    waiting.popleft()
                if message.get("dropped"):  # it gave way to a newer frame
                    await ws.send_text(json.dumps({"busy": True}))
                    continue
                if message.get("text") is not None:
                    try:  # checked whole before any of it is taken
                        update = json.loads(message["text"])
                        if not isinstance(update, dict):
                            raise Refused(400, 'options must be a JSON object, e.g. {"style": "wave"}')
                        if why := unknown_key(list(update), LIVE_OPTIONS, "option"):  # ("strenght" did nothing)
                            raise Refused(400, why)
                        new = {**options, **{k: update[k] for k in options if k in update}}
                        if new["style"] is None:
                            raise Refused(400, f"choose a style first: {styles.choices()}")
                        if not isinstance(new["style"], str):  # {"style": 5}: "options must be JSON with valid values"
                            raise Refused(400, f"style must be a style's name, {styles.choices()}")
                        if not isinstance(new["preserve_color"], bool):
                            said = json_words(new["preserve_color"])
                            raise Refused(400, f"preserve_color must be true or false, got {said}")
                        for name in ("strength", "max_size"):  # said in JSON's words ("not None" for null)
                            value = new[name]
                            if isinstance(value, bool) or not (
                                isinstance(value, (int, float)) or (name == "max_size" and value is None)
                            ):
                                raise Refused(400, f"{name} must be a number, not {json_words(value)}")
                        check_options(new["strength"], new["max_size"], limits)  # "0.5" refused, as the form
                        await styles.ready(new["style"])  # loads it now, not on the first frame
                        options = new
                    except Refused as e:  # "options": the answer to options, not to a frame
                        if options["style"] is None:  # the frames say why the last try left none, not the first's
                            no_style = e.message
                        await ws.send_text(json.dumps({"error": e.message, "options": True}))
                    # (RecursionError: [[[[...]]]] nested past json's limit, a traceback and the connection dropped)
                    except (ValueError, TypeError, KeyError, RecursionError):
                        reply = {"error": "options must be JSON with valid values", "options": True}
                        await ws.send_text(json.dumps(reply))
                    continue
                data = message.get("bytes") or b""
                try:
                    if options["style"] is None:
                        raise Refused(400, no_style)
                    if len(data) > limits.max_upload_bytes:
                        raise Refused(413, too_large(limits, "frame"))
                    stylizer = await styles.ready(options["style"])
                    size = check_options(float(options["strength"]), options["max_size"], limits)

                    def job(data: bytes, stylizer: Stylizer, strength: float, keep: bool, size: int) -> bytes:
                        frame = decode_upload(data, limits, frame=True)
                        return encode(stylizer.stylize_image(frame, strength, keep, max_size=size), "jpeg", quality=85)

                    strength, keep = float(options["strength"]), options["preserve_color"]
                    running = asyncio.ensure_future(gate.run(job, data, stylizer, strength, keep, size, gone=gone))
                    running.add_done_callback(_frame_done)
                    left = asyncio.ensure_future(closed.wait())
                    try:
                        await asyncio.wait({running, left}, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        left.cancel()
                    if not (running.done() or flooded.is_set()):  # the client left (a stop closes it at once):
                        return  # the answer is owed to nobody, and a stop had waited its grace period for it
                    answer = await running  # (a flooding client is closed once this answer is sent)
                    await ws.send_bytes(answer)
                except Refused as e:
                    if closed.is_set():
                        return
                    reply = {"busy": True} if e.status == 503 else {"error": e.message}
                    await ws.send_text(json.dumps(reply))
        except WebSocketDisconnect:
            return
        finally:
            reader.cancel()
            if flooded.is_set():
                with contextlib.suppress(WebSocketDisconnect, RuntimeError):  # (it may have left meanwhile)
                    await ws.close(1008, FLOODED[queued["flooded"]])

    return app


OWN_PATHS = ("/api/styles", "/api/stylize", "/api/live", "/static/app.js", "/static/style.css", "/openapi.json", "/")
PROXY_UPGRADE = (
    "a reverse proxy in front must pass the Upgrade and Connection headers on (nginx: proxy_http_version 1.1; "
    'proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade")'
)
LIVE_AHEAD = 4  # live frames waiting behind the one being answered (the page keeps two frames in flight)
LIVE_QUEUE = {"frames": 64, "options": 256}  # answers a live client may be owed (busy ones included), and option
# changes it may have waiting, before it is disconnected
OPTIONS_CHARS = 4096  # the longest options message (a JSON object of a few short fields)
FLOODED = {
    "frames": "frames sent much faster than they are answered: wait for answers",
    "options": "options sent much faster than they are taken: send a change once the last frame is answered",
    "long": f"options are a small JSON object (at most {OPTIONS_CHARS} characters): send the fields that change",
}

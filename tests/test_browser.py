"""The web app in a real browser: Debian's Chromium, headless, driven by Playwright, its camera faked from a
generated clip. Skipped (with the reason) where no Chromium or Playwright is installed; `.ci/run` installs both."""

import shutil
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from starlette.responses import PlainTextResponse

from fast_style.model.network import TransformerNet
from fast_style.model.style_model import save_style_model
from fast_style.serving.server import Limits, Styles, create_app
from fast_style.serving.serving import serve_in_background

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here (Debian: apt-get install chromium)"),
]


def fake_camera(path: Path, size: tuple[int, int] = (320, 180), frames: int = 20) -> Path:
    """A Y4M clip (what Chromium's fake camera reads): a bright square moving over a gradient."""
    w, h = size
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n".encode())
        for k in range(frames):
            y = np.tile(np.linspace(40, 200, w, dtype=np.uint8), (h, 1))
            y[60:120, 10 + 10 * k : 70 + 10 * k] = 250
            u = np.full((h // 2, w // 2), 100, np.uint8)
            v = np.full((h // 2, w // 2), 160, np.uint8)
            f.write(b"FRAME\n" + y.tobytes() + u.tobytes() + v.tobytes())
    return path


def _app(tmp_path: Path):
    torch.manual_seed(0)
    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    torch.nn.init.normal_(net.decoder[-1].weight, std=0.05)
    save_style_model(net, tmp_path / "models" / "mine.pt", {"style_image": "mine.jpg"})
    return create_app(Styles(tmp_path / "models", device="cpu"), Limits(max_pixels=1_000_000, max_size=600))


@pytest.fixture
def server(tmp_path: Path):
    with serve_in_background(_app(tmp_path)) as address:
        yield address + "/"


@pytest.fixture
def under_a_path(tmp_path: Path):
    """The server as a reverse proxy serves it under a path of its own (/style/ -> the server), /style too, as the
    server's / (no redirect to /style/)."""
    from starlette.applications import Starlette
    from starlette.routing import Mount, Route

    from tests.test_server import Stripped

    app = _app(tmp_path)
    routes = [Route("/style", endpoint=Stripped(app)), Mount("/style", app=app)]
    proxy = Starlette(routes=routes, lifespan=lambda _: app.router.lifespan_context(app))
    proxy.state.limits = app.state.limits  # (serve_in_background's uvicorn settings read them)
    with serve_in_background(proxy) as address:
        yield address + "/style/"


def test_photo_and_live_modes_in_chromium(server: str, tmp_path: Path) -> None:
    camera = fake_camera(tmp_path / "camera.y4m")
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (90, 120, 3), dtype=np.uint8)).save(photo)
    big = tmp_path / "big.png"
    Image.new("RGB", (1200, 1000), (90, 140, 200)).save(big)
    bomb = tmp_path / "bomb.png"  # its header claims 10000x10000: the browser cannot draw it, the server refuses it
    Image.new("L", (20, 20)).save(bomb)
    data = bytearray(bomb.read_bytes())
    data[16:24] = (10_000).to_bytes(4, "big") * 2
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    bomb.write_bytes(data)
    (tmp_path / "notes.txt").write_text("not a photo")
    cutout = tmp_path / "cutout.png"  # transparent around an opaque middle
    square = np.zeros((60, 80, 4), np.uint8)
    square[15:45, 20:60] = (200, 80, 40, 255)
    Image.fromarray(square, "RGBA").save(cutout)
    Image.fromarray(square, "RGBA").save(tiff := tmp_path / "logo.tif")  # a TIFF, which Chromium cannot draw
    import pillow_heif  # (writes HEIC; the server reads it with pi-heif)

    heic = tmp_path / "IMG_0001.HEIC"
    with Image.open(photo) as opened:
        pillow_heif.from_pillow(opened).save(heic, quality=90)
    args = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
    ]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        # what the page asks of the browser, counted: photo requests, and the cameras it opens
        page.add_init_script(
            """
            window.stylizeCalls = 0;
            const realFetch = window.fetch;
            window.fetch = (url, ...rest) => {
              if (String(url).includes("api/stylize")) window.stylizeCalls += 1;  // (relative: under any path)
              return realFetch(url, ...rest);
            };
            window.cameras = [];
            const realCamera = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
            navigator.mediaDevices.getUserMedia = async (c) => {
              const stream = await realCamera(c);
              window.cameras.push(stream);
              return stream;
            };
            """
        )
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server)
        page.wait_for_function("document.querySelectorAll('#style option').length > 0")
        page.select_option("#style", "mine")
        # a photo: the result is shown beside it and can be downloaded
        page.set_input_files("#file", str(photo))
        page.wait_for_selector("#download:not([hidden])", timeout=30_000)
        size = page.eval_on_selector("#result", "e => [e.naturalWidth, e.naturalHeight]")
        assert size == [120, 90]
        page.screenshot(path=str(tmp_path / "screen_photo.png"))
        # refusals are shown in the page, and the earlier photo's result is not left beside them as if it were
        # this one's (in the browser, then by the server)
        page.set_input_files("#file", str(tmp_path / "notes.txt"))
        assert page.text_content("#message") == "notes.txt is not a picture: choose a photo."
        assert page.is_hidden("#download") and page.get_attribute("#result", "src") is None
        page.set_input_files("#file", str(photo))
        page.wait_for_selector("#download:not([hidden])", timeout=30_000)
        # a photo larger than any result is sent at the result's size (a 48 MP phone photo had been refused)
        page.set_input_files("#file", str(big))
        page.wait_for_function("document.getElementById('result').naturalWidth === 600", timeout=30_000)
        assert page.eval_on_selector("#result", "e => [e.naturalWidth, e.naturalHeight]") == [600, 500]
        page.set_input_files("#file", str(bomb))
        page.wait_for_function("document.getElementById('message').textContent.includes('megapixels')")
        assert page.is_hidden("#download") and page.get_attribute("#result", "src") is None
        # one the browser could not scale down: the message says what to do (it only said the limit)
        assert "cannot scale this kind of photo down before sending it: save it as a JPEG" in page.text_content(
            "#message"
        )
        # a transparent photo's result keeps its transparency, and downloads as a PNG (a JPEG, filled in grey)
        page.set_input_files("#file", str(cutout))
        page.wait_for_selector("#download:not([hidden])", timeout=30_000)
        assert page.get_attribute("#download", "download") == "cutout_mine.png"
        read_alpha = """async () => {
              const blob = await (await fetch(document.getElementById("result").src)).blob();
              const bitmap = await createImageBitmap(blob);
              const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
              const context = canvas.getContext("2d");
              context.drawImage(bitmap, 0, 0);
              const at = (x, y) => context.getImageData(x, y, 1, 1).data[3];
              return [blob.type, at(2, 2), at(40, 30)];
            }"""
        assert page.evaluate(read_alpha) == ["image/png", 0, 255]
        # a phone's HEIC, which Chromium cannot draw: stylized by the server, and its empty frame says why
        page.set_input_files("#file", str(heic))
        page.wait_for_selector("#download:not([hidden])", timeout=30_000)
        page.wait_for_function("document.getElementById('original-caption').textContent.includes('cannot show')")
        # a TIFF, which the page had refused: the server reads it, as fast-style-stylize does; transparent, as the page
        # cannot see in a picture its browser does not draw, it comes back a PNG with its transparency (it came back
        # on white in a JPEG, unsaid)
        page.set_input_files("#file", str(tiff))
        page.wait_for_function("document.getElementById('result').alt.startsWith('logo.tif')", timeout=30_000)
        assert page.get_attribute("#download", "download") == "logo_mine.png"
        assert page.evaluate(read_alpha) == ["image/png", 0, 255]
        # a refused file then leaves an empty frame: not the earlier photo's name, nor its caption
        page.set_input_files("#file", str(tmp_path / "notes.txt"))
        assert page.get_attribute("#original", "alt") == "" and page.text_content("#original-caption") == "Photo"
        # the keyboard reaches the file chooser through the drop area (the file input itself is hidden)

        with page.expect_file_chooser() as chooser:
            page.press("#drop", "Enter")
        chooser.value.set_files(str(photo))
        page.wait_for_selector("#download:not([hidden])", timeout=30_000)
        assert page.text_content("#original-caption") == "Photo"  # a photo it draws: the plain caption again
        # a style with a fast variant offers it in a box, ticked in the Live tab; the variant is no style of its own
        listed = page.eval_on_selector_all("#style option", "os => os.map(o => o.value)")
        assert "wave" in listed and not [n for n in listed if n.endswith("-fast")]
        page.select_option("#style", "wave")
        assert page.is_visible("#fast-choice") and not page.is_checked("#fast")
        page.click("#tab-live")
        assert page.is_checked("#fast")
        # options changed in the Live tab do not stylize the hidden photo (it ran with the Live tab's fast model)
        calls = page.evaluate("window.stylizeCalls")
        page.eval_on_selector("#preserve-color", "e => { e.checked = true; e.dispatchEvent(new Event('change')); }")
        assert page.evaluate("window.stylizeCalls") == calls
        page.click("#tab-photo")  # ... back in the Photo tab, the photo is redone with what is chosen there
        page.wait_for_function(f"window.stylizeCalls === {calls + 1}")
        page.wait_for_function("document.getElementById('result').alt.endsWith('wave')", timeout=30_000)
        assert page.get_attribute("#download", "download") == "photo_wave.jpg"
        assert page.get_attribute("#result", "alt") == "photo.png stylized as wave"
        page.select_option("#style", "mine")
        assert page.is_hidden("#fast-choice")
        # live: frames go round continuously; the counters say how fast
        page.click("#tab-live")
        page.select_option("#resolution", "320x240")
        page.dblclick("#start")  # a second click had opened a second camera that Stop never closed
        page.wait_for_function("parseInt(document.getElementById('frames').textContent) >= 5", timeout=30_000)
        fps = float(page.text_content("#fps"))
        latency = page.text_content("#latency")
        page.screenshot(path=str(tmp_path / "screen_live.png"))
        live = page.eval_on_selector("#live", "e => [e.width, e.height]")
        assert page.is_hidden("#camera-choice")  # one camera: nothing to choose
        page.click("#stop")
        cameras = page.evaluate("window.cameras.map(s => s.getTracks().every(t => t.readyState === 'ended'))")
        browser.close()
    # the camera's 16:9 kept (frames had been stretched to 4:3), one camera opened, and closed by Stop
    assert fps > 0 and latency.isdigit() and live == [320, 180] and cameras == [True]
    assert errors == []
    with Image.open(tmp_path / "screen_live.png") as shot:  # the stylized canvas is drawn, not blank
        assert np.asarray(shot.convert("L")).std() > 10


def test_a_second_camera_can_be_chosen_while_live(under_a_path: str) -> None:
    """A phone has a front and a back camera (a laptop a USB webcam too): the page opened the browser's default
    one, with no way to change it. Served under a path, as behind a reverse proxy (its files, styles and live view
    had been asked for at the proxy's root), and opened as /style, which the proxy passes on without a redirect."""
    server = under_a_path.rstrip("/")
    args = ["--use-fake-device-for-media-stream=device-count=2", "--use-fake-ui-for-media-stream"]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server)
        page.wait_for_function("document.querySelectorAll('#style option').length > 0")
        assert page.url == server and "system-ui" in page.evaluate("getComputedStyle(document.body).fontFamily")
        page.select_option("#style", "mine")
        page.click("#tab-live")
        page.select_option("#resolution", "320x240")
        page.click("#start")
        page.wait_for_function("parseInt(document.getElementById('frames').textContent) >= 2", timeout=30_000)
        page.wait_for_selector("#camera-choice:not([hidden])")
        devices = page.eval_on_selector_all("#camera-device option", "os => os.map(o => o.value)")
        in_use = "() => document.getElementById('camera').srcObject.getVideoTracks()[0].getSettings().deviceId"
        first = page.evaluate(in_use)
        assert len(devices) == 2 and page.input_value("#camera-device") == first
        other = next(d for d in devices if d != first)
        old = page.evaluate_handle("() => document.getElementById('camera').srcObject")
        page.select_option("#camera-device", other)
        page.wait_for_function(f"({in_use})() === {other!r}", timeout=30_000)
        frames = int(page.text_content("#frames"))
        page.wait_for_function(f"parseInt(document.getElementById('frames').textContent) >= {frames + 2}")
        assert old.evaluate("s => s.getTracks().every(t => t.readyState === 'ended')")  # the first one closed
        page.click("#stop")
        page.click("#start")  # the next start opens the camera chosen
        page.wait_for_function(f"document.getElementById('camera').srcObject && ({in_use})() === {other!r}")
        page.click("#stop")
        browser.close()
    assert errors == []


def test_on_a_phone_and_when_the_server_is_gone(tmp_path: Path) -> None:
    """At a phone's width the page fits (a built-in style's long name had made the list, and the page, wider than
    the screen); the live view started after the server stopped says so (it said "the live connection closed"),
    and the keyboard's focus follows the Start and Stop buttons as they turn on and off (it fell to the page)."""
    args = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    app = create_app(Styles(None, device="cpu"), Limits())
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        with serve_in_background(app) as address:
            page.goto(address + "/")
            page.wait_for_function("document.querySelectorAll('#style option').length > 0")
            longest = max(page.eval_on_selector_all("#style option", "os => os.map(o => o.textContent.length)"))
            width = page.evaluate("document.documentElement.scrollWidth")  # (a phone zooms out to show it all)
            page.click("#tab-live")
            live_width = page.evaluate("document.documentElement.scrollWidth")
        page.focus("#start")
        page.keyboard.press("Enter")
        page.wait_for_function("document.getElementById('message').textContent.includes('could not connect')")
        page.wait_for_function("document.activeElement.id === 'start'")  # back on Start, enabled again
        browser.close()
    assert longest > 40 and width <= 390 and live_width <= 390


def _upload(app, path: Path) -> tuple[str, list[int]]:
    """`path` chosen in the page of `app` (served here, in headless Chromium): the message the page shows once
    it is answered ("" for none), and the size of the result shown ([0, 0] for none)."""
    with sync_api.sync_playwright() as p, serve_in_background(app) as address:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page()
        page.goto(address + "/")
        page.wait_for_function("document.querySelectorAll('#style option').length > 0")
        page.set_input_files("#file", str(path))
        said = "document.getElementById('message').textContent"
        page.wait_for_function(f"!document.getElementById('download').hidden || !['', 'Stylizing...'].includes({said})")
        message = page.text_content("#message")
        size = page.eval_on_selector("#result", "e => [e.naturalWidth, e.naturalHeight]")
        browser.close()
    return message, size


def test_a_photo_over_the_pixel_limit_is_scaled_down_to_it(tmp_path: Path) -> None:
    """A server with fewer megapixels than its largest result (--max-megapixels 0.1, --max-size 600) refused a
    1200x1000 photo the page had scaled down to 600x500 for it, naming a size the photo never had."""
    photo = tmp_path / "photo.png"
    Image.new("RGB", (1200, 1000), (90, 140, 200)).save(photo)
    app = create_app(Styles(None, device="cpu"), Limits(max_pixels=100_000, max_size=600))
    message, size = _upload(app, photo)
    assert message == "" and size[0] * size[1] <= 100_000 and size[0] > 300, (message, size)


def test_a_small_file_of_too_many_pixels_is_sent_scaled_down(tmp_path: Path) -> None:
    """A screenshot or scan over the pixel limit whose file is smaller than its scaled-down JPEG (flat colours
    compress well) was sent as it was, and refused as over the limit."""
    drawing = tmp_path / "drawing.png"
    Image.new("1", (1500, 1000), 1).save(drawing)  # 1.5 MP in a few hundred bytes
    app = create_app(Styles(None, device="cpu"), Limits(max_pixels=1_000_000, max_size=600))
    message, size = _upload(app, drawing)
    assert message == "" and size == [600, 400], (message, size)


def test_a_photo_within_the_pixel_limits_but_over_the_upload_limit_is_sent_smaller(tmp_path: Path) -> None:
    """A photo within --max-size and --max-megapixels but over --max-upload-mb (a PNG of fine detail) was refused
    in the page as over the upload limit: the page had scaled down only photos over the pixel limits."""
    photo = tmp_path / "photo.png"  # noise: ~360 KB as a PNG, more than the limit as a JPEG of its size too
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)).save(photo)
    app = create_app(Styles(None, device="cpu"), Limits(max_upload_bytes=100_000, max_size=600))
    message, size = _upload(app, photo)
    assert message == "" and 200 < size[0] <= 400 and abs(size[0] / size[1] - 4 / 3) < 0.02, (message, size)


def test_the_style_list_follows_a_server_started_again(tmp_path: Path) -> None:
    """The page read the style list once: after the server was started again with other --models, it offered the
    styles of the one before (an unknown style's refusal left the list as it was) until it was reloaded; a page
    opened before the server ran kept saying that it could not be reached; the Live tab kept a style refused as
    unknown, every frame refused."""
    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    save_style_model(net, tmp_path / "before" / "mine.pt")
    save_style_model(net, tmp_path / "after" / "later.pt")
    for name in ("mine", "extra"):
        save_style_model(net, tmp_path / "both" / f"{name}.pt")
    before = create_app(Styles(tmp_path / "before", device="cpu"), Limits())
    after = create_app(Styles(tmp_path / "after", device="cpu"), Limits())
    both = create_app(Styles(tmp_path / "both", device="cpu"), Limits())

    class Restarted:  # one address, its server started again with other styles (as after a stop and a start)
        state = before.state
        app = before
        down = True  # a reverse proxy's answer while the server behind it is not running yet

        async def __call__(self, scope, receive, send) -> None:
            if self.down and scope.get("path") == "/api/styles":
                return await PlainTextResponse("Bad Gateway", status_code=502)(scope, receive, send)
            await self.app(scope, receive, send)

    server = Restarted()
    photo = tmp_path / "photo.png"
    Image.new("RGB", (40, 30), (90, 140, 200)).save(photo)
    listed = "document.querySelectorAll('#style option[value={}]').length === {}"
    camera = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    with sync_api.sync_playwright() as p, serve_in_background(server) as address:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=camera)
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.add_init_script(  # the styles the live view's options ask for
            """
            window.liveStyles = [];
            const send = WebSocket.prototype.send;
            WebSocket.prototype.send = function (data) {
              if (typeof data === "string") window.liveStyles.push(JSON.parse(data).style);
              return send.call(this, data);
            };
            """
        )
        page.goto(address + "/")
        page.wait_for_function("document.getElementById('message').textContent.startsWith('Cannot reach')")
        server.down = False
        page.evaluate("window.dispatchEvent(new Event('focus'))")  # back to the page once it runs
        page.wait_for_function(listed.format("mine", 1))
        assert page.text_content("#message") == ""  # (it still said the server could not be reached)
        page.select_option("#style", "mine")
        server.app = after
        page.set_input_files("#file", str(photo))  # mine is gone: refused, and the list is the server's now
        page.wait_for_function(listed.format("later", 1))
        assert "unknown style 'mine'" in page.text_content("#message")
        assert page.evaluate(listed.format("mine", 0))
        page.select_option("#style", "later")
        server.app = before
        page.evaluate("window.dispatchEvent(new Event('focus'))")  # back to the page: its list again
        page.wait_for_function(listed.format("mine", 1))
        assert page.evaluate(listed.format("later", 0)) and page.input_value("#style") != "later"
        page.select_option("#style", "mine")
        server.app = both  # (a style added: the list read again is seen, not waited for a while and assumed)
        page.evaluate("window.dispatchEvent(new Event('focus'))")
        page.wait_for_function(listed.format("extra", 1))
        assert page.input_value("#style") == "mine"  # the style chosen stays chosen where it is still offered
        server.app = after  # live: mine is refused, the list read again, and the style it then shows sent
        page.click("#tab-live")
        page.click("#start")
        page.wait_for_function(listed.format("mine", 0))
        page.wait_for_function("window.liveStyles.length === 2")
        assert page.evaluate("window.liveStyles") == ["mine", page.input_value("#style") + "-fast"]
        page.click("#stop")
        browser.close()
    assert errors == []


def test_a_photo_the_browser_cannot_scale_down_over_the_upload_limit_says_what_to_do(tmp_path: Path) -> None:
    """A phone's HEIC over --max-upload-mb (Chromium cannot draw it, so the page cannot shrink it) was told the limit
    alone; over the pixel limit the server's refusal had said to save it as a JPEG first."""
    import pillow_heif  # (writes HEIC)

    heic = tmp_path / "IMG_0001.HEIC"
    noise = np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    pillow_heif.from_pillow(Image.fromarray(noise)).save(heic, quality=95)
    assert heic.stat().st_size > 20_000
    app = create_app(Styles(None, device="cpu"), Limits(max_upload_bytes=20_000))
    message, _ = _upload(app, heic)
    assert message == (
        "IMG_0001.HEIC is over this server's upload limit of 0.0191 MB. This browser cannot scale this kind of photo "
        "down before sending it: save it as a JPEG first."
    )


def test_a_style_list_read_earlier_and_answered_later_does_not_replace_a_newer_one(tmp_path: Path) -> None:
    """Two readings of the style list under way (the window focused twice while the server started again): the
    earlier one, answered last, put the old server's list back over the new one's, and the page offered a style the
    server no longer had (the browser test of a server started again failed so, now and then)."""
    import asyncio

    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    save_style_model(net, tmp_path / "old" / "mine.pt")
    for name in ("mine", "extra"):
        save_style_model(net, tmp_path / "new" / f"{name}.pt")
    old = create_app(Styles(tmp_path / "old", device="cpu"), Limits())
    new = create_app(Styles(tmp_path / "new", device="cpu"), Limits())

    class Restarting:
        state = old.state
        app = old
        lists: list = []  # who answers the next readings of the list, and after how long

        async def __call__(self, scope, receive, send) -> None:
            app, delay = self.lists.pop(0) if self.lists and scope.get("path") == "/api/styles" else (self.app, 0)
            await asyncio.sleep(delay)
            await app(scope, receive, send)

    server = Restarting()
    listed = "document.querySelectorAll('#style option[value={}]').length === {}"
    with sync_api.sync_playwright() as p, serve_in_background(server) as address:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page()
        page.goto(address + "/")
        page.wait_for_function(listed.format("mine", 1))
        server.lists, server.app = [(old, 1.5), (new, 0)], new
        page.evaluate("window.dispatchEvent(new Event('focus'))")  # the old server's list, answered late
        page.evaluate("window.dispatchEvent(new Event('focus'))")  # the new one's, answered at once
        page.wait_for_function(listed.format("extra", 1))
        page.wait_for_timeout(2500)  # the late answer has come by now
        assert page.evaluate(listed.format("extra", 1))
        browser.close()

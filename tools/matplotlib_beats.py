"""Draw the test beats of a built dataset with another tool: matplotlib.

The project's renderer (``ecg_core.rendering``, OpenCV) draws every image the models are
trained on. Users upload images drawn by other tools, above all the widely shared 6-class ECG
image dataset (192 x 128 px, 8-bit grey, a thin anti-aliased line on white with the margins of
a default plotting-library figure, no axes, tall complexes sometimes clipped at the image edge,
windows of about 0.7-1 s). That dataset is not ours to use, so this script draws the same kind
of image with the plotting library such figures usually come from, for an evaluation that no
model has trained on: another rasteriser, another line width (matplotlib's default 1.5 pt, about
2 px), another grey (its default blue ``C0`` in grey), its own autoscaling.

Each beat of the dataset's test split (drawing 0; ``--split val`` for the validation split, on
which choices are made) is drawn once, in a style drawn at random
with a fixed seed per beat: window 0.7-1.0 s, the R peak at 45-55% of it; for a quarter of the
beats, the top (two thirds of those) or bottom 10-35% of the amplitude range falls outside the
axes and runs into the margin, cut at the image edge.

With ``--look screenshot`` the beats are drawn as a screenshot of a plot would show them:
400 x 250 px in colour with the axes (a closed frame, or for 40% of them an open one: bottom
and left lines only), ticks and tick labels, a grid for half of them, matplotlib's dark theme
for a fifth, line widths of 1-2.5 pt, a quarter saved as JPEG (quality 75). With ``--look
paper``: a black trace on ECG paper (400 x 300 px, a pink grid of 0.04 s x 0.1 mV, darker
every 0.2 s and 0.5 mV, no labels).

The images go into one folder per class, with a manifest of the beats they show (all in the
split drawn), which ``python -m ecg_core evaluate`` reads like any built dataset's::

    pip install -r requirements-dev.txt   # matplotlib: for this script and its test only
    python tools/matplotlib_beats.py --data data/beats --out data/beats-matplotlib
    python -m ecg_core evaluate --model models/ecgnet.keras models/baseline.keras \\
        --data data/beats-matplotlib

It is our imitation of another tool's images, not the real dataset's images, which are not in this repository.
"""

from __future__ import annotations

import argparse
import io
import sys
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="data/beats", help="built dataset (its test split)")
    ap.add_argument("--mitdb", default="../shared/mitdb")
    ap.add_argument("--cudb", default="../shared/cudb")
    ap.add_argument("--out", default="data/beats-matplotlib")
    ap.add_argument("--seed", type=int, default=1804)
    ap.add_argument("--split", choices=["val", "test"], default="test",
                    help="the split whose beats are drawn: val (for choices) or test (for "
                         "reporting; default)")
    ap.add_argument("--look", choices=["shared", "screenshot", "paper"], default="shared",
                    help="shared: like the shared image dataset (default); screenshot: a "
                         "400 x 250 px plot with axes (closed or open frame), tick labels, a "
                         "grid for half the beats, a dark theme for a fifth, line widths of "
                         "1-2.5 pt, a quarter as JPEG; paper: black on pink ECG paper")
    args = ap.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image
    from tqdm.auto import tqdm

    from ecg_core.beats import beat_window
    from ecg_core.dataset import drawing_of, image_name, read_manifest, write_manifest
    from ecg_core.records import read_record

    sources = {"mitdb": Path(args.mitdb), "cudb": Path(args.cudb)}
    rows = [r for r in read_manifest(args.data)
            if r["split"] == args.split and drawing_of(r) == 0 and r["database"] in sources]
    out = Path(args.out)
    look = args.look
    # 192 x 128 px in the default axes box (axes hidden), a 400 x 250 px screenshot with axes,
    # or 400 x 300 px of ECG paper (inches at 100 dpi)
    size = {"shared": (1.92, 1.28), "screenshot": (4.0, 2.5), "paper": (4.0, 3.0)}[look]
    figures = []
    for style in (("default", "dark_background") if look == "screenshot" else ("default",)):
        with plt.style.context(style):
            fig = plt.figure(figsize=size, dpi=100)
            ax = fig.add_subplot(111)
            (line,) = ax.plot([0, 1], [0, 1], clip_on=look != "shared")  # default colour C0
            if look == "shared":
                ax.axis("off")
            if look == "paper":
                line.set_color("black")
                ax.tick_params(which="both", labelbottom=False, labelleft=False, length=0)
                ax.spines[:].set_visible(False)
            figures.append((fig, ax, line))
    signals: dict[tuple[str, str], np.ndarray] = {}
    for r in tqdm(rows, desc="drawing with matplotlib", unit="beat"):
        key = (r["database"], r["record"])
        if key not in signals:
            signals[key] = read_record(sources[key[0]] / key[1], annotator=None).signal
        rng = np.random.default_rng(
            [args.seed, zlib.crc32(key[0].encode()), zlib.crc32(key[1].encode()),
             int(r["sample"])])
        total = rng.uniform(0.7, 1.0)
        before = total * rng.uniform(0.45, 0.55)
        seg = beat_window(signals[key], int(r["sample"]), float(r["fs"]), before,
                          total - before)
        fig, ax, line = figures[int(look == "screenshot" and rng.random() < 0.2)]
        x = np.arange(len(seg), dtype=float)  # samples; seconds on ECG paper
        line.set_data(x / float(r["fs"]) if look == "paper" else x, seg)
        ax.set_autoscale_on(True)  # a clipped beat before set the limits by hand
        ax.relim()
        ax.autoscale_view()
        jpeg = False
        if look == "screenshot":
            line.set_linewidth(rng.uniform(1.0, 2.5))
            ax.grid(rng.random() < 0.5)
            open_frame = rng.random() < 0.4  # bottom and left axes lines only
            ax.spines[["top", "right"]].set_visible(not open_frame)
            jpeg = rng.random() < 0.25
        elif look == "paper":
            _ecg_paper(ax, seg)
        elif rng.random() < 0.25:
            lo, hi = ax.get_ylim()
            cut = rng.uniform(0.10, 0.35) * (hi - lo)
            ax.set_ylim(lo, hi - cut) if rng.random() < 2 / 3 else ax.set_ylim(lo + cut, hi)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, facecolor=fig.get_facecolor())
        name = image_name(r["database"], r["record"], int(r["sample"]))
        r["image"] = f"{r['label']}/{name[:-4] + '.jpg' if jpeg else name}"
        r["style_seed"] = ""  # drawn by matplotlib, not in an ecg_core.rendering style
        (out / r["label"]).mkdir(parents=True, exist_ok=True)
        image = Image.open(buf)
        if look != "shared":  # a screenshot keeps its colours
            image.convert("RGB").save(out / r["image"], quality=75) if jpeg \
                else image.save(out / r["image"])
        else:
            image.convert("L").save(out / r["image"])
    plt.close("all")
    write_manifest(out / "manifest.csv", rows)
    print(f"{len(rows)} beats drawn with matplotlib {matplotlib.__version__} into {out}")
    return 0


def _ecg_paper(ax, seg: np.ndarray) -> None:
    """ECG paper behind the trace: a grid of 0.04 s x 0.1 mV (1 mm at 25 mm/s and 10 mm/mV)
    in light pink, every fifth line (0.2 s x 0.5 mV) darker."""
    x_end = ax.get_xlim()[1]
    lo, hi = float(seg.min()), float(seg.max())
    ax.set_xticks(np.arange(0, x_end, 0.2))
    ax.set_xticks(np.arange(0, x_end, 0.04), minor=True)
    ax.set_yticks(np.arange(np.floor(lo * 2) / 2, hi + 0.5, 0.5))
    ax.set_yticks(np.arange(np.floor(lo * 10) / 10, hi + 0.1, 0.1), minor=True)
    ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
    ax.grid(which="minor", color=(1.0, 0.85, 0.85), linewidth=0.5)
    ax.grid(which="major", color=(1.0, 0.6, 0.6), linewidth=1.0)


if __name__ == "__main__":
    raise SystemExit(main())

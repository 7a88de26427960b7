"""Training speed and repeatability, with and without TensorFlow's deterministic ops.

Run: python benchmarks/train_speed.py [--data data/beats-one-bp-vfrr] [--per-class 1500]
                                      [--epochs 2] [--repeats 2]

Trains `ecgnet` with the rhythm input (the 8-class recipe's network) on fold 1 of a built
dataset, at most ``--per-class`` training images a class, for ``--epochs`` epochs, each run in
a fresh process (op determinism is process-wide), alternating the two settings ``--repeats``
times. Prints, per run, training images per second over the timed batches (the first epoch
left out when there are two or more: it includes tracing) and a hash of the trained weights:
the same seed and settings give the same hash only where the runs are repeatable.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_RUN = """
import hashlib, json, sys
import numpy as np
sys.path.insert(0, {root!r})
from ecg_core.training import TrainConfig, train_models
cfg = TrainConfig(epochs={epochs}, patience={epochs}, max_train_per_class={per_class},
                  protocol="fold1", rhythm_archs=("ecgnet",), deterministic={det})
r = train_models({data!r}, {out!r}, ["ecgnet"], cfg, progress=False)["ecgnet"]
import keras
model = keras.saving.load_model(r["model_path"], compile=False)
digest = hashlib.sha256(b"".join(np.asarray(w).tobytes() for w in model.get_weights()))
secs = r["history"]["epoch_batch_seconds"]
timed = secs[1:] if len(secs) > 1 else secs
print("RESULT " + json.dumps({{"n_train": r["card"]["training"]["n_train"],
                               "seconds": timed, "weights": digest.hexdigest()[:16]}}))
"""


def _one(data: str, per_class: int, epochs: int, det: bool) -> dict:
    with tempfile.TemporaryDirectory() as out:
        code = _RUN.format(root=str(ROOT), epochs=epochs, per_class=per_class, det=det,
                           data=data, out=out)
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=False)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"training run failed:\n{proc.stderr[-2000:]}")
    return json.loads(line[len("RESULT "):])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT / "data" / "beats-one-bp-vfrr"))
    ap.add_argument("--per-class", type=int, default=1500)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    print(f"Machine: {platform.processor() or platform.machine()}, "
          f"{len(os.sched_getaffinity(0))} CPU cores, Python {platform.python_version()}")
    print("| deterministic ops | run | training images | images/s (timed epochs) | weights |")
    print("|---|---:|---:|---:|---|")
    for i in range(args.repeats):
        for det in (True, False):
            got = _one(args.data, args.per_class, args.epochs, det)
            timed = len(got["seconds"])
            rate = got["n_train"] * timed / max(sum(got["seconds"]), 1e-9)
            print(f"| {'yes' if det else 'no'} | {i + 1} | {got['n_train']} | {rate:.0f} | "
                  f"`{got['weights']}` |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

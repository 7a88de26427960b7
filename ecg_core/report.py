"""A one-page report of a classified record, as self-contained HTML (print it, or attach it).

:func:`record_report` gathers the recording's facts, the model and its new-patient figures,
beat counts per class, the ectopic burden, runs of ventricular beats, the heart-rate trend, an
RR-interval histogram and one example strip per class found, with the not-a-medical-device
notice. The charts are inline SVG drawn from the numbers (no script, no network), so the file
prints and opens anywhere; a browser's "Print to PDF" makes the PDF.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .analysis import (ECTOPIC_CLASSES, VENTRICULAR_CLASSES, RecordResult, record_notes,
                       summarise, trend)
from .classes import BY_CODE
from .evaluation import (new_patient_artifacts, new_patient_label, new_patient_percent,
                         new_patient_tables)
from .model import training_leads
from .records import ECGRecord

NOTICE = ("Research and teaching only. Not a medical device: nothing here is validated for "
          "diagnosis or patient care; do not use it to make clinical decisions.")

_COLOURS = {"NOR": "#1f77b4", "LBB": "#ff7f0e", "RBB": "#2ca02c", "APC": "#d62728",
            "PVC": "#9467bd", "PAB": "#8c564b", "VFW": "#e377c2", "VEB": "#17becf",
            "N": "#1f77b4", "S": "#d62728", "V": "#9467bd", "F": "#ff7f0e", "Q": "#7f7f7f"}


def _svg_polyline(xs, ys, width, height, x_range, y_range, colour="#333", stroke=1.2) -> str:
    (x0, x1), (y0, y1) = x_range, y_range
    sx = width / max(x1 - x0, 1e-9)
    sy = height / max(y1 - y0, 1e-9)
    pts = " ".join(f"{(x - x0) * sx:.1f},{height - (y - y0) * sy:.1f}"
                   for x, y in zip(xs, ys) if np.isfinite(y))
    return (f'<polyline fill="none" stroke="{colour}" stroke-width="{stroke}" '
            f'points="{pts}"/>')


def _hr_trend_svg(result: RecordResult, width: int = 640, height: int = 140) -> str:
    hr = trend(result, 60.0)["hr_bpm"]
    minutes = np.arange(len(hr))
    lo = float(np.nanmin(hr)) - 5 if np.isfinite(hr).any() else 40
    hi = float(np.nanmax(hr)) + 5 if np.isfinite(hr).any() else 120
    line = _svg_polyline(minutes + 0.5, hr, width, height, (0, len(minutes)), (lo, hi),
                         "#1f77b4", 1.8)
    return (f'<svg viewBox="0 0 {width} {height + 18}" width="{width}" height="{height + 18}">'
            f'<rect width="{width}" height="{height}" fill="#fafafa" stroke="#ccc"/>{line}'
            f'<text x="2" y="{height + 14}" font-size="11">0 min</text>'
            f'<text x="{width - 60}" y="{height + 14}" font-size="11">{len(minutes)} min</text>'
            f'<text x="4" y="12" font-size="11">{hi:.0f} bpm</text>'
            f'<text x="4" y="{height - 4}" font-size="11">{lo:.0f} bpm</text></svg>')


def _rr_histogram_svg(result: RecordResult, width: int = 640, height: int = 140) -> str:
    rr = result.rr_prev_s[np.isfinite(result.rr_prev_s)]
    rr = rr[(rr > 0.2) & (rr < 3.0)]
    if not len(rr):
        return "<p>No RR intervals.</p>"
    counts, edges = np.histogram(rr, bins=np.arange(0.2, 3.0 + 0.02, 0.02))
    last = max(int(np.nonzero(counts)[0].max()) + 3, 10)
    counts, edges = counts[:last], edges[:last + 1]
    bar_w = width / len(counts)
    top = counts.max()
    bars = "".join(
        f'<rect x="{i * bar_w:.1f}" y="{height - c / top * height:.1f}" '
        f'width="{max(bar_w - 1, 1):.1f}" height="{c / top * height:.1f}" fill="#7f7f7f"/>'
        for i, c in enumerate(counts) if c)
    return (f'<svg viewBox="0 0 {width} {height + 18}" width="{width}" height="{height + 18}">'
            f'<rect width="{width}" height="{height}" fill="#fafafa" stroke="#ccc"/>{bars}'
            f'<text x="2" y="{height + 14}" font-size="11">{edges[0]:.1f} s</text>'
            f'<text x="{width - 50}" y="{height + 14}" font-size="11">{edges[-1]:.1f} s</text>'
            f'</svg>')


def _strip_svg(signal: np.ndarray, fs: float, centre: int, colour: str, width: int = 640,
               height: int = 110, seconds: float = 3.0) -> str:
    half = int(seconds / 2 * fs)
    lo, hi = max(0, centre - half), min(len(signal), centre + half)
    seg = np.asarray(signal[lo:hi], dtype=float)
    if len(seg) < 2:
        return ""
    xs = np.arange(lo, hi) / fs
    y0, y1 = float(seg.min()), float(seg.max())
    pad = 0.1 * max(y1 - y0, 0.1)
    line = _svg_polyline(xs, seg, width, height, (lo / fs, hi / fs), (y0 - pad, y1 + pad))
    mark = (centre - lo) / max(hi - lo, 1) * width
    return (f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
            f'<rect width="{width}" height="{height}" fill="#fff5f5" stroke="#f0c0c0"/>'
            f'<line x1="{mark:.1f}" x2="{mark:.1f}" y1="0" y2="{height}" stroke="{colour}" '
            f'stroke-width="6" opacity="0.25"/>{line}</svg>')


def _lead_words(card: dict) -> str:
    """The leads the model was trained on, in words for the report's lead row."""
    leads = training_leads(card or {})
    if leads == "MLII":
        return "the model was trained on MLII"
    if (card or {}).get("both_leads"):
        return (f"the model was trained on {leads} and reads each beat on both leads; its "
                "figures were measured with MLII chosen")
    return f"the model was trained on {leads}; its figures were measured on MLII"


def _new_patient_trust(classifier) -> dict | None:
    """The first of :func:`ecg_core.evaluation.new_patient_tables` of the classifier's model
    file, or ``None`` (no file, or no artifact measured on it)."""
    path = getattr(classifier, "path", None)
    return next(iter(new_patient_tables(path)), None) if path is not None else None


def _model_figures(classifier) -> str:
    """What the model's own files say about new patients (its card, its evaluations)."""
    card = classifier.card or {}
    lines = []
    test = card.get("test") or {}
    protocol = (card.get("protocol") or {}).get("name", "")
    if test:
        lines.append(f"test accuracy {100 * test['accuracy']:.1f}% under the {protocol} "
                     "protocol" + (" (same patients on both sides: flattering)"
                                   if protocol == "beat" else ""))
    path = getattr(classifier, "path", None)
    for doc in new_patient_artifacts(path) if path is not None else []:
        f = doc["figures"]
        lines.append(f"new patients, {new_patient_label(doc)}: accuracy "
                     f"{100 * f['accuracy']:.1f}% on {f['n']:,} beats of "
                     f"{f.get('n_records', '?')} records")
    return "; ".join(lines) or "no figures in its card"


def record_report(record: ECGRecord, result: RecordResult, classifier, *,
                  model_label: str = "") -> str:
    """The one-page HTML report of a classified record.

    Args:
        record: the record (its signal draws the example strips).
        result: :func:`ecg_core.analysis.classify_record`'s result for it.
        classifier: the :class:`ecg_core.model.Classifier` that classified it (its card and
            evaluation files give the model's figures).
        model_label: the model's name as the user knows it.

    Returns:
        A complete HTML document (UTF-8 text), with inline SVG charts and no scripts.
    """
    s = summarise(result)
    pred = np.asarray(result.predicted)
    n = max(int(s["beats"]), 1)
    hours = s["duration_s"] / 3600.0
    vent = int(np.isin(pred, list(VENTRICULAR_CLASSES)).sum())
    ectopic = int(np.isin(pred, list(ECTOPIC_CLASSES)).sum())
    esc = html.escape
    trust = _new_patient_trust(classifier)

    def on_new_patients(c: str) -> str:
        return "" if trust is None else "".join(
            f"<td>{new_patient_percent(trust, c, key)}</td>"
            for key in ("sensitivity", "precision"))

    rows = "".join(
        f"<tr><td><span style='color:{_COLOURS.get(c, '#333')}'>&#9632;</span> {esc(c)}</td>"
        f"<td>{esc(BY_CODE[c].name if c in BY_CODE else c)}</td><td>{k:,}</td>"
        f"<td>{100 * k / n:.1f}%</td>{on_new_patients(c)}</tr>"
        for c, k in s["per_class"].items() if k)
    trust_head = "" if trust is None else "<th>Se on new patients</th><th>+P on new patients</th>"
    trust_note = "" if trust is None else (
        f"\n<p>Se and +P on new patients: how the model read each class in patients it never "
        f"saw ({esc(trust['label'])}); Se is the share of a class's beats it found, +P the "
        "share of its calls of that class that were right (a dash: no such beat there, or no "
        "such call). Read the counts above with them.</p>")
    strips = []
    for c, k in s["per_class"].items():
        if not k:
            continue
        i = int(np.nonzero(pred == c)[0][len(np.nonzero(pred == c)[0]) // 2])
        t = result.samples[i] / result.fs
        strips.append(f"<h3>{esc(c)}: beat {i + 1} at {int(t // 60)}:{t % 60:04.1f}</h3>"
                      + _strip_svg(record.signal, record.fs, int(result.samples[i]),
                                   _COLOURS.get(c, "#333")))
    hr = s["mean_hr_bpm"]
    runs = s["ventricular_runs"]
    caveats = "".join(f'\n<p class="caveat">{esc(note)}</p>'
                      for note in record_notes(s, result.class_codes))
    created = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>ECG record {esc(record.name)}: beat classification report</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 700px; margin: 1.5em auto;
       color: #222; font-size: 14px; }}
h1 {{ font-size: 20px; margin-bottom: 0.2em; }} h2 {{ font-size: 16px; margin: 1.2em 0 0.4em; }}
h3 {{ font-size: 13px; margin: 0.8em 0 0.2em; font-weight: 600; }}
.notice {{ border: 2px solid #c00; padding: 0.5em 0.8em; background: #fff4f4; }}
.caveat {{ border-left: 4px solid #e0a000; padding: 0.3em 0.8em; background: #fffbea; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 2px 10px 2px 0; text-align: left; }}
@media print {{ body {{ margin: 0.5em; }} }}
</style></head><body>
<h1>Record {esc(record.name)}: every beat classified</h1>
<p class="notice"><b>{esc(NOTICE)}</b></p>
<h2>Recording</h2>
<table>
<tr><th>Duration</th><td>{s['duration_s'] / 60:.1f} min</td></tr>
<tr><th>Lead</th><td>{esc(record.lead)} ({esc(_lead_words(classifier.card))})</td></tr>
<tr><th>Sampling rate</th><td>{record.original_fs:g} Hz, read at {record.fs:g} Hz</td></tr>
<tr><th>Beats from</th><td>{esc(result.source)}</td></tr>
<tr><th>Model</th><td>{esc(model_label or Path(str(classifier.card.get('file', 'model'))).stem)}:
{esc(_model_figures(classifier))}</td></tr>
<tr><th>Made</th><td>{created}</td></tr>
</table>
<h2>Beats</h2>
<table><tr><th>class</th><th></th><th>beats</th><th>share</th>{trust_head}</tr>{rows}</table>{trust_note}
<p>Mean heart rate {'n/a' if hr is None else f'{hr:.0f} bpm'};
ectopic beats {ectopic:,} ({100 * ectopic / n:.1f}% of beats,
{(ectopic / hours if hours else 0):.0f} per hour); ventricular beats {vent:,}
({100 * vent / n:.1f}%, {(vent / hours if hours else 0):.0f} per hour).
Ventricular runs: couplets {runs['couplets']}, runs of 3 or more {runs['runs_3_or_more']}
(longest {runs['longest']} beats).</p>{caveats}
<h2>Heart rate, minute by minute</h2>
{_hr_trend_svg(result)}
<h2>RR intervals</h2>
{_rr_histogram_svg(result)}
<h2>One example of each class found (3 s strips, the beat shaded)</h2>
{''.join(strips)}
<p style="color:#666; font-size: 12px">Made by ecg-core: each beat is drawn as an image and
classified by a convolutional network; the classes and figures are explained in its
documentation. {esc(NOTICE)}</p>
</body></html>
"""

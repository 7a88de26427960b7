"""Plotly figures for the Evaluation page: confusion matrix, ROC curves, training history.

Every number drawn here comes from an evaluation artifact or history written by ``ecg_core``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

if TYPE_CHECKING:
    import pandas as pd

CLASS_COLOURS = {
    "NOR": "#1f77b4", "LBB": "#ff7f0e", "RBB": "#2ca02c", "APC": "#d62728",
    "PVC": "#9467bd", "PAB": "#8c564b", "VFW": "#e377c2", "VEB": "#17becf",
    "N": "#1f77b4", "S": "#d62728", "V": "#9467bd", "F": "#ff7f0e", "Q": "#7f7f7f",
}


def confusion_heatmap(confusion: list[list[int]], codes: list[str],
                      normalise: bool = False) -> go.Figure:
    """Heatmap of a confusion matrix (rows true class, columns predicted).

    With ``normalise`` each row is divided by its true-class count, so the diagonal reads as
    sensitivity; the hover text always gives the counts.
    """
    cm = np.asarray(confusion, dtype=np.float64)
    rows = cm.sum(axis=1, keepdims=True)
    shown = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0) if normalise else cm
    text = [[(f"{v:.0%}" if normalise else f"{int(v)}") if cm[i, j] else ""
             for j, v in enumerate(row)] for i, row in enumerate(shown)]
    fig = go.Figure(go.Heatmap(
        z=shown, x=codes, y=codes, text=text, texttemplate="%{text}", colorscale="Blues",
        customdata=cm, zmin=0, zmax=1 if normalise else None,
        hovertemplate="true %{y}, predicted %{x}: %{customdata:.0f} beats<extra></extra>"))
    fig.update_layout(xaxis_title="predicted class", yaxis_title="true class",
                      yaxis_autorange="reversed", height=420,
                      margin=dict(l=10, r=10, t=10, b=10))
    return fig


def roc_figure(arrays: dict[str, np.ndarray], per_class: dict[str, dict]) -> go.Figure:
    """One-vs-rest ROC curves, one per class with an AUC, the AUC in the legend."""
    fig = go.Figure()
    for code, pc in per_class.items():
        fpr, tpr = arrays.get(f"roc_fpr_{code}"), arrays.get(f"roc_tpr_{code}")
        if fpr is None or tpr is None or pc.get("auc") is None:
            continue
        fig.add_trace(go.Scatter(x=fpr, y=tpr, mode="lines",
                                 name=f"{code} (AUC {pc['auc']:.3f})",
                                 line=dict(color=CLASS_COLOURS.get(code))))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance",
                             line=dict(dash="dot", color="grey")))
    fig.update_layout(xaxis_title="false positive rate (1 - specificity)",
                      yaxis_title="true positive rate (sensitivity)", height=420,
                      xaxis=dict(range=[0, 1]), yaxis=dict(range=[0, 1.01]),
                      margin=dict(l=10, r=10, t=10, b=10))
    return fig


def history_figure(history: dict[str, list[float]]) -> go.Figure:
    """Accuracy and loss per epoch, training and validation, side by side."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("accuracy", "loss"))
    for col, metric in ((1, "accuracy"), (2, "loss")):
        for key, dash, label in ((metric, "solid", "training"),
                                 (f"val_{metric}", "dash", "validation")):
            values = history.get(key)
            if values:
                fig.add_trace(go.Scatter(x=list(range(1, len(values) + 1)), y=values,
                                         mode="lines+markers", name=f"{label} {metric}",
                                         line=dict(dash=dash)), row=1, col=col)
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10))
    return fig


#: Shown where a figure is undefined (a class with no test beats, or never predicted).
MISSING = "–"


def _pct(value) -> str:
    return MISSING if value is None else f"{100 * float(value):.1f}%"


def per_class_table(per_class: dict[str, dict], confusion: list[list[int]] | None = None
                    ) -> pd.DataFrame:
    """Per-class figures as a table of display text: beats, records, Se, +P, Sp, F1, AUC.

    Se, F1 and AUC are undefined for a class with no beats, and +P for a class the model
    never predicted (known from ``confusion``, rows true, columns predicted): those cells show
    :data:`MISSING` rather than a misleading 0.
    """
    predicted = (np.asarray(confusion).sum(axis=0) if confusion is not None
                 else [None] * len(per_class))
    rows = []
    for (code, pc), n_pred in zip(per_class.items(), predicted):
        has_true = (pc.get("support") or 0) > 0
        has_pred = n_pred is None or n_pred > 0
        auc = pc.get("auc")
        rows.append({"class": code, "beats": pc.get("support"), "records": pc.get("records"),
                     "Se": _pct(pc.get("sensitivity")) if has_true else MISSING,
                     "+P": _pct(pc.get("precision")) if has_pred else MISSING,
                     "Sp": _pct(pc.get("specificity")),
                     "F1": (f"{pc['f1']:.3f}" if has_true and pc.get("f1") is not None
                            else MISSING),
                     "AUC": f"{auc:.3f}" if has_true and auc is not None else MISSING})
    import pandas as pd  # imported here: the pages a first visit opens do not need it

    return pd.DataFrame(rows)


def record_table(by_record: list[dict], codes: list[str]) -> pd.DataFrame:
    """The by-record figures (``figures["by_record"]``) as a table of display text, the
    records with the most errors first (:func:`ecg_core.evaluation.record_rows`)."""
    import pandas as pd

    from ecg_core.evaluation import record_rows

    return pd.DataFrame(record_rows(by_record, codes))


def per_class_columns() -> dict:
    """Streamlit column settings for :func:`per_class_table`: what each figure means."""
    import streamlit as st

    none = f" {MISSING}: no test beats of this class."
    return {
        "beats": st.column_config.NumberColumn("beats", help="test beats of this class"),
        "records": st.column_config.NumberColumn("records",
                                                 help="records (patients) they come from"),
        "Se": st.column_config.TextColumn("Se", help="sensitivity: share of the class's beats "
                                                     "found." + none),
        "+P": st.column_config.TextColumn("+P", help="positive predictivity: share of the "
                                                     "beats called this class that are. "
                                                     f"{MISSING}: never predicted."),
        "Sp": st.column_config.TextColumn("Sp", help="specificity: share of the other beats "
                                                     "not called this class."),
        "F1": st.column_config.TextColumn("F1", help="harmonic mean of Se and +P." + none),
        "AUC": st.column_config.TextColumn("AUC", help="area under the one-vs-rest ROC "
                                                       "curve." + none),
    }


def reliability_figure(reliability: dict) -> go.Figure:
    """Reliability diagram: per confidence bin, the share of right answers against the mean
    confidence (a calibrated model lies on the diagonal); bar widths are the bins, hover gives
    the number of beats."""
    bins = [b for b in reliability["bins"] if b["n"]]
    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=[(b["lo"] + b["hi"]) / 2 for b in bins], y=[b["accuracy"] for b in bins],
        width=[b["hi"] - b["lo"] for b in bins], name="accuracy in the bin",
        customdata=[[b["n"], b["confidence"]] for b in bins], marker_color="#1f77b4",
        hovertemplate=("confidence %{customdata[1]:.1%}: right %{y:.1%} of "
                       "%{customdata[0]} beats<extra></extra>")))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="calibrated",
                             line=dict(dash="dot", color="grey")))
    fig.update_layout(xaxis_title="confidence (highest class probability)",
                      yaxis_title="share right", height=340, bargap=0.05,
                      xaxis=dict(range=[0, 1]), yaxis=dict(range=[0, 1.01]),
                      margin=dict(l=10, r=10, t=10, b=10),
                      legend=dict(orientation="h", y=1.08))
    return fig


def robustness_figure(tables: dict[str, dict]) -> go.Figure:
    """Grouped bars: accuracy of each model (a trace) on each robustness set."""
    fig = go.Figure()
    for model, doc in tables.items():
        sets = list(doc["sets"])
        fig.add_trace(go.Bar(x=sets, y=[doc["sets"][s]["accuracy"] for s in sets], name=model,
                             hovertemplate="%{x}: %{y:.1%}<extra>" + model + "</extra>"))
    fig.update_layout(yaxis_title="accuracy", yaxis=dict(range=[0, 1.0], tickformat=".0%"),
                      height=360, barmode="group", margin=dict(l=10, r=10, t=10, b=10),
                      legend=dict(orientation="h", y=1.1))
    return fig


def noise_figure(table: dict[str, list[dict]]) -> go.Figure:
    """Accuracy of each model (a line) against the signal-to-noise ratio of the noise stress
    test records (beats of both records pooled, weighted by their numbers)."""
    fig = go.Figure()
    for model, rows in table.items():
        snrs = sorted({r["snr_db"] for r in rows}, reverse=True)
        acc = []
        for snr in snrs:
            sel = [r for r in rows if r["snr_db"] == snr]
            n = sum(r["beats"] for r in sel)
            acc.append(sum(r["accuracy"] * r["beats"] for r in sel) / n if n else None)
        fig.add_trace(go.Scatter(x=snrs, y=acc, mode="lines+markers", name=model,
                                 hovertemplate="%{x} dB: %{y:.1%}<extra>" + model + "</extra>"))
    fig.update_layout(xaxis_title="signal-to-noise ratio (dB), electrode-motion noise",
                      yaxis_title="accuracy", xaxis=dict(autorange="reversed"),
                      yaxis=dict(range=[0, 1.0], tickformat=".0%"), height=340,
                      margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=1.1))
    return fig


def noise_ds2_figure(table: dict) -> go.Figure:
    """Accuracy (solid) and QRS detection Se (dotted) against SNR, one colour per noise type;
    ``table`` from ``benchmarks/noise_ds2.py`` (``rows`` of noise, snr_db, accuracy,
    detection_se)."""
    colours = {"bw": "#1f77b4", "em": "#d62728", "ma": "#2ca02c"}
    names = {"bw": "baseline wander", "em": "electrode motion", "ma": "muscle"}
    fig = go.Figure()
    for kind in ("bw", "em", "ma"):
        rows = sorted((r for r in table["rows"] if r["noise"] == kind),
                      key=lambda r: -r["snr_db"])
        if not rows:
            continue
        x = [r["snr_db"] for r in rows]
        fig.add_trace(go.Scatter(x=x, y=[r["accuracy"] for r in rows], mode="lines+markers",
                                 name=f"{names[kind]}: accuracy",
                                 line=dict(color=colours[kind])))
        fig.add_trace(go.Scatter(x=x, y=[r["detection_se"] for r in rows], mode="lines",
                                 name=f"{names[kind]}: detection Se",
                                 line=dict(color=colours[kind], dash="dot")))
    fig.update_layout(xaxis_title="signal-to-noise ratio (dB)", yaxis_title="fraction of beats",
                      xaxis=dict(autorange="reversed"),
                      yaxis=dict(range=[0, 1.0], tickformat=".0%"), height=360,
                      margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=1.15))
    return fig


def trend_figure(trend: dict[str, np.ndarray], bin_s: float) -> go.Figure:
    """Heart rate (line, left axis) and ectopic and ventricular beats (bars, right axis) bin
    by bin over a whole record; ``trend`` from :func:`ecg_core.analysis.trend` with bins of
    ``bin_s`` seconds."""
    bin_label = "hour" if bin_s == 3600 else f"{bin_s / 60:g} min"
    hours = (trend["start_s"] + bin_s / 2) / 3600.0
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=hours, y=trend["ectopic"], name=f"ectopic beats per {bin_label}",
                         marker_color="#ff7f0e", opacity=0.55), secondary_y=True)
    fig.add_trace(go.Bar(x=hours, y=trend["ventricular"],
                         name=f"ventricular beats per {bin_label}", marker_color="#d62728",
                         opacity=0.55), secondary_y=True)
    fig.add_trace(go.Scatter(x=hours, y=trend["hr_bpm"], mode="lines", name="heart rate (bpm)",
                             line=dict(color="#1f77b4", width=2)), secondary_y=False)
    fig.update_layout(height=300, barmode="overlay", margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"))
    fig.update_xaxes(title_text="time (h)")
    fig.update_yaxes(title_text="bpm", secondary_y=False)
    fig.update_yaxes(title_text="beats", secondary_y=True)
    return fig


def qrs_figure(t_s: np.ndarray, typical: np.ndarray, beat: np.ndarray,
               similarity: float) -> go.Figure:
    """A beat's QRS over its record's typical QRS, as the dominant-QRS reading compares them
    (:func:`ecg_core.beats.typical_qrs`, :func:`~ecg_core.beats.beat_qrs`; times in s from the
    R peak, mV less each stretch's median), with their cosine similarity in the title."""
    ms = 1000.0 * t_s
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=ms, y=typical, mode="lines", name="record's typical QRS",
                             line=dict(color="#7f7f7f", width=3)))
    fig.add_trace(go.Scatter(x=ms, y=beat, mode="lines", name="this beat",
                             line=dict(color="#d62728", width=2)))
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=40, b=10),
                      title=dict(text=f"QRS similarity {similarity:.2f}", font=dict(size=14)),
                      legend=dict(orientation="h", x=0, y=-0.3))
    fig.update_xaxes(title_text="ms from the R peak")
    fig.update_yaxes(title_text="mV")
    return fig

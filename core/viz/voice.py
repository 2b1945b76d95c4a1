"""Altair charts of one recording ("Your voice" page): data in, ``alt.Chart`` out.

Choices written down here:

- **One time axis.** Spectrogram, posteriors and segment tracks share the x scale ``[0, duration]``
  in seconds and a fixed y-axis width (``_AXIS_W`` px), so they line up when stacked in one
  ``alt.vconcat``; the time cursor is a red vertical rule drawn on every panel.
- **Log-mel spectrogram**: the 40 log mel filterbank energies (``SPECTROGRAM``, MFBANK whatever the
  model's front end), channel 0 at the bottom, labelled by the filter's centre in Hz. A recording of more than
  ``max_columns`` frames is averaged over groups of frames for drawing only (Vega draws one rect per
  cell; 30 s would be 120,000). Frame i is drawn centred on its time, ``FeatureConfig.frame_time(i)``
  (the spectrogram's front end's, the posteriors' model's), one frame step wide.
- **Posteriors**: the phonemes whose posterior reaches ``min_peak`` (0.3) in some frame, in the
  model's output order; darker = higher posterior; the same column averaging.
- **Tracks**: one row per segment list (decoded, aligners), each segment a bar with its phone
  written on it when it is long enough to hold the text.
- **Input window**: the 35-frame input of the chosen frame as the square map (offset ms x mel
  channel), coloured by the gradient of the chosen phoneme's posterior with respect to each input
  (diverging, white = 0, scaled to the largest |gradient|).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

from core.features import FeatureConfig, mel_centres_hz
from core.phones import Segment
from core.text import Translate, english
from core.viz.format import FORMATS
from core.viz.format import legend as number_legend
from core.viz.maps import FIT_X, density_chart

_AXIS_W = 70
OVERLAP = 1.5
"""Each cell of the spectrogram and posterior heatmaps is drawn this many cells wide (and the
spectrogram's this many channels high), under the next one: neighbouring cells then leave no
anti-aliased hairline between them at any width (the grid of white lines at 1024 px)."""
_PAD = alt.AutoSizeParams(type="pad")


SPECTROGRAM = FeatureConfig(kind="mfbank")
"""The front end of the page's spectrogram (40 log-mel channels), whatever the model's."""


def _columns(n_frames: int, max_columns: int) -> int:
    return max(1, int(np.ceil(n_frames / max_columns)))


def _column_times(n_frames: int, g: int, cfg: FeatureConfig) -> tuple[np.ndarray, np.ndarray]:
    """(t0, t1) of each column of ``g`` frames: from half a frame step before its first frame's centre
    (``cfg.frame_time``) to half a step after its last one's. Not cut to [0, duration] (the charts
    clip what lies outside their time axis): a click on a column, the last one too, then puts the
    cursor at its middle frame's centre (``frame_at`` reads that frame back)."""
    first = np.arange(0, n_frames, g)
    last = np.minimum(first + g - 1, n_frames - 1)
    return cfg.frame_time(first) - cfg.winstep / 2, cfg.frame_time(last) + cfg.winstep / 2


def _time_x(duration: float, title: str | None = None, labels: bool = True) -> alt.X:
    return alt.X("t0:Q", scale=alt.Scale(domain=[0, duration], nice=False, zero=True),
                 axis=alt.Axis(title=title, labels=labels, ticks=labels, grid=False))


def _y_axis(title: str, **kw) -> alt.Axis:
    return alt.Axis(title=title, minExtent=_AXIS_W, maxExtent=_AXIS_W, **kw)


POSTERIOR_ROW_PX = 15
"""Height of one phoneme's row in ``posterior_chart``: every row keeps its label (at 12 px Vega hid
every other one of the 11 px labels as overlapping)."""


def _cursor(t: float | None) -> alt.Chart | None:
    if t is None:
        return None
    return alt.Chart(pd.DataFrame({"t0": [t]})).mark_rule(color="#d62728", strokeWidth=2).encode(x="t0:Q")


def _with_cursor(chart: alt.Chart, t: float | None) -> alt.LayerChart | alt.Chart:
    rule = _cursor(t)
    return chart if rule is None else alt.layer(chart, rule)


def spectrogram_table(logmel: np.ndarray, duration: float, cfg: FeatureConfig = SPECTROGRAM,
                      max_columns: int = 600) -> pd.DataFrame:
    """Long table (t0, t1, channel, hz, value) of (n_frames, channels) log-mel energies made by the
    front end ``cfg``, frames averaged in groups so at most ``max_columns`` columns remain."""
    n, c = logmel.shape
    g = _columns(n, max_columns)
    m = -(-n // g)
    padded = np.full((m * g, c), np.nan, np.float32)
    padded[:n] = logmel
    cols = np.nanmean(padded.reshape(m, g, c), axis=1)
    t0, t1 = _column_times(n, g, cfg)
    hz = mel_centres_hz(cfg)
    if len(hz) != c:
        raise ValueError(f"{c} channels in the spectrogram, {len(hz)} in its front end")
    return pd.DataFrame({
        "t0": np.repeat(t0, c), "t1": np.repeat(t1, c),
        "channel": np.tile(np.arange(c), m), "hz": np.tile(np.round(hz), m),
        "value": cols.reshape(-1).round(2),
    }).assign(t_draw=lambda d: np.minimum(d["t0"] + OVERLAP * (d["t1"] - d["t0"]), duration))


TIME_SELECTION = "voice_time"
"""The spectrogram's click selection (fields t0, t1 of the clicked column, in s)."""


def spectrogram_chart(table: pd.DataFrame, duration: float, *, cursor: float | None = None,
                      boundaries: Sequence[float] = (), height: int = 220, tr: Translate = english) -> alt.LayerChart:
    """The log-mel spectrogram (time x mel channel), optional segment boundaries as white rules.
    A click on it selects the clicked column's time span (``TIME_SELECTION``)."""
    n_ch = int(table["channel"].max()) + 1
    hz = table.drop_duplicates("channel").set_index("channel")["hz"]
    every = [k for k in range(0, n_ch, 5)]
    label_expr = " : ".join(f"datum.value == {k} ? '{int(hz[k])}'" for k in every) + " : ''"
    base = alt.Chart(table).mark_rect(clip=True).encode(
        x=_time_x(duration, labels=False), x2="t_draw:Q",
        y=alt.Y("channel:Q", scale=alt.Scale(domain=[0, n_ch], nice=False),
                axis=alt.Axis(title=tr("Hz (mel)"), values=every, labelExpr=label_expr, minExtent=_AXIS_W,
                              maxExtent=_AXIS_W)),
        y2=alt.Y2("channel_top:Q"),
        color=alt.Color("value:Q", scale=alt.Scale(scheme="magma"), legend=None),
        tooltip=[alt.Tooltip("t0:Q", title=tr("time (s)"), format=".2f"), alt.Tooltip("hz:Q", title="Hz"),
                 alt.Tooltip("value:Q", title=tr("log energy"), format=".1f")],
    ).transform_calculate(channel_top=f"datum.channel + {OVERLAP}").properties(
        height=height, title=tr("log-mel spectrogram (click to move the cursor)")
    ).add_params(alt.selection_point(name=TIME_SELECTION, fields=["t0", "t1"], on="click"))
    layers = [base]
    if len(boundaries):
        rules = alt.Chart(pd.DataFrame({"t0": list(boundaries)})).mark_rule(color="white", opacity=0.35,
                                                                             strokeDash=[2, 4]).encode(x="t0:Q")
        layers.append(rules)
    rule = _cursor(cursor)
    if rule is not None:
        layers.append(rule)
    return alt.layer(*layers)


MIN_PEAK = 0.3
"""The posterior a phoneme must reach somewhere to get a row of the posterior chart."""


def posterior_table(posteriors: np.ndarray, names: Sequence[str], duration: float, cfg: FeatureConfig, *,
                    min_peak: float = MIN_PEAK, max_columns: int = 600) -> pd.DataFrame:
    """Long table (t0, t1, phone, posterior) of the phonemes whose posterior reaches ``min_peak``;
    ``cfg``: the model's front end (its frame timing)."""
    post = np.asarray(posteriors, dtype=np.float32)
    keep = np.flatnonzero(post.max(axis=0) >= min_peak)
    if keep.size == 0:
        keep = np.argsort(post.max(axis=0))[-5:]
    n = len(post)
    g = _columns(n, max_columns)
    m = -(-n // g)
    padded = np.full((m * g, post.shape[1]), np.nan, np.float32)
    padded[:n] = post
    cols = np.nanmean(padded.reshape(m, g, -1), axis=1)[:, keep]
    t0, t1 = _column_times(n, g, cfg)
    return pd.DataFrame({
        "t0": np.repeat(t0, len(keep)), "t1": np.repeat(t1, len(keep)),
        "phone": np.tile([names[k] for k in keep], m), "order": np.tile(keep, m),
        "posterior": cols.reshape(-1).round(3),
    }).assign(t_draw=lambda d: np.minimum(d["t0"] + OVERLAP * (d["t1"] - d["t0"]), duration))


def posterior_chart(table: pd.DataFrame, duration: float, *, cursor: float | None = None,
                    tr: Translate = english) -> alt.LayerChart:
    """Frame posteriors as a time x phoneme heatmap (rows: the phonemes that reach the threshold)."""
    order = table.drop_duplicates("phone").sort_values("order")["phone"].tolist()
    chart = alt.Chart(table).mark_rect(clip=True).encode(
        x=_time_x(duration, labels=False), x2="t_draw:Q",
        y=alt.Y("phone:N", sort=order, axis=_y_axis(tr("phoneme"), labelOverlap=False)),
        color=alt.Color("posterior:Q", scale=alt.Scale(scheme="greys", domain=[0, 1]), legend=None),
        tooltip=[alt.Tooltip("t0:Q", title=tr("time (s)"), format=".2f"), alt.Tooltip("phone:N", title=tr("phoneme")),
                 alt.Tooltip("posterior:Q", title=tr("posterior"), format=".2f")],
    ).properties(height=max(120, POSTERIOR_ROW_PX * len(order)),
                 title=tr("network posteriors (phonemes reaching {p:g}; white 0, black 1)").format(p=MIN_PEAK))
    return _with_cursor(chart, cursor)


LABEL_PX_PER_CHAR = 7.0
"""About the width of one character of the tracks' 11 px labels (a label needs its segment this wide
per character, plus 4 px)."""


def tracks_table(tracks: Mapping[str, Sequence[Segment]]) -> pd.DataFrame:
    """Rows of segments (track, t0, t1, phone, mid)."""
    rows = [{"track": name, "t0": s.start, "t1": s.end, "phone": s.phone, "mid": (s.start + s.end) / 2}
            for name, segs in tracks.items() for s in segs]
    return pd.DataFrame(rows, columns=["track", "t0", "t1", "phone", "mid"])


def label_fits(duration: float) -> str:
    """Vega expression: the segment's drawn width (from the chart's ``width`` signal, so it follows
    the page's width) holds its phone's text, so neighbours' labels never run into each other
    ('n dh ax' read 'ndhax')."""
    return (f"(datum.t1 - datum.t0) * width / {max(float(duration), 1e-9)!r} >= "
            f"{LABEL_PX_PER_CHAR} * length(datum.phone) + 4")


def tracks_chart(table: pd.DataFrame, duration: float, *, cursor: float | None = None,
                 tr: Translate = english) -> alt.LayerChart:
    """Segment lists as rows of labelled bars on the shared time axis (silences light grey); every
    segment wide enough for its label, at the width the chart is drawn, carries it."""
    order = list(dict.fromkeys(table["track"]))
    y = alt.Y("track:N", sort=order, axis=_y_axis(tr("phonemes")))  # a title, as the panels above: they line up
    bars = alt.Chart(table).mark_bar(stroke="white", strokeWidth=1).encode(
        x=_time_x(duration, tr("time (s)")), x2="t1:Q", y=y,
        color=alt.condition("datum.phone == 'sil'", alt.value("#e8e8e8"), alt.value("#9ecae1")),
        tooltip=[alt.Tooltip("track:N", title=tr("track")), alt.Tooltip("phone:N", title=tr("phoneme")),
                 alt.Tooltip("t0:Q", title=tr("start (s)"), format=".3f"),
                 alt.Tooltip("t1:Q", title=tr("end (s)"), format=".3f")],
    )
    text = alt.Chart(table).transform_calculate(label=f"{label_fits(duration)} ? datum.phone : ''").mark_text(
        fontSize=11).encode(x="mid:Q", y=y, text="label:N")
    layers = [bars, text] + ([rule] if (rule := _cursor(cursor)) is not None else [])
    return alt.layer(*layers).properties(height=28 * max(1, len(order)))


PANEL_WIDTH = 455
"""Width in px of a time panel drawn outside Streamlit (``panel``'s default, tests and docs); on the
page each panel is drawn ``width="stretch"``: the column's width, so the three line up (the same
70 px y axis, no legend) at 1024 and 1400 px alike."""


def panel(chart, width: int | str = PANEL_WIDTH):
    """One time panel (spectrogram, posteriors, tracks) ``width`` px wide, or "container"."""
    return chart.properties(width=width, autosize=_PAD if width != "container" else FIT_X)


def window_table(window: np.ndarray, gradient: np.ndarray, cfg: FeatureConfig) -> pd.DataFrame:
    """(35, C) input values and gradients -> long table (offset_ms, channel, hz, value, gradient)."""
    k, c = window.shape
    offsets = np.arange(k) - (k - 1) // 2
    hz = mel_centres_hz(cfg) if cfg.kind == "mfbank" else np.full(c, np.nan)
    return pd.DataFrame({
        "offset_ms": np.repeat(offsets * cfg.winstep * 1000, c), "channel": np.tile(np.arange(c), k),
        "hz": np.tile(np.round(hz), k), "value": window.reshape(-1).round(3),
        "gradient": gradient.reshape(-1),
    })


def window_chart(table: pd.DataFrame, title: str, size: int = 420, *, tr: Translate = english) -> alt.Chart:
    """The input window as a square map coloured by the gradient (red +, blue -, white 0)."""
    vmax = float(np.abs(table["gradient"]).max()) or 1.0
    n_ch = int(table["channel"].max()) + 1
    return alt.Chart(table).mark_rect().encode(
        x=alt.X("offset_ms:O", title=tr("time offset (ms)"),
                axis=alt.Axis(values=[-170, -100, -50, 0, 50, 100, 170], labelAngle=0)),
        y=alt.Y("channel:O", sort="descending", title=tr("mel channel (0 = low)"),
                axis=alt.Axis(values=list(range(0, n_ch, 5)))),
        color=alt.Color("gradient:Q", scale=alt.Scale(scheme="redblue", reverse=True, domain=[-vmax, vmax]),
                        legend=number_legend(title="dy/dx")),
        tooltip=[alt.Tooltip("offset_ms:O", title=tr("offset (ms)")), alt.Tooltip("channel:O", title=tr("channel")),
                 alt.Tooltip("hz:Q", title="Hz"), alt.Tooltip("value:Q", title=tr("input (normalised)"), format=".2f"),
                 alt.Tooltip("gradient:Q", title=tr("gradient"), format=FORMATS["importance"])],
    ).properties(width=size, height=size, title=title)


def student_densities(detail, values_a: np.ndarray, values_b: np.ndarray, label_a: str, label_b: str,
                      x_title: str, *, tr: Translate = english) -> alt.LayerChart:
    """The corpus densities of one input for two phonemes (``core.viz.maps.density_chart`` of an
    ``OverlapDetail``) with the student's own values over their frames of each phoneme drawn as a
    rug: one short vertical tick per frame at the bottom, in the phoneme's colour. The x range
    covers the corpus bins and every student value."""
    va = np.asarray(values_a, dtype=np.float64).ravel()
    vb = np.asarray(values_b, dtype=np.float64).ravel()
    top = float(max(np.max(detail.p_a), np.max(detail.p_b), 1e-9))
    rug = pd.DataFrame({
        "x": np.concatenate([va, vb]),
        "phoneme": [f"/{label_a}/"] * len(va) + [f"/{label_b}/"] * len(vb),
        "low": 0.0,
        "high": np.concatenate([np.full(len(va), 0.12 * top), np.full(len(vb), 0.24 * top)]),
        "who": tr("your frames"),
    })
    ticks = alt.Chart(rug).mark_rule(strokeWidth=2, opacity=0.85).encode(
        x="x:Q", y="low:Q", y2="high:Q", color="phoneme:N",
        tooltip=[alt.Tooltip("who:N", title=""), alt.Tooltip("phoneme:N", title=tr("phoneme")),
                 alt.Tooltip("x:Q", title=tr("value"), format="+.2f")],
    )
    base = density_chart(detail.centres, detail.p_a, detail.p_b, label_a, label_b, x_title, tr=tr)
    title = tr("lines: corpus · ticks: your frames (short /{a}/, tall /{b}/) · grey: overlap ε").format(
        a=label_a, b=label_b)
    return alt.layer(*base.layer, ticks).properties(  # one x scale: the union of the corpus bins and your values
        width="container", height=base.height, autosize=FIT_X,
        # one line per key (Vega never wraps a title; one long line ran out of a narrow column)
        title=alt.Title([t.strip() for t in title.split("·")], fontSize=12, fontWeight="normal", anchor="start",
                        color="#555"))


def warp_table(choice) -> pd.DataFrame:
    """One row per VTLN warp tried (core.voice.vtln.WarpChoice): warp, mean top posterior, chosen, weight
    in the averaged posteriors."""
    return pd.DataFrame({
        "warp": np.asarray(choice.warps, dtype=np.float64),
        "confidence": np.asarray(choice.confidence, dtype=np.float64),
        "chosen": [w == choice.warp for w in choice.warps],
        "weight": np.asarray(choice.weights, dtype=np.float64),
    })


def warp_chart(choice, *, tr: Translate = english, width: int = 360, height: int = 220) -> alt.LayerChart:
    """The network's mean top posterior under each VTLN warp, the chosen warp marked."""
    table = warp_table(choice)
    x = alt.X("warp:Q", title=tr("warp (× frequency read by each channel)"),
              scale=alt.Scale(domain=[min(choice.warps), max(choice.warps)], nice=False, zero=False),
              axis=alt.Axis(values=list(choice.warps), format=".2f", labelAngle=0))
    y = alt.Y("confidence:Q", title=tr("mean top posterior"), scale=alt.Scale(zero=False), axis=alt.Axis(titleLimit=220))
    tip = [alt.Tooltip("warp:Q", title=tr("warp"), format=".2f"),
           alt.Tooltip("confidence:Q", title=tr("mean top posterior"), format=".3f"),
           alt.Tooltip("weight:Q", title=tr("weight in the posteriors"), format=".0%")]
    line = alt.Chart(table).mark_line(point=True, color="#4c78a8").encode(x=x, y=y, tooltip=tip)
    best = alt.Chart(table[table["chosen"]]).mark_point(size=160, color="#d62728", filled=True).encode(
        x=x, y=y, tooltip=tip)
    return alt.layer(line, best).properties(width=width, height=height)

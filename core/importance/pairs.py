"""The pair score and its ranking, and the tables of a map and of a pair (METHOD.md sections 3 and 4).

A phoneme's map is its importance per input unit; a pair's map puts two phonemes' importances
together with their overlap (``core.importance.overlap``: eps and p_e per input):

    product(i) = importance_a(i) x importance_b(i)       (the drawn square's size)
    score(i)   = product(i) x p_e(i)                     ("large and different", the paper's reading)

``pair_score`` is the one place these are computed (the dashboard's ``pair_table`` and the command
line's ``core.importance.table.importance_table``); ``RANKS`` names the two orders of a pair's cells.

The tables (``map_table``, ``pair_table``: one row per input unit with its offset, channel and
centre frequency) are what the charts of ``core.viz.maps`` draw; ``ranked``, ``cell_row`` and
``select_cells`` pick rows of them. pandas is imported inside the functions that build a table, so
the command line's importance table (which needs only ``RANKS`` and ``pair_score``) does not load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from core.features import FeatureConfig, channel_names, input_meaning

if TYPE_CHECKING:
    import pandas as pd

RANKS = {"score": "score", "product": "importance_pair"}
"""How a pair's cells are ordered (table, default detail, top k %): the column of ``pair_table``.
"score" = importance_a x importance_b x p_e (large *and* different, the paper's reading);
"product" = importance_a x importance_b (size alone)."""


def pair_score(importance_a, importance_b, p_e) -> tuple[np.ndarray, np.ndarray]:
    """(product, score) of every input: importance_a x importance_b, and that times p_e."""
    product = importance_a * importance_b
    return product, product * p_e


def input_table(cfg: FeatureConfig) -> pd.DataFrame:
    """One row per input unit: input, offset_frames, offset_ms, channel, hz (NaN for MFCC), channel_name."""
    import pandas as pd

    m = input_meaning(cfg)
    df = pd.DataFrame(
        {
            "input": np.arange(cfg.input_dim),
            "offset_frames": m["offset_frames"].astype(int),
            "offset_ms": m["offset_ms"].round(1),
            "channel": m["channel"].astype(int),
        }
    )
    df["hz"] = m["hz"].round(0) if cfg.kind == "mfbank" else np.nan
    df["channel_name"] = np.asarray(channel_names(cfg))[df["channel"].to_numpy()]
    return df


def map_table(cfg: FeatureConfig, importance: np.ndarray, mean: np.ndarray) -> pd.DataFrame:
    """One row per input unit: offset_frames, offset_ms, channel, hz, channel_name, importance,
    mean (class-conditional mean of the normalised input). importance, mean: (input_dim,)."""
    df = input_table(cfg)
    df["importance"] = np.asarray(importance, dtype=np.float64)
    df["mean"] = np.asarray(mean, dtype=np.float64)
    return df


def pair_table(
    cfg: FeatureConfig,
    importance_a: np.ndarray,
    importance_b: np.ndarray,
    p_e: np.ndarray,
    eps: np.ndarray,
) -> pd.DataFrame:
    """One row per input unit with importance_a, importance_b, importance_pair (= product), p_e, eps
    and score = importance_pair x p_e (METHOD.md section 4: "large and different")."""
    a, b = np.asarray(importance_a, dtype=np.float64), np.asarray(importance_b, dtype=np.float64)
    p_e = np.asarray(p_e, dtype=np.float64)
    product, score = pair_score(a, b, p_e)
    df = input_table(cfg)
    df["importance_a"] = a
    df["importance_b"] = b
    df["importance_pair"] = product
    df["p_e"] = p_e
    df["eps"] = np.asarray(eps, dtype=np.float64)
    df["score"] = score
    return df


def ranked(df: pd.DataFrame, rank: str, k: int | None = None) -> pd.DataFrame:
    """Rows of a pair table in ``rank`` order (largest first, ties in input order); the first
    ``k`` if given."""
    out = df.sort_values(RANKS[rank], ascending=False, kind="stable")
    return out if k is None else out.head(k)


def cell_row(df: pd.DataFrame, cell: tuple[int, int] | None) -> pd.Series | None:
    """The row of ``df`` at (offset_frames, channel), or None (no cell, or not in ``df``)."""
    if cell is None:
        return None
    hit = df[(df["offset_frames"] == cell[0]) & (df["channel"] == cell[1])]
    return hit.iloc[0] if len(hit) else None


def select_cells(
    df: pd.DataFrame,
    value: str,
    time_range: tuple[int, int] | None = None,
    channel_range: tuple[int, int] | None = None,
    top_percent: float = 100.0,
) -> pd.DataFrame:
    """Rows inside the time / channel ranges (inclusive), keeping the top ``top_percent`` % of
    them by ``value`` (at least one row). The importance scale is then relative to what is kept."""
    import pandas as pd

    keep = pd.Series(True, index=df.index)
    if time_range is not None:
        keep &= df["offset_frames"].between(*time_range)
    if channel_range is not None:
        keep &= df["channel"].between(*channel_range)
    out = df[keep]
    if 0 < top_percent < 100 and len(out):
        k = max(1, int(np.ceil(len(out) * top_percent / 100.0)))
        out = out.nlargest(k, value).sort_index()
    return out

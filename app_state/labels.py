"""Labels the pages show for options and phonemes: the sidebar's statistics, outputs and sample
sets, a language's name, a phoneme's label in a select box (in the interface language)."""

from __future__ import annotations

import functools

import streamlit as st

from app_state.resources import speech_models
from core.phones import ENGLISH, PhoneSet
from i18n import N_, current_language, tr

STAT_LABELS = {"std": N_("σ of dy/dx (the paper's index)"), "mean_abs": N_("mean |dy/dx|"), "rms": N_("rms of dy/dx")}
STAT_NAMES = {"std": N_("standard deviation σ"), "mean_abs": N_("mean absolute value"), "rms": N_("root mean square")}
"""The statistics' names alone, for sentences that say what they are taken of (STAT_LABELS say "of dy/dx")."""
OUTPUT_LABELS = {"posterior": N_("posterior (softmax)"), "logit": N_("logit"), "log_posterior": N_("log posterior")}
SAMPLE_SETS = {"all": N_("all validation frames"), "selected": N_("frames of the selected phonemes")}
LANGUAGE_NAMES = {"English": N_("English"), "Japanese": N_("Japanese")}
"""A phone set's language (``PhoneSet.language``) as the interface names it."""


def phone_set_of(name: str | None) -> PhoneSet:
    """The phone set of a speech model (English for an unknown name)."""
    models = speech_models()
    return models[name].phone_set if name in models else ENGLISH


def phone_labels(phones, model_name: str | None = None) -> dict[str, str]:
    """Select-box labels of ``phones``: 's  (/s/ as in 'sun')' (English), 'sh シ  (/ɕ/ as in the
    Japanese word 'しお shio')' (Japanese: romanisation and kana), in the interface language; the
    phone set is the model's (default: the sidebar's model)."""
    ps, lang = phone_set_of(model_name or st.session_state.get("settings_model")), current_language()
    return {p: _phone_label(p, ps, lang) for p in phones}


@functools.lru_cache(maxsize=4096)
def _phone_label(phone: str, ps: PhoneSet, lang: str) -> str:
    """One phone's label in ``phone_labels`` (a select box formats every option on every rerun:
    remembered)."""
    if phone not in ps:
        return phone
    kana = ps.info[phone].native if ps.native_name == "kana" else ""
    if phone == ps.silence:
        described = tr("silence", lang)
    elif kana:  # a Japanese example word (kana and romanisation)
        described = tr("/{ipa}/ as in the Japanese word '{example}'", lang).format(
            ipa=ps.info[phone].ipa, example=ps.info[phone].example
        )
    else:
        described = tr("/{ipa}/ as in '{example}'", lang).format(ipa=ps.info[phone].ipa, example=ps.info[phone].example)
    return f"{phone}{' ' + kana if kana else ''}  ({described})"

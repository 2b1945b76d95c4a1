"""The old home of the dashboard's shared state, kept one release so that ``from app_state.shared
import ...`` goes on working; no module of app_state imports it (they import the homes): ``cache`` (the compute-once helper and
progress), ``resources`` (models, validation sets, statistics, tables), ``labels`` (option and
phoneme labels), ``texts`` (sentences stating a model's figures) and ``warmup``."""

from app_state.cache import *  # noqa: F401,F403
from app_state.cache import ON_DISK, _disk_key, _Memo, _memo, _progress  # noqa: F401
from app_state.labels import *  # noqa: F401,F403
from app_state.labels import _phone_label  # noqa: F401
from app_state.resources import *  # noqa: F401,F403
from app_state.resources import (  # noqa: F401
    _all_models,
    _compute_histograms,
    _evaluate,
    _histograms_of,
    _model,
    _pair_detail,
    _speech_models,
    _stats_cache,
    _stats_disk_key,
    _stats_inputs,
    _validation,
)
from app_state.texts import *  # noqa: F401,F403
from app_state.warmup import *  # noqa: F401,F403
from app_state.warmup import _warmup  # noqa: F401

"""The only place with Streamlit caches and session defaults.

Everything cached here is shared by every user of the server (``st.cache_resource``) and is
read-only: models are never trained, pruned or toggled in place, statistics are frozen objects
with read-only arrays. Pages call these functions (``import app_state as S``); they hold no maths.

Choices written down here:

- The sample set of the dashboard is the model's shipped validation set (held-out utterances).
  Gradient statistics are computed once per (model, output, target) over *all* its frames,
  kept per true label; "frames of the selected phonemes" then selects labels, exactly and
  instantly, so switching the sample set or the statistic never recomputes anything.
- Class histograms (for p_e and the class means) are computed once per (model, bins).
- The shared sidebar settings live in ``st.session_state`` under ``settings_*`` keys and are
  mirrored into the URL (``?model=...&stat=...``) so a view can be shared by its address.

Modules: ``shared`` (models, validation sets, statistics), ``session`` (session state, URL,
sidebar, page opening), ``views`` (the analysis pages' view controls and clicked cell),
``digits``, ``units`` (units, filters, pruning), ``methods`` (which importance to trust),
``figures`` (charts built once per server), ``findings``, ``voice``, ``language`` (the interface language
switch), ``history`` (one browser history entry per page) and ``texts`` (sentences that state a figure,
built from the models' metadata). Everything public is re-exported
here, so pages use one name space.
"""

from app_state.cache import *  # noqa: F401,F403
from app_state.digits import *  # noqa: F401,F403
from app_state.explain import *  # noqa: F401,F403
from app_state.figures import *  # noqa: F401,F403
from app_state.findings import *  # noqa: F401,F403
from app_state.history import *  # noqa: F401,F403
from app_state.labels import *  # noqa: F401,F403
from app_state.language import *  # noqa: F401,F403
from app_state.methods import *  # noqa: F401,F403
from app_state.resources import *  # noqa: F401,F403
from app_state.resources import _stats_cache  # noqa: F401  (tests reset it)
from app_state.session import *  # noqa: F401,F403
from app_state.texts import *  # noqa: F401,F403
from app_state.units import *  # noqa: F401,F403
from app_state.views import *  # noqa: F401,F403
from app_state.voice import *  # noqa: F401,F403
from app_state.warmup import *  # noqa: F401,F403

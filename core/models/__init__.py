"""The speech DNN and the digit CNN, and their save/load (safetensors + JSON metadata).

A package; ``from core.models import ...`` gives every name below:

- ``networks``: ``SpeechDNN``, ``PrunedSpeechDNN``, ``DigitCNN``, ``build_model``, ``ModelError``;
- ``info``: ``ModelInfo`` (the checked metadata; ``outputs_of`` / ``label_index``), ``phone_outputs``,
  where models and validation sets live (``ASSETS_DIR``, ``MODELS_DIR``, ``VALIDATION_DIR``), the
  file names and format version;
- ``store``: ``save_model``, ``write_metrics``, ``load_model``, ``read_model_info``, ``list_models``,
  ``resolve_model_path``, ``dumps_json``.

``core.models.inference`` (imported by its own name, not re-exported here) runs a speech model on a
recording: warped features, network inputs, phone posteriors.
"""

from core.models.info import (
    ASSETS_DIR,
    FORMAT,
    FORMAT_VERSION,
    META_FILE,
    MODELS_DIR,
    STATE_SUFFIXES,
    VALIDATION_DIR,
    WEIGHTS_FILE,
    ModelInfo,
    ModelKind,
    phone_outputs,
    sum_states,
)
from core.models.networks import Activation, DigitCNN, ModelError, PrunedSpeechDNN, SpeechDNN, build_model
from core.models.store import (
    dumps_json,
    list_models,
    load_model,
    read_model_info,
    resolve_model_path,
    save_model,
    write_metrics,
)

__all__ = [
    "ASSETS_DIR", "FORMAT", "FORMAT_VERSION", "META_FILE", "MODELS_DIR", "STATE_SUFFIXES", "VALIDATION_DIR",
    "WEIGHTS_FILE", "Activation", "DigitCNN", "ModelError", "ModelInfo", "ModelKind", "PrunedSpeechDNN",
    "SpeechDNN", "build_model", "dumps_json", "list_models", "load_model", "phone_outputs", "read_model_info", "sum_states",
    "resolve_model_path", "save_model", "write_metrics",
]

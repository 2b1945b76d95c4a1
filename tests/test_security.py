"""Issue 25, item 8: weights only through safetensors, uploads capped before decoding, XSRF on, no
user input reaching a file path, downloads that carry no path and no code."""

from __future__ import annotations

import io
import json
import pickle
import tomllib
import zipfile
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.models import ModelError, load_model

ROOT = Path(__file__).resolve().parents[1]


def _model(folder: Path) -> Path:
    from tests.test_models import _speech

    return _speech(folder.parent, folder.name)[1]


@pytest.mark.parametrize("name", ["model.pt", "weights.pkl", "model.ckpt", "pytorch_model.bin"])
def test_a_pickle_in_a_model_folder_is_refused(tmp_path, name):
    folder = _model(tmp_path / "m")
    load_model(folder)  # the folder as saved loads
    (folder / name).write_bytes(pickle.dumps({"w": torch.zeros(2)}))
    with pytest.raises(ModelError, match=f"holds {name}, a format that can carry code"):
        load_model(folder)


def test_a_pickle_named_safetensors_is_refused(tmp_path):
    folder = _model(tmp_path / "m")
    (folder / "model.safetensors").write_bytes(pickle.dumps({"linears.0.weight": torch.zeros(4, 20)}))
    with pytest.raises(ModelError, match="not a safetensors file"):
        load_model(folder)


def test_xsrf_protection_is_on_and_uploads_are_capped():
    conf = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert conf["enableXsrfProtection"] is True and conf.get("enableCORS", True) is True
    from app_state.voice import VOICE_MAX_UPLOAD_MB

    assert VOICE_MAX_UPLOAD_MB <= conf["maxUploadSize"] <= 50  # the page's own cap first, Streamlit's behind it


@pytest.mark.parametrize("bad", ["../../etc/passwd", "/etc", "assets/models/speech_en_mfbank", "..", "digits_cnn"])
def test_a_model_in_the_address_is_only_ever_a_shipped_speech_model(tiny_models, bad):
    """The address names models; anything but an installed speech model's name is replaced by the
    default (one toast), and never opened as a path."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.query_params["model"] = bad
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.sidebar.selectbox(key="w_settings_model").value == "speech_en_mfbank"
    assert any(bad in t.value for t in at.toast), [t.value for t in at.toast]


def test_a_downloaded_pruned_model_carries_no_path_and_no_code(tiny_models):
    """The page's pruned model zip (input units, 8 deleted): exactly <folder>/model.json and
    <folder>/model.safetensors, relative names without '..', JSON and safetensors only, and it loads
    (unzipped) with no pickle read."""
    import app_state as S

    p = S.pruned_model("speech_en_mfbank", "input", None, "imp_asc", 8, "std", "posterior")
    data = S.model_zip(p, "speech_en_mfbank_input_imp_asc_8")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        assert names == ["speech_en_mfbank_input_imp_asc_8/model.json",
                         "speech_en_mfbank_input_imp_asc_8/model.safetensors"]
        assert all(not n.startswith("/") and ".." not in Path(n).parts for n in names)
        doc = json.loads(z.read(names[0]))
        assert not z.read(names[1]).startswith(b"\x80")  # a pickle stream starts with its PROTO opcode
    assert set(doc) >= {"labels", "arch", "weights_sha256"}

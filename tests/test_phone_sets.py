"""Phone sets as objects (English, Japanese) and models / validation sets that name theirs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.models import ModelError, load_model, read_model_info, save_model
from core.models.networks import SpeechDNN
from core.phones import (
    ENGLISH,
    JAPANESE,
    PHONE_INFO,
    PHONE_SETS,
    PHONES,
    PhoneError,
    Segment,
    frame_labels,
    get_phone_set,
    phone_set_of,
    read_lab,
    to_phone,
)


def test_japanese_classes():
    assert len(JAPANESE) == 35 and JAPANESE.phones[0] == JAPANESE.silence == "sil"
    for p in "a i u e o N cl k s sh t ch ts n h f m y r w g z j d b p ky gy ny hy my ry by py".split():
        assert p in JAPANESE
    assert [JAPANESE.index(p) for p in JAPANESE.phones] == list(range(35))


@pytest.mark.parametrize(
    "label, phone",
    [("I", "i"), ("U", "u"), ("pau", "sil"), ("N", "N"), ("n", "n"), ("v", "b"), ("dy", "d"), ("cl", "cl")],
)
def test_japanese_spellings(label, phone):
    assert JAPANESE.to_phone(label) == phone


def test_japanese_is_case_sensitive_english_is_not():
    with pytest.raises(PhoneError, match="Unknown phone 'SH'; the Japanese phone set has"):
        JAPANESE.to_phone("SH")
    assert ENGLISH.to_phone("SH") == "sh" and ENGLISH.to_phone("AH0") == "ax" and to_phone("AH1") == "ah"
    with pytest.raises(PhoneError, match="Unknown phone 'ky'"):
        ENGLISH.to_phone("ky")


def test_the_english_instance_is_the_old_table():
    assert ENGLISH.phones == PHONES and len(PHONES) == 41
    for p in PHONES:
        assert (ENGLISH.info[p].ipa, ENGLISH.info[p].example) == PHONE_INFO[p]


def test_notations_for_display():
    assert ENGLISH.display("sh") == "SH /ʃ/" and ENGLISH.display("ax") == "AH0 /ə/"
    assert (
        JAPANESE.display("sh") == "sh シ"
        and JAPANESE.display("N") == "N ン"
        and JAPANESE.display("sil") == "sil"
    )
    assert JAPANESE.describe("sh") == "/ɕ/ as in 'しお shio'" and JAPANESE.describe("sil") == "silence"
    assert (ENGLISH.notation_name, ENGLISH.native_name, JAPANESE.notation_name, JAPANESE.native_name) == (
        "ARPAbet",
        "IPA",
        "romanisation",
        "kana",
    )
    # every class has its notations (silence: no second one)
    for ps in PHONE_SETS.values():
        assert all(ps.info[p].notation and (ps.info[p].native or p == ps.silence) for p in ps.phones)


def test_labels_for_phone_and_state_targets():
    assert JAPANESE.labels("phone") == JAPANESE.phones
    states = JAPANESE.labels("state")
    assert len(states) == 105 and states[:4] == ("sil_S1", "sil_S2", "sil_S3", "a_S1")
    with pytest.raises(PhoneError, match="Unknown targets"):
        JAPANESE.labels("word")


def test_lookups():
    assert (
        get_phone_set("ja") is JAPANESE
        and get_phone_set(None) is ENGLISH
        and get_phone_set(JAPANESE) is JAPANESE
    )
    assert phone_set_of(list(JAPANESE.phones)) is JAPANESE
    with pytest.raises(PhoneError, match="Unknown phone set 'fr'"):
        get_phone_set("fr")
    with pytest.raises(PhoneError, match="matches none"):
        phone_set_of(["sil", "a"])


def test_frame_labels_and_label_files_in_japanese(tmp_path):
    lab = tmp_path / "x.lab"
    lab.write_text("0.0 0.1 pau\n0.1 0.2 sh\n0.2 0.3 I\n0.3 0.4 N\n", encoding="utf-8")
    segs = read_lab(lab, phone_set=JAPANESE)
    assert [s.phone for s in segs] == ["sil", "sh", "i", "N"]
    with pytest.raises(PhoneError):
        read_lab(lab)  # English: N is n, but I is no English phone
    labels = frame_labels(segs, 38, phone_set=JAPANESE)
    centres = np.arange(38) * 0.01 + 0.0125
    want = [JAPANESE.index(segs[min(int(c // 0.1), 3)].phone) for c in centres]
    assert labels.tolist() == want
    with pytest.raises(PhoneError):
        frame_labels([Segment(0, 1, "ky")], 10)  # not an English class


def _tiny(phone_set, tmp_path, name):
    from core.features import FeatureConfig, Normalizer

    cfg = FeatureConfig(context=1)
    net = SpeechDNN(cfg.input_dim, len(phone_set), 4, 1, "relu")
    meta = {
        "labels": phone_set.phones,
        "features": cfg,
        "phone_set": phone_set.name,
        "normalizer": Normalizer(tuple([0.0] * 40), tuple([1.0] * 40)),
    }
    return save_model(net, tmp_path / name, meta)


def test_a_model_names_its_phone_set(tmp_path):
    out = _tiny(JAPANESE, tmp_path, "ja")
    assert json.loads((out / "model.json").read_text())["phone_set"] == "ja"
    _, info = load_model(out)
    assert info.phone_set is JAPANESE and info.language == "Japanese" and info.phones == JAPANESE.phones
    # a model.json without the field (the first shipped models) is English
    doc = json.loads((_tiny(ENGLISH, tmp_path, "en") / "model.json").read_text())
    del doc["phone_set"]
    (tmp_path / "en" / "model.json").write_text(json.dumps(doc))
    assert read_model_info(tmp_path / "en").phone_set is ENGLISH
    doc["phone_set"] = "fr"
    (tmp_path / "en" / "model.json").write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="names the phone set 'fr'"):
        read_model_info(tmp_path / "en")


def test_shipped_english_models_still_load_as_english():
    for name in ("speech_en_mfbank", "speech_en_mfcc"):
        assert read_model_info(name).phone_set is ENGLISH


def test_shipped_japanese_model_and_validation_set():
    from core.train import evaluate, load_validation

    model, info = load_model("speech_ja_mfbank")
    assert info.phone_set is JAPANESE and info.labels == JAPANESE.phones
    frames = load_validation(info)
    assert frames.phone_set is JAPANESE and len(frames) >= 30000
    assert all(v.startswith("mei_normal_a") for v in frames.voices)
    assert np.bincount(frames.labels, minlength=len(JAPANESE)).min() >= 70  # every phoneme is there
    res = evaluate(model, info)
    assert res.accuracy >= 0.80, res.accuracy
    # an English model refuses Japanese frames, in one sentence
    en_model, en_info = load_model("speech_en_mfbank")
    from core.train import TrainError

    with pytest.raises(TrainError, match="is a model of English; these frames are labelled in Japanese"):
        evaluate(en_model, en_info, frames)

"""core.audio: every accepted format gives float32 mono 16 kHz; every refused case one AudioError."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import soundfile as sf

from core.audio import SAMPLE_RATE, AudioError, load_audio, wav_bytes


def tone(seconds: float, rate: int, channels: int = 1, hz: float = 440.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    x = amp * np.sin(2 * np.pi * hz * t)
    return np.repeat(x[:, None], channels, axis=1) if channels > 1 else x


def encode(x: np.ndarray, rate: int, fmt: str = "WAV", subtype: str | None = "PCM_16") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, rate, format=fmt, subtype=subtype)
    return buf.getvalue()


def dominant_hz(x: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[spec.argmax()])


@pytest.mark.parametrize(
    "subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"]
)
def test_wav_subtypes(subtype):
    y = load_audio(encode(tone(0.5, 16000), 16000, "WAV", subtype))
    assert y.dtype == np.float32 and y.ndim == 1 and len(y) == 8000
    assert np.max(np.abs(y)) == pytest.approx(0.5, abs=0.02)
    assert dominant_hz(y) == pytest.approx(440, abs=5)


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 32000, 44100, 48000, 96000])
@pytest.mark.parametrize("channels", [1, 2, 6])
def test_rates_and_channels(rate, channels):
    y = load_audio(encode(tone(0.4, rate, channels), rate))
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - 0.4 * SAMPLE_RATE) <= 1
    assert dominant_hz(y) == pytest.approx(440, abs=5)
    assert -1 <= y.min() and y.max() <= 1


@pytest.mark.parametrize("fmt,subtype", [("FLAC", "PCM_16"), ("FLAC", "PCM_24"), ("OGG", "VORBIS")])
def test_flac_and_ogg(fmt, subtype):
    y = load_audio(encode(tone(0.5, 44100, 2), 44100, fmt, subtype))
    assert abs(len(y) - 8000) <= 1
    assert dominant_hz(y) == pytest.approx(440, abs=5)


def test_path_bytes_and_filelike_agree(tmp_path):
    data = encode(tone(0.3, 22050), 22050)
    path = tmp_path / "x.wav"
    path.write_bytes(data)
    a, b, c = load_audio(path), load_audio(data), load_audio(io.BytesIO(data))
    assert np.array_equal(a, b) and np.array_equal(b, c)
    assert np.array_equal(load_audio(str(path)), a)


def test_stereo_is_mixed_by_mean():
    left = tone(0.3, 16000, hz=300)
    x = np.stack([left, -left], axis=1)  # opposite phases cancel in the mean
    assert np.max(np.abs(load_audio(encode(x, 16000, subtype="FLOAT")))) < 1e-6


def test_loud_float_is_scaled_into_range():
    y = load_audio(encode(tone(0.3, 16000, amp=4.0), 16000, subtype="FLOAT"))
    assert np.max(np.abs(y)) == pytest.approx(1.0, abs=1e-3)


def test_wav_bytes_round_trip():
    x = tone(0.2, 16000).astype(np.float32)
    assert np.allclose(load_audio(wav_bytes(x)), x, atol=1 / 32768)


def _wav_with_nan() -> bytes:
    x = tone(0.3, 16000).astype(np.float32)
    x[100] = np.nan
    return encode(x, 16000, subtype="FLOAT")


def _zero_channel_wav() -> bytes:
    d = bytearray(encode(tone(0.3, 16000), 16000))
    d[22:24] = struct.pack("<H", 0)
    return bytes(d)


def _header_rate(rate: int) -> bytes:
    d = bytearray(encode(tone(0.3, 16000), 16000))
    d[24:28] = struct.pack("<I", rate)
    d[28:32] = struct.pack("<I", rate * 2)
    return bytes(d)


REFUSED = {
    "empty": (b"", "empty"),
    "text": (b"hello, this is not audio at all " * 10, "not an audio file"),
    "html": (b"<html><body>upload</body></html>" * 5, "not an audio file"),
    "header only": (encode(tone(0.3, 16000), 16000)[:40], "damaged|header"),
    "truncated": (encode(tone(1.0, 16000), 16000)[:12000], "truncated"),
    "zero channels": (_zero_channel_wav(), "zero channels"),
    "nan": (_wav_with_nan(), "NaN"),
    "too short": (encode(tone(0.05, 16000), 16000), "at least 0.1 s"),
    "too long": (encode(tone(31.0, 8000), 8000), "limit is 30 s"),
    "rate too low": (_header_rate(4000), "between 8 and 96 kHz"),
    "rate too high": (_header_rate(192000), "between 8 and 96 kHz"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused(case):
    data, match = REFUSED[case]
    with pytest.raises(AudioError, match=match):
        load_audio(data)


def test_refusal_message_is_one_sentence():
    with pytest.raises(AudioError) as info:
        load_audio(b"garbage" * 50)
    msg = str(info.value)
    assert "\n" not in msg and msg.endswith(".") and "Traceback" not in msg


def test_missing_and_empty_paths(tmp_path):
    with pytest.raises(AudioError, match="no audio file"):
        load_audio(tmp_path / "missing.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match="empty"):
        load_audio(tmp_path / "empty.wav")


def test_wrong_type():
    with pytest.raises(AudioError, match="path, bytes"):
        load_audio(12345)  # type: ignore[arg-type]


def test_length_limit_checked_before_reading(monkeypatch):
    data = encode(tone(3.0, 16000), 16000)

    def no_read(*args, **kwargs):
        raise AssertionError("samples were read although the header shows the file is too long")

    monkeypatch.setattr(sf.SoundFile, "read", no_read)
    with pytest.raises(AudioError, match="limit is 2 s"):
        load_audio(data, max_seconds=2.0)


def test_configurable_limit_accepts_longer():
    y = load_audio(encode(tone(31.0, 8000), 8000), max_seconds=40)
    assert abs(len(y) - 31 * SAMPLE_RATE) <= 1


def test_check_audible_refuses_silence_and_accepts_speech():
    from pathlib import Path

    from core.audio import check_audible, load_audio

    speech = load_audio(Path(__file__).resolve().parents[1] / "assets" / "samples" / "she_sells.wav")
    check_audible(speech)
    check_audible(speech * 0.03)  # speech 30 dB quieter is still speech
    with pytest.raises(AudioError, match="silent: every sample is zero") as zeros:
        check_audible(np.zeros(16000, np.float32))
    assert "dB" not in str(zeros.value)  # no floor value (the log of 0) quoted as a level
    with pytest.raises(AudioError, match=r"silent \(its loudest moment is 90 dB below full scale\)"):
        check_audible(np.full(16000, 1 / 32768))  # the smallest 16-bit sample: a real level
    with pytest.raises(AudioError, match="silent"):
        check_audible(np.random.default_rng(0).normal(0, 1e-4, 16000))


def test_digital_silence_is_cut_off_at_the_ends_only():
    from core.audio import AudioError, trim_digital_silence

    sound = np.sin((np.arange(3200) + 1) / 7.0).astype(np.float32)  # no zero at either end
    sound[1000:1100] = 0.0  # zeros inside stay
    padded = np.concatenate([np.zeros(1600, np.float32), sound, np.zeros(800, np.float32)])
    np.testing.assert_array_equal(trim_digital_silence(padded), sound)
    assert trim_digital_silence(sound) is sound
    zeros = np.zeros(4000, np.float32)
    assert trim_digital_silence(zeros) is zeros  # check_audible says it is silent
    short = np.concatenate([np.zeros(3000, np.float32), sound[:800]])
    with pytest.raises(AudioError, match="0.05 s of sound between stretches of digital silence"):
        trim_digital_silence(short)

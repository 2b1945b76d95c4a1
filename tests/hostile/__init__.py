"""Hostile audio files (issue 25): what a student might upload or pass on the command line.

``make(folder)`` writes every case into ``folder`` (deterministic, offline, about 1 MB in all, a few
seconds) and returns ``{name: Case}``. Each case says what the product must do with it: refuse it
with one message matching ``refuse`` (a regular expression over the English text), or accept it
(``refuse`` None: a file that is odd but holds usable audio, read by its content and not by its
name). Used by tests/test_hostile.py (the CLI and the Your voice page) and bench/hostile.py (time,
memory, and another session served meanwhile).
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 16000


@dataclass(frozen=True)
class Case:
    path: Path
    refuse: str | None  # None: accepted
    what: str


def _tone(seconds: float, rate: int = RATE, channels: int = 1, amp: float = 0.4) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    # a vowel-like sound: a 150 Hz buzz through two formants, so the page has something to show
    x = amp * (0.6 * np.sin(2 * np.pi * 700 * t) + 0.4 * np.sin(2 * np.pi * 1200 * t)) * (
        0.5 + 0.5 * np.sign(np.sin(2 * np.pi * 150 * t)))
    return np.repeat(x[:, None], channels, axis=1) if channels > 1 else x


def _encode(x: np.ndarray, rate: int = RATE, fmt: str = "WAV", subtype: str | None = "PCM_16") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, rate, format=fmt, subtype=subtype)
    return buf.getvalue()


def _wav_header(data_bytes: int, rate: int = RATE, channels: int = 1, bits: int = 16, riff_size: int | None = None,
                fmt_tag: int = 1) -> bytes:
    block = channels * bits // 8
    riff = 36 + data_bytes if riff_size is None else riff_size
    return (b"RIFF" + struct.pack("<I", riff) + b"WAVE" + b"fmt " + struct.pack("<IHHIIHH", 16, fmt_tag, channels, rate,
                                                                              rate * block, block, bits)
            + b"data" + struct.pack("<I", data_bytes))


def _pcm16(x: np.ndarray) -> bytes:
    return (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()


def _png() -> bytes:
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes([200, 30, 30] * 8) for _ in range(8))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _odd_chunks() -> bytes:
    """A WAV with a LIST chunk holding an odd-sized title (one pad byte, as RIFF wants) and an unknown
    odd-sized chunk before its data."""
    pcm = _pcm16(_tone(1.0))
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, RATE, RATE * 2, 2, 16)
    title = b"INAM" + struct.pack("<I", 5) + b"hello" + b"\x00"
    info = b"LIST" + struct.pack("<I", 4 + len(title)) + b"INFO" + title
    junk = b"zzzz" + struct.pack("<I", 3) + b"xyz" + b"\x00"
    data = b"data" + struct.pack("<I", len(pcm)) + pcm
    body = b"WAVE" + fmt + info + junk + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _long_flac(path: Path, hours: float = 2.0, rate: int = 8000) -> None:
    """Hours of near-silence as FLAC: a small file that would decode to hundreds of MB."""
    block = np.zeros(rate * 60, dtype=np.int16)
    with sf.SoundFile(str(path), "w", samplerate=rate, channels=1, format="FLAC", subtype="PCM_16") as f:
        for _ in range(int(hours * 60)):
            f.write(block)


def cases() -> dict[str, tuple[str, bytes | None, str | None, str]]:
    """name -> (file name, its bytes (None: written by a function), refuse regex or None, what)."""
    tone = _tone(1.0)
    good = _encode(tone)
    nan = tone.astype(np.float32)
    nan[500] = np.nan
    inf = tone.astype(np.float32)
    inf[500] = np.inf
    clipped = np.clip(4 * _tone(1.0), -1, 1)
    out: dict[str, tuple[str, bytes | None, str | None, str]] = {
        "empty": ("empty.wav", b"", "empty", "0 bytes"),
        "header_only": ("header_only.wav", _wav_header(0), "at least 0.1 s|damaged|empty", "a 44-byte header, no data"),
        "truncated": ("truncated.wav", good[:9000], "truncated", "the data cut off at 9,000 bytes"),
        "wrong_magic": ("wrong_magic.wav", b"RIFX" + good[4:], "not an audio file|damaged", "RIFX instead of RIFF"),
        "riff_size_lies": ("riff_size_lies.wav", _wav_header(len(_pcm16(tone)), riff_size=10**9) + _pcm16(tone), None,
                           "a RIFF size of 1 GB on a 32 kB file (the data chunk is right)"),
        "data_size_lies": ("data_size_lies.wav", _wav_header(2**31) + _pcm16(tone), "truncated|limit is|damaged",
                           "a data chunk that claims 2 GB"),
        "zero_channels": ("zero_channels.wav", _wav_header(32000, channels=0) + _pcm16(tone), "zero channels|damaged",
                          "a header with 0 channels"),
        "64_channels": ("64_channels.wav", _encode(_tone(0.5, channels=64)), None, "64 channels (mixed to mono)"),
        "rate_1hz": ("rate_1hz.wav", _wav_header(32000, rate=1) + _pcm16(tone), "between 8 and 96 kHz|limit is",
                     "a sample rate of 1 Hz"),
        "rate_1mhz": ("rate_1mhz.wav", _wav_header(32000, rate=1_000_000) + _pcm16(tone), "between 8 and 96 kHz",
                      "a sample rate of 1 MHz"),
        "pcm_u8": ("pcm_u8.wav", _encode(tone, subtype="PCM_U8"), None, "8-bit PCM"),
        "pcm_24": ("pcm_24.wav", _encode(tone, subtype="PCM_24"), None, "24-bit PCM"),
        "float_nan": ("float_nan.wav", _encode(nan, subtype="FLOAT"), "NaN", "32-bit float with a NaN"),
        "float_inf": ("float_inf.wav", _encode(inf, subtype="FLOAT"), "NaN or infinity", "32-bit float with an infinity"),
        "ten_minutes": ("ten_minutes.wav", _encode(np.tile(_tone(1.0, 8000), 600), 8000), "limit is 30 s",
                        "10 minutes (8 kHz)"),
        "silence": ("silence.wav", _encode(np.zeros(RATE)), "silent", "1 s of exact zeros"),
        "clipping": ("clipping.wav", _encode(clipped), None, "clipped at full scale"),
        "mp3_named_wav": ("mp3_named.wav", _encode(_tone(1.0), fmt="MP3", subtype="MPEG_LAYER_III"), None,
                          "an MP3 named .wav (read by its content)"),
        "png_named_wav": ("png_named.wav", _png(), "not an audio file", "a PNG image named .wav"),
        "odd_chunks": ("odd_chunks.wav", _odd_chunks(), None, "an odd-sized title in a LIST chunk and an unknown odd-sized chunk"),
        "non_ascii_name": ("声の録音 é ü.wav", good, None, "a non-ASCII file name"),
        "text": ("notes.wav", b"hello, this is not audio at all\n" * 20, "not an audio file", "a text file"),
        "html": ("page.wav", b"<html><body>upload</body></html>" * 5, "not an audio file", "an HTML page"),
        "too_short": ("too_short.wav", _encode(_tone(0.05)), "at least 0.1 s", "50 ms"),
        "aiff": ("sound.aif", _encode(tone, fmt="AIFF"), None, "AIFF"),
        "ogg": ("sound.ogg", _encode(tone, fmt="OGG", subtype="VORBIS"), None, "Ogg Vorbis"),
        "flac_hours": ("hours.flac", None, "limit is 30 s", "a small FLAC that decodes to two hours"),
        "dc_only": ("dc_only.wav", _encode(np.full(RATE, 0.5)), None, "a constant (DC) signal"),
    }
    return out


def make(folder: str | Path) -> dict[str, Case]:
    """Write every case into ``folder``; returns name -> Case."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for name, (file_name, data, refuse, what) in cases().items():
        path = folder / file_name
        if data is None:
            _long_flac(path)
        else:
            path.write_bytes(data)
        made[name] = Case(path, refuse, what)
    return made

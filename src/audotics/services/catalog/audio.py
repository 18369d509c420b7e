"""Recognising and validating uploaded audio: magic bytes first, then a full decode.

Runs in a worker thread (``probe_audio`` blocks). Nothing here knows about HTTP or
storage; it raises :mod:`audotics.problems` errors a client can act on.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import filetype
import soundfile

from audotics.problems import Unprocessable, UnsupportedMediaType

ACCEPTED_DESCRIPTION = "WAV, FLAC, Ogg (Vorbis or Opus) or MP3"
_SNIFF_BYTES = 8192
_DECODE_BLOCK_FRAMES = 64 * 1024
# Magic-byte verdicts (filetype MIME types) that may hold a format we accept.
_SNIFFED_AUDIO = {"audio/x-wav", "audio/x-flac", "audio/ogg", "audio/mpeg"}
# RIFF sizes that streaming writers leave when the length was unknown.
_UNKNOWN_RIFF_SIZES = {0, 0xFFFFFFFF}
# libsndfile reports SF_COUNT_MAX frames when a header does not say.
_UNKNOWN_FRAME_COUNT = 2**62
_OGG_TAIL_BYTES = 64 * 1024  # an Ogg page is at most ~64 KiB
_OGG_EOS_FLAG = 0x04
_OGG_PAGE_HEADER = 27  # bytes up to and including the segment count


@dataclass(frozen=True)
class AudioFormat:
    name: str
    content_type: str
    extension: str


_FORMATS = {
    ("WAV", None): AudioFormat("wav", "audio/wav", "wav"),
    ("WAVEX", None): AudioFormat("wav", "audio/wav", "wav"),
    ("RF64", None): AudioFormat("wav", "audio/wav", "wav"),
    ("FLAC", None): AudioFormat("flac", "audio/flac", "flac"),
    ("OGG", "VORBIS"): AudioFormat("vorbis", "audio/ogg", "ogg"),
    ("OGG", "OPUS"): AudioFormat("opus", "audio/ogg", "opus"),
    ("MP3", None): AudioFormat("mp3", "audio/mpeg", "mp3"),
}


@dataclass(frozen=True)
class ProbedAudio:
    format: AudioFormat
    codec: str
    sample_rate: int
    channels: int
    frames: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


def _looks_like_mpeg_frame(head: bytes) -> bool:
    # An 11-bit frame sync: MP3s without an ID3 tag start straight with a frame.
    return len(head) >= 4 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0


def sniff(head: bytes) -> None:
    """Reject what is plainly not audio we accept, by its first bytes."""
    kind = filetype.guess(head)
    if kind is None:
        if _looks_like_mpeg_frame(head):
            return
        raise UnsupportedMediaType(
            f"The file is not a recognised audio format; upload {ACCEPTED_DESCRIPTION}.",
            title="Not an audio file",
        )
    if kind.mime in _SNIFFED_AUDIO:
        return
    if kind.mime.startswith("audio/"):
        raise UnsupportedMediaType(
            f"{kind.mime} audio is not supported; upload {ACCEPTED_DESCRIPTION}.",
            title="Unsupported audio format",
        )
    raise UnsupportedMediaType(
        f"The file is {kind.mime}, not audio; upload {ACCEPTED_DESCRIPTION}.",
        title="Not an audio file",
    )


def _check_riff_length(head: bytes, size: int) -> None:
    if head[:4] != b"RIFF" or len(head) < 8:
        return
    (declared,) = struct.unpack("<I", head[4:8])
    if declared not in _UNKNOWN_RIFF_SIZES and declared + 8 > size:
        raise Unprocessable(
            f"The WAV file is truncated: its header announces {declared + 8} bytes, "
            f"the upload has {size}.",
            title="Corrupt audio",
        )


def _check_ogg_ends(path: Path, size: int) -> None:
    """An Ogg stream's last page carries the end-of-stream flag; a cut-off file lacks it.

    Ogg headers give no total length, so a file cut at a page boundary would
    otherwise decode as a complete, shorter recording.
    """
    with open(path, "rb") as fh:
        fh.seek(max(0, size - _OGG_TAIL_BYTES))
        tail = fh.read()
    start = tail.rfind(b"OggS")
    header_end = start + _OGG_PAGE_HEADER
    if start < 0 or len(tail) < header_end:
        raise _corrupt("the Ogg stream has no end")
    segments = tail[header_end - 1]
    page_end = header_end + segments + sum(tail[header_end : header_end + segments])
    if page_end > len(tail) or not tail[start + 5] & _OGG_EOS_FLAG:
        raise _corrupt("the Ogg stream has no end")


def _corrupt(reason: str | None = None) -> Unprocessable:
    because = f" ({reason})" if reason else ""
    return Unprocessable(
        f"The audio could not be decoded{because}: the file is corrupt or truncated.",
        title="Corrupt audio",
    )


def probe_audio(path: Path) -> ProbedAudio:
    """Sniff, open and fully decode ``path``; raise 415 for other types and 422 for damage."""
    size = path.stat().st_size
    if size == 0:
        raise Unprocessable(
            "The upload is empty: send the audio file as the body.", title="Empty upload"
        )
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    sniff(head)
    _check_riff_length(head, size)
    try:
        with soundfile.SoundFile(path) as audio:
            fmt = _FORMATS.get((audio.format, None)) or _FORMATS.get((audio.format, audio.subtype))
            if fmt is None:
                raise UnsupportedMediaType(
                    f"{audio.format}/{audio.subtype} audio is not supported; "
                    f"upload {ACCEPTED_DESCRIPTION}.",
                    title="Unsupported audio format",
                )
            if not (1000 <= audio.samplerate <= 768_000 and 1 <= audio.channels <= 32):
                raise _corrupt(f"{audio.samplerate} Hz, {audio.channels} channels")
            declared = audio.frames
            decoded = 0
            # Decoding everything is what catches a truncated FLAC or MP3: their
            # headers promise the full length whatever follows.
            while block := len(audio.read(_DECODE_BLOCK_FRAMES, dtype="int16")):
                decoded += block
            probed = ProbedAudio(fmt, audio.subtype, audio.samplerate, audio.channels, decoded)
    except (soundfile.LibsndfileError, RuntimeError, ValueError, EOFError):
        # libsndfile's own messages mislead here ("not a regular file" for a cut MP3).
        raise _corrupt() from None
    if probed.format.extension in ("ogg", "opus"):
        _check_ogg_ends(path, size)
    if decoded == 0:
        raise _corrupt("no audio frames")
    tolerance = max(0.01 * declared, 0.25 * probed.sample_rate)
    declared_known = 0 < declared < _UNKNOWN_FRAME_COUNT
    if declared_known and declared - decoded > tolerance:
        present = f"{decoded / probed.sample_rate:.1f} of {declared / probed.sample_rate:.1f} s"
        raise _corrupt(f"only {present} of audio present")
    return probed

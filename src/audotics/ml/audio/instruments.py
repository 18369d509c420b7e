"""Synthesiser voices for the ground-truth generator: one function per timbre family.

Every voice is vectorised numpy: wavetable oscillators (additive timbres looked up
per sample), FM pairs, filtered saw waves (subtractive), Karplus-Strong strings
computed one delay-line period per step, and noise-based drums. A voice renders
one note of ``n`` samples, release included, at full scale; the score sets levels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.signal import butter, sosfilt

TABLE_SIZE = 4096
# Hammond-like drawbars 8', 4', 2 2/3', 2', 1 1/3', 1' as harmonic -> level.
_DRAWBARS = {1: 1.0, 2: 0.8, 3: 0.6, 4: 0.5, 6: 0.3, 8: 0.2}


def midi_to_hz(pitch: float) -> float:
    return float(440.0 * 2.0 ** ((pitch - 69.0) / 12.0))


@lru_cache(maxsize=256)
def _wavetable(shape: str, harmonics: int) -> np.ndarray:
    """One period of a band-limited waveform with ``harmonics`` partials (cached)."""
    k = np.arange(1, harmonics + 1, dtype=np.float64)
    amps = {
        "saw": 1.0 / k,
        "square": np.where(k % 2 == 1, 1.0 / k, 0.0),
        "triangle": np.where(k % 2 == 1, 1.0 / k**2, 0.0),
        "organ": np.array([_DRAWBARS.get(int(h), 0.0) for h in k]),
        # Vowel "ah": partials near 700 Hz and 1100 Hz formants stand out for a mid voice.
        "choir": np.exp(-0.5 * ((k - 3.0) / 1.5) ** 2)
        + 0.5 * np.exp(-0.5 * ((k - 5.0) / 1.2) ** 2)
        + 0.3 / k,
        "soft": 1.0 / k**2.5,
    }[shape]
    phase = np.arange(TABLE_SIZE) / TABLE_SIZE
    table = np.sin(2 * np.pi * np.outer(phase, k)) @ amps
    peak = float(np.max(np.abs(table))) or 1.0
    return (table / peak).astype(np.float64)


def oscillator(
    shape: str,
    freq: float,
    n: int,
    sr: int,
    vibrato_hz: float = 0.0,
    vibrato_cents: float = 0.0,
    phase0: float = 0.0,
) -> np.ndarray:
    """Table-lookup oscillator, partials limited below Nyquist for this pitch."""
    harmonics = max(1, min(48, int(0.45 * sr / freq)))
    table = _wavetable(shape, harmonics)
    t = np.arange(n) / sr
    if vibrato_cents > 0:
        # Vibrato fades in so the onset is at pitch, as a player would.
        depth = vibrato_cents * np.minimum(1.0, t / 0.4)
        inst = freq * 2.0 ** (depth * np.sin(2 * np.pi * vibrato_hz * t) / 1200.0)
        phase = phase0 + np.cumsum(inst) / sr
    else:
        phase = phase0 + freq * t
    index = ((phase % 1.0) * TABLE_SIZE).astype(np.int64)
    return np.asarray(table[np.minimum(index, TABLE_SIZE - 1)])


def envelope(
    n: int, sr: int, attack: float, decay: float, sustain: float, release: float
) -> np.ndarray:
    """ADSR over ``n`` samples; the release occupies the last ``release`` seconds."""
    env = np.full(n, sustain)
    a = min(n, int(attack * sr))
    d = min(n - a, int(decay * sr))
    env[:a] = np.linspace(0.0, 1.0, a, endpoint=False)
    env[a : a + d] = np.linspace(1.0, sustain, d, endpoint=False)
    r = min(n, int(release * sr))
    if r:
        env[n - r :] *= np.linspace(1.0, 0.0, r)
    return env


@lru_cache(maxsize=512)
def _design(order: int, cutoff: float | tuple[float, float], btype: str, sr: int) -> np.ndarray:
    return np.asarray(butter(order, cutoff, btype=btype, fs=sr, output="sos"))


def _lowpass(signal: np.ndarray, cutoff_hz: float, sr: int, order: int = 2) -> np.ndarray:
    cutoff = round(min(max(cutoff_hz, 40.0), 0.45 * sr), 1)
    return np.asarray(sosfilt(_design(order, cutoff, "lowpass", sr), signal))


def _highpass(signal: np.ndarray, cutoff_hz: float, sr: int, order: int = 2) -> np.ndarray:
    return np.asarray(sosfilt(_design(order, min(cutoff_hz, 0.45 * sr), "highpass", sr), signal))


def _bandpass(signal: np.ndarray, low: float, high: float, sr: int) -> np.ndarray:
    return np.asarray(sosfilt(_design(2, (low, min(high, 0.45 * sr)), "bandpass", sr), signal))


# --- pitched voices --------------------------------------------------------------------


Renderer = Callable[[float, int, int, np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class Voice:
    """A pitched timbre: ``render(freq, n, sr, rng)``; ``release_s`` is added after the note."""

    name: str
    family: str  # additive | fm | subtractive | plucked | organ | choir
    render: Renderer
    release_s: float


def _additive(shape: str, a: float, d: float, s: float, r: float, vib: float = 0.0) -> Renderer:
    def render(freq: float, n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
        tone = oscillator(shape, freq, n, sr, 5.0 + rng.random(), vib, rng.random())
        return tone * envelope(n, sr, a, d, s, r)

    return render


def _detuned_pad(shape: str, cents: float, cutoff: float) -> Renderer:
    """Two detuned oscillators through a low-pass: the classic analogue pad (subtractive)."""

    def render(freq: float, n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
        ratio = 2.0 ** (cents / 1200.0)
        tone = oscillator(shape, freq * ratio, n, sr, phase0=rng.random())
        tone += oscillator(shape, freq / ratio, n, sr, phase0=rng.random())
        tone = _lowpass(tone, cutoff, sr)
        return 0.5 * tone * envelope(n, sr, 0.25, 0.3, 0.8, 0.4)

    return render


def _subtractive(
    shape: str, cutoff_mult: float, a: float, d: float, s: float, r: float
) -> Renderer:
    """Saw/square through a low-pass that follows the pitch, plus a decaying bright layer."""

    def render(freq: float, n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
        raw = oscillator(shape, freq, n, sr, phase0=rng.random())
        filtered = _lowpass(raw, freq * cutoff_mult, sr)
        t = np.arange(n) / sr
        # A filter envelope, approximated by fading the unfiltered layer out.
        tone = filtered + raw * 0.6 * np.exp(-t / 0.08)
        return tone * envelope(n, sr, a, d, s, r)

    return render


def _fm(
    ratio: float, index: float, index_decay: float, a: float, d: float, s: float, r: float
) -> Renderer:
    def render(freq: float, n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
        t = np.arange(n) / sr
        modulator = np.sin(2 * np.pi * freq * ratio * t + rng.random())
        depth = index * np.exp(-t / index_decay)
        tone = np.sin(2 * np.pi * freq * t + depth * modulator)
        return tone * envelope(n, sr, a, d, s, r)

    return render


def karplus_strong(
    freq: float,
    n: int,
    sr: int,
    rng: np.random.Generator,
    t60: float = 1.5,
    brightness: float = 0.5,
) -> np.ndarray:
    """Plucked string: y[i] = x[i] + g (c0 y[i-N] + c1 y[i-N-1] + c2 y[i-N-2]).

    The loop filter is the classic two-point average (a low-pass, half a sample of delay)
    convolved with a linear-interpolation fractional delay, so the period is exact.
    Every sample of a period depends only on earlier periods, so one numpy step computes
    a whole period: a note costs n/N vectorised steps instead of n Python steps.
    """
    period = sr / freq
    delay = int(period - 0.5)
    frac = period - 0.5 - delay
    taps = np.convolve([0.5, 0.5], [1.0 - frac, frac])
    gain = 0.001 ** (1.0 / (freq * t60))
    # The string's shape when released: a triangle peaking at the plucking point (partials
    # falling as 1/k^2, like a real pluck) with some noise for the finger or pick.
    length = delay + 2
    point = rng.uniform(0.12, 0.3) * length
    burst = np.interp(np.arange(length), [0.0, point, length - 1.0], [0.0, 1.0, 0.0])
    burst = burst - burst.mean() + 0.3 * rng.uniform(-1.0, 1.0, length)
    burst = _lowpass(burst, freq * (3.0 + 10.0 * brightness), sr, order=2)
    excitation = np.zeros(n)
    excitation[: min(n, burst.size)] = burst[: min(n, burst.size)]
    lead = delay + 2
    buffer = np.zeros(n + lead)  # buffer[lead + i] holds y[i]
    for start in range(0, n, delay):
        end = min(start + delay, n)
        buffer[lead + start : lead + end] = excitation[start:end] + gain * (
            taps[0] * buffer[2 + start : 2 + end]
            + taps[1] * buffer[1 + start : 1 + end]
            + taps[2] * buffer[start:end]
        )
    out = buffer[lead:]
    out -= out.mean()
    peak = float(np.max(np.abs(out))) or 1.0
    return out / peak


def _plucked(t60: float, brightness: float) -> Renderer:
    def render(freq: float, n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
        tone = karplus_strong(freq, n, sr, rng, t60, brightness)
        return tone * envelope(n, sr, 0.002, 0.0, 1.0, 0.05)

    return render


def _piano(freq: float, n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Hammered string: slightly stretched partials, upper partials dying first."""
    t = np.arange(n) / sr
    tone = np.zeros(n)
    inharmonicity = 0.0004
    for k in range(1, 7):
        partial = freq * k * np.sqrt(1 + inharmonicity * k * k)
        if partial > 0.45 * sr:
            break
        decay = 1.2 / (1 + 0.35 * k) * (220.0 / max(freq, 55.0)) ** 0.3
        tone += (
            (0.9**k / k**0.6) * np.sin(2 * np.pi * partial * t + rng.random()) * np.exp(-t / decay)
        )
    return tone * envelope(n, sr, 0.003, 0.0, 1.0, 0.08)


VOICES: dict[str, Voice] = {
    voice.name: voice
    for voice in (
        Voice("sine_bass", "additive", _additive("soft", 0.005, 0.2, 0.7, 0.05), 0.05),
        Voice("fm_bass", "fm", _fm(1.0, 2.5, 0.12, 0.003, 0.25, 0.6, 0.05), 0.05),
        Voice("saw_bass", "subtractive", _subtractive("saw", 3.0, 0.004, 0.2, 0.6, 0.05), 0.05),
        Voice("pluck_bass", "plucked", _plucked(1.2, 0.3), 0.05),
        Voice("warm_pad", "subtractive", _detuned_pad("saw", 7.0, 2200.0), 0.4),
        Voice("string_pad", "additive", _additive("saw", 0.3, 0.2, 0.85, 0.4, vib=12.0), 0.4),
        Voice("choir_pad", "choir", _additive("choir", 0.25, 0.2, 0.9, 0.4, vib=18.0), 0.4),
        Voice("organ", "organ", _additive("organ", 0.01, 0.05, 0.95, 0.06), 0.06),
        Voice("piano", "additive", _piano, 0.08),
        Voice("epiano", "fm", _fm(1.0, 1.6, 0.4, 0.003, 1.2, 0.3, 0.15), 0.15),
        # A harmonic FM ratio whose bright partials fade fast into a pure "ding"; the classic
        # 3.5 ratio would put a flat major third on every note of a minor-key part.
        Voice("bell", "fm", _fm(4.0, 2.0, 0.25, 0.002, 1.5, 0.0, 0.3), 0.3),
        Voice("guitar", "plucked", _plucked(1.8, 0.6), 0.05),
        Voice("harp", "plucked", _plucked(2.5, 0.35), 0.05),
        Voice("square_lead", "additive", _additive("square", 0.01, 0.1, 0.7, 0.08, vib=10.0), 0.08),
        Voice("saw_lead", "subtractive", _subtractive("saw", 6.0, 0.01, 0.15, 0.7, 0.08), 0.08),
        Voice("flute", "additive", _additive("triangle", 0.06, 0.1, 0.85, 0.1, vib=15.0), 0.1),
        Voice("fm_lead", "fm", _fm(2.0, 1.2, 0.3, 0.01, 0.2, 0.7, 0.08), 0.08),
    )
}


# --- drums -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DrumKit:
    name: str
    kick_hz: tuple[float, float]  # start and end of the pitch sweep
    kick_decay: float
    snare_tone_hz: float
    snare_noise: tuple[float, float]  # band of the snare wires
    snare_decay: float
    hat_cutoff: float
    hat_decay: float


DRUM_KITS: dict[str, DrumKit] = {
    kit.name: kit
    for kit in (
        DrumKit("acoustic", (110.0, 55.0), 0.18, 190.0, (1500.0, 8000.0), 0.14, 6000.0, 0.045),
        DrumKit("808", (90.0, 45.0), 0.45, 240.0, (1000.0, 6000.0), 0.12, 7000.0, 0.03),
        DrumKit("909", (160.0, 52.0), 0.22, 210.0, (2000.0, 9000.0), 0.10, 8000.0, 0.05),
        DrumKit("brushes", (95.0, 60.0), 0.15, 170.0, (800.0, 5000.0), 0.20, 4500.0, 0.09),
    )
}


def drum_sample(kit: DrumKit, drum: str, sr: int, rng: np.random.Generator) -> np.ndarray:
    """One hit of ``drum`` (kick, snare, hat, open_hat, crash, tom_high, tom_low)."""
    if drum == "kick":
        n = int(min(0.6, kit.kick_decay * 4) * sr)
        t = np.arange(n) / sr
        start, end = kit.kick_hz
        sweep_tau = 0.03
        phase = 2 * np.pi * (end * t + (start - end) * sweep_tau * (1 - np.exp(-t / sweep_tau)))
        body = np.sin(phase) * np.exp(-t / kit.kick_decay)
        click = _highpass(rng.standard_normal(n), 2000.0, sr) * np.exp(-t / 0.004)
        return body + 0.3 * click
    if drum in ("snare", "tom_high", "tom_low"):
        n = int(kit.snare_decay * 5 * sr)
        t = np.arange(n) / sr
        tone_hz = {"snare": kit.snare_tone_hz, "tom_high": 200.0, "tom_low": 120.0}[drum]
        body = np.sin(2 * np.pi * tone_hz * t * (1 + 0.3 * np.exp(-t / 0.02))) * np.exp(-t / 0.06)
        if drum != "snare":
            return body * 1.2 + 0.1 * rng.standard_normal(n) * np.exp(-t / 0.03)
        wires = _bandpass(rng.standard_normal(n), *kit.snare_noise, sr)
        return 0.6 * body + 1.8 * wires * np.exp(-t / kit.snare_decay)
    decay = {"hat": kit.hat_decay, "open_hat": kit.hat_decay * 6, "crash": 0.9}[drum]
    n = int(decay * 5 * sr)
    t = np.arange(n) / sr
    metal = _highpass(rng.standard_normal(n), kit.hat_cutoff * (0.6 if drum == "crash" else 1), sr)
    return metal * np.exp(-t / decay) * 1.5

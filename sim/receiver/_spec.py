"""The one frozen description of a multi-antenna uplink receiver with per-antenna ADCs."""

from __future__ import annotations

import math
from dataclasses import dataclass

MODULATIONS = ("qpsk", "16qam")
CHANNELS = ("rayleigh", "exp_corr")
QUANTIZERS = ("uniform", "lloyd_max")
COST_MODELS = ("walden", "total_bits")

#: Admissible ADC resolutions (bits): the issue's range.
MIN_ADC_BITS, MAX_ADC_BITS = 1, 10


@dataclass(frozen=True)
class ReceiverSpec:
    """A multi-antenna uplink: Nr antennas, K single-antenna users, one b_i-bit ADC pair per
    antenna (I and Q).

    Drives the simulation (``bitsmith.sim.receiver``) and the cost model
    (``bitsmith.hwmodels.receiver``); nothing re-derives these numbers elsewhere.

    Parameters
    ----------
    n_rx : int
        Receive antennas Nr (4-256).
    n_users : int
        Single-antenna users K (1 <= K <= Nr).
    modulation : str
        ``"qpsk"`` or ``"16qam"`` (Gray mapped, unit average symbol energy).
    channel : str
        ``"rayleigh"`` (i.i.d. CN(0, 1) entries) or ``"exp_corr"`` (receive correlation
        r**|i-j| between antennas i and j).
    correlation : float
        r of the exponentially correlated channel (0 <= r < 1); unused for Rayleigh.
    quantizer : str
        ``"uniform"``: mid-rise uniform ADC with the MSE-optimal step for a Gaussian input;
        ``"lloyd_max"``: the MSE-optimal non-uniform quantizer (the AQNM reference).
    min_bits, max_bits : int
        Admissible ADC resolutions (bits), within 1..10.
    fom_j : float
        Walden figure of merit (J per conversion step).
    fs_hz : float
        ADC sampling rate (Hz).
    cost_model : str
        ``"walden"`` (power, integer unit 2 * FOM * fs W per antenna and 2**b) or
        ``"total_bits"`` (2 * b bits per antenna: I and Q).
    """

    n_rx: int = 32
    n_users: int = 8
    modulation: str = "qpsk"
    channel: str = "rayleigh"
    correlation: float = 0.5
    quantizer: str = "uniform"
    min_bits: int = MIN_ADC_BITS
    max_bits: int = MAX_ADC_BITS
    fom_j: float = 494e-15
    fs_hz: float = 1e9
    cost_model: str = "walden"

    def __post_init__(self):
        if not 1 <= self.n_rx <= 256:
            raise ValueError(f"n_rx must be between 1 and 256 antennas, not {self.n_rx}")
        if not 1 <= self.n_users <= self.n_rx:
            raise ValueError(f"n_users must be between 1 and n_rx ({self.n_rx}), "
                             f"not {self.n_users}")
        for name, value, allowed in (("modulation", self.modulation, MODULATIONS),
                                     ("channel", self.channel, CHANNELS),
                                     ("quantizer", self.quantizer, QUANTIZERS),
                                     ("cost_model", self.cost_model, COST_MODELS)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, not {value!r}")
        if not 0.0 <= self.correlation < 1.0:
            raise ValueError(f"correlation must lie in [0, 1), not {self.correlation}")
        if not MIN_ADC_BITS <= self.min_bits <= self.max_bits <= MAX_ADC_BITS:
            raise ValueError(f"ADC bits must satisfy {MIN_ADC_BITS} <= min_bits <= max_bits "
                             f"<= {MAX_ADC_BITS}, not {self.min_bits}..{self.max_bits}")
        for name in ("fom_j", "fs_hz"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive finite number, not {v}")

    @property
    def bits_per_symbol(self) -> int:
        """Bits carried by one symbol (2 for QPSK, 4 for 16-QAM)."""
        return 2 if self.modulation == "qpsk" else 4

    @property
    def widths(self) -> tuple[int, ...]:
        """Admissible ADC resolutions (bits)."""
        return tuple(range(self.min_bits, self.max_bits + 1))

"""Time resolution of an RR series (the strap's 1/1024 s, a file's 1/128 s ...), detected from its values.

Artifact correction (``analysis.clean``) floors its thresholds at this step and quality grading
(``analysis.quality``) charges the rounding error to a window; neither is decided here.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import ArrayLike

from analysis.bounds import RR_MAX_MS, RR_MIN_MS

#: Resolutions recognised, in ms, coarsest first: 1/125 s and 1/128 s (Holter and PhysioNet
#: files), 1/200, 1/250, 1/256, 1/500 and 1/512 s (ECG sampling rates), 1 ms, and the Bluetooth
#: Heart Rate Measurement's 1/1024 s (Bluetooth SIG, Heart Rate Service 1.0, RR-Interval field).
KNOWN_RESOLUTIONS_MS: Final[tuple[float, ...]] = (
    8.0,
    1000.0 / 128,
    5.0,
    4.0,
    1000.0 / 256,
    2.0,
    1000.0 / 512,
    1.0,
    1000.0 / 1024,
)
#: Share of values that must lie on a lattice for it to count as the series' resolution (a few
#: values may be corrections or sums of fragments).
LATTICE_SHARE: Final[float] = 0.99
#: Values examined (evenly spaced over the series); enough to tell the lattices apart.
SAMPLE_SIZE: Final[int] = 4096
#: Fewer in-range values than this: a coarse lattice cannot be told from chance; only 1 ms
#: (integers) and 1/1024 s are recognised.
MIN_VALUES: Final[int] = 30
#: Tolerance for "a whole multiple", relative to the step.
_EXACT_TOL: Final[float] = 1e-6


def _on_lattice(values: np.ndarray, step_ms: float, rounded_to_ms: bool) -> bool:
    """Whether at least ``LATTICE_SHARE`` of ``values`` are multiples of ``step_ms``.

    ``rounded_to_ms``: the multiples were written as whole milliseconds (a 1/128 s series stored in
    integer ms), so a value may lie up to 0.5 ms off its multiple.
    """
    k = np.round(values / step_ms)
    off = np.abs(values - k * step_ms)
    tol = 0.5 + 1e-9 if rounded_to_ms else _EXACT_TOL * step_ms
    return bool(np.mean(off <= tol) >= LATTICE_SHARE)


def detect_resolution_ms(rr_ms: ArrayLike) -> float:
    """The time resolution of an RR series, ms, or 0.0 when its values lie on no known lattice.

    Parameters
    ----------
    rr_ms:
        RR intervals, ms. Values outside ``RR_MIN_MS``-``RR_MAX_MS`` are ignored.

    Returns
    -------
    float
        The coarsest step of :data:`KNOWN_RESOLUTIONS_MS` on which at least 99 % of the values lie,
        exactly or (for the non-integer steps 1/128, 1/256 and 1/512 s) after rounding to whole
        milliseconds; 0.0 for continuous values (e.g. simulated, unrounded).

    Notes
    -----
    A coarse lattice is tried before a fine one because every multiple of 4 ms is also one of 1 ms.
    Integer values are taken as 1 ms unless they also fit a coarser lattice (e.g. 1/128 s rounded to
    ms: 742, 750, 758, 766 ...; about 13 % of arbitrary integers lie within 0.5 ms of a multiple of
    7.8125 ms, so a real 1 ms series never passes for it). With fewer than :data:`MIN_VALUES`
    values only 1 ms and 1/1024 s are recognised.
    """
    x = np.asarray(rr_ms, dtype=np.float64).ravel()
    x = x[np.isfinite(x) & (x >= RR_MIN_MS) & (x <= RR_MAX_MS)]
    if x.size == 0:
        return 0.0
    if x.size > SAMPLE_SIZE:
        x = x[np.linspace(0, x.size - 1, SAMPLE_SIZE).astype(np.intp)]
    candidates: list[tuple[float, bool]] = []
    if x.size >= MIN_VALUES:
        for step in KNOWN_RESOLUTIONS_MS:
            if step > 1.0:
                candidates.append((step, False))
                if step != round(step):
                    candidates.append((step, True))
    candidates += [(1.0, False), (1000.0 / 1024, False)]
    for step, rounded in candidates:
        if _on_lattice(x, step, rounded):
            return step
    return 0.0

"""Named physiological bounds, window defaults and per-marker minimum recording lengths.

Only constants live here; the modules that compute markers decide how to apply them.
"""

from __future__ import annotations

from typing import Final

#: Shortest RR interval accepted as a heartbeat, in ms (240 bpm). Anything shorter is not a
#: human cardiac cycle at rest or in daily life (Task Force 1996 upper HR range ~ 200 bpm): it is a
#: fragment (noise detected as a beat), merged with its neighbour by artifact correction.
RR_MIN_MS: Final[float] = 250.0
#: Longest RR interval accepted, in ms (24 bpm). Longer values are dropouts, not beats.
RR_MAX_MS: Final[float] = 2500.0

#: Default analysis window, in s (the 5-minute short-term recording of Task Force 1996).
DEFAULT_WINDOW_S: Final[float] = 300.0

#: A beat's given time may exceed the previous beat's by at most this much (s) before the
#: series is treated as interrupted: artifact correction never bridges such a gap.
GAP_MAX_S: Final[float] = 3.0
#: ... or by this multiple of the beat's own RR interval.
GAP_MAX_RR_RATIO: Final[float] = 2.0
#: neurokit2's tolerance (ms) for a beat time difference to match its interval
#: (``intervals_successive``, ``thresh_unequal``): pairs outside it are not successive.
SUCCESSIVE_TOLERANCE_MS: Final[float] = 10.0

#: Minimum NN beats in a window for any marker (SDNN, SD1 and SD2 need two successive pairs).
MIN_BEATS: Final[int] = 3
#: Minimum covered duration (s) for time-domain, Poincaré and stress-index markers: ultra-short
#: RMSSD agrees with 5-min values from 30 s on (Munoz et al. 2015, PLoS One 10:e0138921).
TIME_DOMAIN_MIN_S: Final[float] = 30.0
#: Task Force 1996: HF power needs at least 1 min (ten cycles of its lowest frequency, 0.15 Hz).
#: Frequency-domain markers use one gap-free stretch (the window's longest): HF is NaN when that
#: stretch is shorter than this.
HF_MIN_S: Final[float] = 60.0
#: Task Force 1996: LF power needs at least 2 min (LF/HF likewise), in one gap-free stretch.
LF_MIN_S: Final[float] = 120.0
#: DFA α1 uses boxes of 4-11 beats (Peng et al. 1995); below ~100 beats too few boxes remain
#: for a stable slope (neurokit2 itself refuses fewer than 12).
DFA_ALPHA1_MIN_BEATS: Final[int] = 100
#: Sample entropy (m = 2) needs about 10^m to 20^m points (Richman & Moorman 2000).
SAMPEN_MIN_BEATS: Final[int] = 100

#: Baevsky stress index histogram bin width, in ms (Baevsky & Chernikova 2017).
STRESS_BIN_MS: Final[float] = 50.0

#: Quality grading: artifact share (corrected or removed beats) above which a window is
#: fair / poor.
ARTIFACT_SHARE_FAIR: Final[float] = 0.05
ARTIFACT_SHARE_POOR: Final[float] = 0.20
#: Fraction of the window covered by NN intervals below which a window is fair / poor.
COVERAGE_FAIR: Final[float] = 0.9
COVERAGE_POOR: Final[float] = 0.5
#: Expected relative error of RMSSD (``analysis.quality.expected_rmssd_error``) above which a
#: window is fair / poor (ln RMSSD moves by about the same amount).
EXPECTED_ERROR_FAIR: Final[float] = 0.05
EXPECTED_ERROR_POOR: Final[float] = 0.20
#: Relative RMSSD error per unit of corrected-beat share. Simulated 5-minute windows (ECGSYN-type
#: RR, ln RMSSD 2.8-4.5, 45-90 bpm, ectopic/missed/extra beats at 0.5-5 %) corrected by
#: ``analysis.clean`` keep a median |RMSSD error| of about twice the share of corrected beats
#: (2.0-2.5; benchmarks/analysis.py prints the check).
CORRECTION_ERROR_PER_SHARE: Final[float] = 2.0
#: RMSSD above this fraction of the mean NN interval after correction is not sinus rhythm: the
#: corrected series still alternates between short and long beats (bigeminy, trigeminy, runs of
#: ectopic beats, atrial fibrillation) and every marker describes the arrhythmia. Sinus rhythm
#: stays well below: 0.07-0.11 in the pyhrv recordings of tests/data, at most 0.20 in
#: ``analysis.simulate`` series up to ln RMSSD 5 at 40 bpm; the Polar H10 recording with PVCs in
#: tests/data reads 0.57 after correction.
ECTOPY_RMSSD_REL_MAX: Final[float] = 0.25
#: Windows longer than this are graded no better than fair: markers of a window that spans
#: changing states (sleep, activity) are not stationary; short-term HRV is defined on 5 minutes
#: (Task Force 1996) and frequency-domain and nonlinear estimators assume stationarity.
STATIONARY_WINDOW_MAX_S: Final[float] = 600.0

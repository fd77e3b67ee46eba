"""Regression with AR(1) errors on a calendar-day grid with missing days.

Exact AR(1) correlation between observed days, the restricted (REML) likelihood profile of ρ,
the GLS fit itself (``statsmodels.GLS``) and null replicates for a parametric bootstrap. Which
regressors a model holds and how verdicts use it are left to ``analysis.verdicts`` and
``analysis.band``.

Method
------
Daily values observed on integer days ``t_1 < ... < t_n`` (gaps allowed) follow
``y = X β + e`` with ``e`` a stationary AR(1) process on the day grid:
``Corr(e_i, e_j) = ρ^|t_i - t_j|``, ``Var(e_i) = σ²``. Observing an AR(1) only on some days
leaves a Markov chain, so the exact likelihood whitens with
``ẽ_1 = e_1``, ``ẽ_i = (e_i - ρ^g e_{i-1}) / sqrt(1 - ρ^{2g})`` (``g`` = gap in days), and
``log|R| = Σ log(1 - ρ^{2g})`` (e.g. Jones 1980). ρ is estimated by maximising the restricted
likelihood with σ² profiled out,
``ℓ_R(ρ) = -½ [(n - p) log SSR(ρ) + log|R(ρ)| + log|X' R(ρ)⁻¹ X|]`` (Harville 1974), on a
grid; REML is much less biased than ML or Yule–Walker for short regressions with AR(1) errors
(Cheang & Reinsel 2000), though still biased low: which is why ``analysis.verdicts``
calibrates its tests by a parametric bootstrap instead of trusting the plug-in.

References
----------
Harville DA (1974). Bayesian inference for variance components using only error contrasts.
Biometrika 61:383-385.
Jones RH (1980). Maximum likelihood fitting of ARMA models to time series with missing
observations. Technometrics 22:389-395.
Cheang WK, Reinsel GC (2000). Bias reduction of autoregressive estimates in time series
regression model through restricted maximum likelihood. J Am Stat Assoc 95:1173-1184.
Davison AC, Hinkley DV (1997). Bootstrap Methods and their Application, ch. 4 (Monte Carlo
tests). Cambridge University Press.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import statsmodels.api as sm
from numpy.typing import NDArray
from scipy import stats

__all__ = [
    "RHO_GRID",
    "Ar1Profile",
    "ar1_correlation",
    "gls_fit",
    "null_t_statistics",
    "reml_profile",
    "simulate_ar1",
]

#: Values of ρ searched (step 0.02). Day-to-day autocorrelation of daily HRV is not negative
#: (a good day tends to follow a good day), so the search starts at 0; above 0.98 an AR(1) on a
#: few weeks cannot be told from a random walk, and the verdicts say so through very wide
#: intervals rather than a larger ρ.
RHO_GRID: Final[NDArray[np.float64]] = np.round(np.arange(0.0, 0.98 + 1e-9, 0.02), 2)
#: Residual degrees of freedom below which no model is fitted.
MIN_DF_RESID: Final[int] = 3


@dataclass(frozen=True, eq=False)
class Ar1Profile:
    """REML profile of ρ for one data set.

    Attributes
    ----------
    rho_hat:
        Grid value maximising the restricted likelihood.
    loglik:
        ``ℓ_R`` on :data:`RHO_GRID` (additive constants dropped).
    """

    rho_hat: float
    loglik: NDArray[np.float64]

    def upper_bound(self, level: float) -> float:
        """One-sided upper confidence bound of ρ at ``level`` from the likelihood ratio.

        The largest grid ρ ≥ ρ̂ with ``2 (ℓ_R(ρ̂) - ℓ_R(ρ)) <= χ²₁(2·level - 1)``.
        """
        if not 0.5 <= level < 1.0:
            raise ValueError(f"level must be in [0.5, 1), got {level}")
        crit = float(stats.chi2.ppf(2.0 * level - 1.0, 1))
        top = float(np.max(self.loglik))
        ok = (2.0 * (top - self.loglik) <= crit) & (self.rho_hat <= RHO_GRID)
        return float(RHO_GRID[np.flatnonzero(ok).max()])


def ar1_correlation(t_days: NDArray[np.float64], rho: float) -> NDArray[np.float64]:
    """``R_ij = ρ^|t_i - t_j|``: the AR(1) correlation between observed days ``t``."""
    lag = np.abs(t_days[:, None] - t_days[None, :])
    out: NDArray[np.float64] = np.power(rho, lag) if rho != 0.0 else (lag == 0).astype(float)
    return out


@dataclass(frozen=True, eq=False)
class _GapSums:
    """Cross products of consecutive observations grouped by the gap between them.

    Whitening an AR(1) observed on days ``t`` only combines each observation with the previous
    one, weighted by ``ρ^g`` for a gap of ``g`` days. So every whitened cross product
    (``X̃ᵀX̃``, ``X̃ᵀỹ``, ``ỹᵀỹ``) for any ρ is a weighted sum of these few sums per distinct
    gap: the REML profile over a grid of ρ, for many series at once, never builds the whitened
    series themselves.
    """

    gaps: NDArray[np.float64]  # (U,) distinct gaps, days
    count: NDArray[np.float64]  # (U,) pairs with that gap
    xx0: NDArray[np.float64]  # x_1 x_1ᵀ (p, p)
    xx: NDArray[
        np.float64
    ]  # (U, 3, p, p): Σ x_i x_iᵀ, Σ x_i x_{i-1}ᵀ + transpose, Σ x_{i-1} x_{i-1}ᵀ
    xy0: NDArray[np.float64]  # x_1 y_1 (p, B)
    xy: NDArray[np.float64]  # (U, 3, p, B): the same with y
    yy0: NDArray[np.float64]  # y_1² (B,)
    yy: NDArray[np.float64]  # (U, 3, B)


def _gap_sums(
    t_days: NDArray[np.float64], exog: NDArray[np.float64], ys: NDArray[np.float64]
) -> _GapSums:
    gaps = np.diff(t_days)
    distinct, which = np.unique(gaps, return_inverse=True)
    u, p, b = distinct.size, exog.shape[1], ys.shape[1]
    xx = np.empty((u, 3, p, p))
    xy = np.empty((u, 3, p, b))
    yy = np.empty((u, 3, b))
    x_cur, x_lag, y_cur, y_lag = exog[1:], exog[:-1], ys[1:], ys[:-1]
    for k in range(u):
        sel = which == k
        xc, xl, yc, yl = x_cur[sel], x_lag[sel], y_cur[sel], y_lag[sel]
        cross = xc.T @ xl
        xx[k, 0], xx[k, 1], xx[k, 2] = xc.T @ xc, cross + cross.T, xl.T @ xl
        xy[k, 0], xy[k, 1], xy[k, 2] = xc.T @ yc, xc.T @ yl + xl.T @ yc, xl.T @ yl
        yy[k, 0], yy[k, 1], yy[k, 2] = (yc * yc).sum(0), 2.0 * (yc * yl).sum(0), (yl * yl).sum(0)
    return _GapSums(
        gaps=distinct,
        count=np.bincount(which, minlength=u).astype(np.float64),
        xx0=np.outer(exog[0], exog[0]),
        xx=xx,
        xy0=exog[0][:, None] * ys[0][None, :],
        xy=xy,
        yy0=ys[0] ** 2,
        yy=yy,
    )


def _profile(
    t_days: NDArray[np.float64], ys: NDArray[np.float64], exog: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """REML log-likelihood (G, B) of each series in ``ys``, and per grid point ``(X̃ᵀX̃)⁻¹``
    (G, p, p), the GLS coefficients (G, p, B) and residual sums of squares (G, B)."""
    n, p = exog.shape
    sums = _gap_sums(t_days, exog, ys)
    phi = np.power(RHO_GRID[:, None], sums.gaps[None, :])  # (G, U)
    s2 = 1.0 - phi**2
    # weights of (current², cross, lagged²) in the whitened products, per grid point and gap
    w = np.stack((1.0 / s2, -phi / s2, phi**2 / s2), axis=2)  # (G, U, 3)
    xtx = sums.xx0 + np.einsum("guk,ukpq->gpq", w, sums.xx)
    xty = sums.xy0 + np.einsum("guk,ukpb->gpb", w, sums.xy)
    yty = sums.yy0 + np.einsum("guk,ukb->gb", w, sums.yy)
    xtx_inv = np.linalg.inv(xtx)
    beta = np.matmul(xtx_inv, xty)
    ssr = np.maximum(yty - np.einsum("gpb,gpb->gb", xty, beta), 1e-300)
    logdet_r = np.log(s2) @ sums.count  # (G,)
    logdet_xx = np.linalg.slogdet(xtx)[1]  # (G,)
    ll = -0.5 * ((n - p) * np.log(ssr) + logdet_r[:, None] + logdet_xx[:, None])
    return ll, xtx_inv, beta, ssr


def reml_profile(
    t_days: NDArray[np.float64], y: NDArray[np.float64], exog: NDArray[np.float64]
) -> Ar1Profile:
    """REML profile of ρ over :data:`RHO_GRID` for ``y = exog β + AR(1)`` on days ``t_days``.

    Parameters
    ----------
    t_days:
        Observation days, strictly increasing (integers as floats).
    y:
        Observed values.
    exog:
        Full-rank design matrix, one row per observation.
    """
    ll, _, _, _ = _profile(t_days, y[:, None], exog)
    col = ll[:, 0]
    return Ar1Profile(rho_hat=float(RHO_GRID[int(np.argmax(col))]), loglik=col)


def gls_fit(
    t_days: NDArray[np.float64], y: NDArray[np.float64], exog: NDArray[np.float64], rho: float
) -> Any:
    """``statsmodels`` GLS of ``y`` on ``exog`` with AR(1) correlation ρ between the days.

    Returns the ``RegressionResults`` (params, bse, t-tests on ``df_resid = n - p``).
    """
    return sm.GLS(y, exog, sigma=ar1_correlation(t_days, rho)).fit()


def simulate_ar1(
    t_days: NDArray[np.float64], rho: float, n_rep: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """``n_rep`` stationary unit-variance AR(1) series observed on days ``t_days`` (n, n_rep)."""
    n = t_days.size
    z = rng.standard_normal((n, n_rep))
    out = np.empty((n, n_rep), dtype=np.float64)
    out[0] = z[0]
    phi = np.power(rho, np.diff(t_days)) if rho != 0.0 else np.zeros(n - 1)
    scale = np.sqrt(1.0 - phi**2)
    for i in range(1, n):
        out[i] = phi[i - 1] * out[i - 1] + scale[i - 1] * z[i]
    return out


def null_t_statistics(
    t_days: NDArray[np.float64],
    exog: NDArray[np.float64],
    columns: list[int],
    rho: float,
    n_rep: int,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """t statistics of ``columns`` in null replicates refitted exactly as the data were.

    Each replicate is AR(1) noise with ``rho`` on the observed days (the statistics do not
    depend on β or σ, so none is added); it is refitted with its own REML ρ̂ and GLS, as
    :func:`reml_profile` and :func:`gls_fit` do for the data. Returns ``(n_rep, len(columns))``.
    """
    n, p = exog.shape
    ys = simulate_ar1(t_days, rho, n_rep, rng)
    ll, xtx_inv, beta, ssr = _profile(t_days, ys, exog)
    best = np.argmax(ll, axis=0)
    rep = np.arange(n_rep)
    cols = np.asarray(columns, dtype=np.intp)
    diag = np.diagonal(xtx_inv, axis1=1, axis2=2)[best][:, cols]
    est = beta[best, :, rep][:, cols]
    s2 = ssr[best, rep] / (n - p)
    out: NDArray[np.float64] = est / np.sqrt(s2[:, None] * diag)
    return out

"""Reference solutions of dmacycle's fits with numpy/scipy, for validation and benchmarks only.

They solve the same problems as analysis/src/*.cpp, written the way a scientist would with
scipy: a recovery read into the same log-time bins (bin_log_time, docs/analysis.md), the
spectrum by scipy.optimize.nnls on the Tikhonov-augmented system (same unknowns, same weights,
same lambda normalization, same discrepancy rule for the automatic lambda), KWW by
scipy.optimize.curve_fit from a grid of starting points. Not part of the product.
"""
import csv
import numpy as np
from scipy.optimize import nnls, curve_fit

DISCREPANCY_FACTOR = 1.02
TINY_LAMBDA = 1e-12
BINS_PER_DECADE = 50
FULL_WEIGHT_SAMPLES = 16.0
MIN_POOLED_DOF = 30


def load_csv(path, columns):
    with open(path, newline="") as f:
        rows = list(csv.reader(line for line in f if line.strip() and not line.startswith("#")))
    header = [h.strip() for h in rows[0]]
    idx = [header.index(c) for c in columns]
    data = np.array([[float(r[i]) for i in idx] for r in rows[1:]])
    return [data[:, k] for k in range(len(columns))]


def noise_estimate(y):
    d2 = np.abs(y[:-2] - 2 * y[1:-1] + y[2:])
    return np.median(d2) / (0.6745 * np.sqrt(6.0))


def _correlation_factor(n, rho):
    if rho <= 0:
        return np.ones_like(n)
    return np.where(n < 2, 1.0, (1 + rho) / (1 - rho)
                    - 2 * rho * (1 - rho ** n) / (n * (1 - rho) ** 2))


def bin_log_time(t, y):
    """The bins of log time every dmacycle fit of a recovery reads (t > 0, in file order).

    Returns a dict: t (mean time), s (spread of the times), y (mean), n, w (weight), noise (one
    sample's), rho (lag-1 correlation), mean_noise (each bin mean's), residual_noise (the
    weighted RMS a perfect model leaves).
    """
    keep = t > 0
    t, y = t[keep], y[keep]
    key = np.floor(np.log10(t) * BINS_PER_DECADE).astype(np.int64)
    keys, inverse = np.unique(key, return_inverse=True)
    out = {k: [] for k in ("t", "s", "y", "n")}
    ss = dof = dd = pairs_dof = 0.0
    for b in range(len(keys)):
        tb, yb = t[inverse == b], y[inverse == b]
        n = len(tb)
        out["t"].append(tb.mean())
        out["y"].append(yb.mean())
        out["n"].append(n)
        out["s"].append(np.sqrt(np.mean((tb - tb.mean()) ** 2)))
        if n < 2:
            continue
        if np.ptp(tb) > 0:
            if n < 3:
                continue
            slope, intercept = np.polyfit(tb - tb[0], yb, 1)
            ss += np.sum((yb - intercept - slope * (tb - tb[0])) ** 2)
            dof += n - 2
        else:
            ss += np.sum((yb - yb.mean()) ** 2)
            dof += n - 1
        if n >= 3:
            d = np.diff(yb)
            dd += np.sum((d - d.mean()) ** 2)
            pairs_dof += len(d) - 1
    r = {k: np.array(v, dtype=float) for k, v in out.items()}
    r["w"] = np.minimum(r["n"], FULL_WEIGHT_SAMPLES) / FULL_WEIGHT_SAMPLES
    r["rho"] = 0.0
    if dof >= MIN_POOLED_DOF:
        r["noise"] = np.sqrt(ss / dof)
        if pairs_dof >= MIN_POOLED_DOF and ss > 0:
            r["rho"] = float(np.clip(1 - (dd / pairs_dof) / (2 * ss / dof), 0.0, 0.99))
    else:
        r["noise"] = noise_estimate(r["y"])
    r["mean_noise"] = r["noise"] * np.sqrt(_correlation_factor(r["n"], r["rho"]) / r["n"])
    r["residual_noise"] = np.sqrt(np.sum(r["w"] * r["mean_noise"] ** 2) / np.sum(r["w"]))
    return r


def _project_out(kernel, y, free):
    """Eliminate the unregularized free columns (offset, line) by least-squares projection."""
    q, _ = np.linalg.qr(free)
    return kernel - q @ (q.T @ kernel), y - q @ (q.T @ y)


def _spectrum(kernel, y, free, lam, modes, weight=None, noise=None):
    """Weighted rows (weight None: all 1); noise: the RMS residual a perfect model leaves."""
    n = len(y)
    w = np.ones(n) if weight is None else weight
    root_w = np.sqrt(w)
    s = np.max(np.abs(y))
    kp, yp = _project_out(kernel * root_w[:, None], y * root_w, free * root_w[:, None])
    total = np.sum(w)

    def solve(lmb):
        a_mat = np.vstack([kp / (s * np.sqrt(total)), np.sqrt(lmb) / s * np.eye(modes)])
        b = np.concatenate([yp / (s * np.sqrt(total)), np.zeros(modes)])
        a, _ = nnls(a_mat, b, maxiter=50 * modes)
        rms = np.sqrt(np.sum((kp @ a - yp) ** 2) / total)
        return a, rms

    if lam is not None:
        a, rms = solve(lam)
        return a, lam, rms
    target = DISCREPANCY_FACTOR * max(noise_estimate(y) if noise is None else noise,
                                      solve(TINY_LAMBDA)[1])
    best = TINY_LAMBDA
    for e in range(-11, 3):
        if solve(10.0 ** e)[1] <= target:
            best = 10.0 ** e
        else:
            break
    lo, hi = np.log10(best), np.log10(best) + 1
    for _ in range(6):
        mid = 0.5 * (lo + hi)
        if solve(10.0 ** mid)[1] <= target:
            lo = mid
        else:
            hi = mid
    a, rms = solve(10.0 ** lo)
    return a, 10.0 ** lo, rms


def recovery_spectrum(t, y, t0, modes=60, tau_min=1e-2, tau_max=1e8, lam=None):
    """Returns (tau, a = strain at unloading, lambda, rms residual), fitted to the bins."""
    tau = np.logspace(np.log10(tau_min), np.log10(tau_max), modes)
    b = bin_log_time(t - t0, y)
    kernel = 0.5 * (np.exp(-np.outer(b["t"] - b["s"], 1.0 / tau))
                    + np.exp(-np.outer(b["t"] + b["s"], 1.0 / tau)))
    a, lam, rms = _spectrum(kernel, b["y"], np.ones((len(b["t"]), 1)), lam, modes, b["w"],
                            b["residual_noise"])
    return tau, a, lam, rms


def creep_spectrum(t, y, modes=60, tau_min=1e-2, tau_max=1e8, lam=None):
    tau = np.logspace(np.log10(tau_min), np.log10(tau_max), modes)
    kernel = -np.expm1(-np.outer(t, 1.0 / tau)) / -np.expm1(-t[-1] / tau)
    a, lam, rms = _spectrum(kernel, y, np.column_stack([np.ones_like(t), t]), lam, modes)
    return tau, a, lam, rms


def kww_recovery(t, y, t0):
    """eps = a exp(-(t'/tau)^beta) + c on the bins (the model's mean at t' -/+ spread, rows
    weighted), best of curve_fit runs from a grid of starts."""
    b = bin_log_time(t - t0, y)
    lo, hi, yb, w = b["t"] - b["s"], b["t"] + b["s"], b["y"], b["w"]

    def model(_, a, log_tau, beta, c):
        tau = np.exp(log_tau)
        return a * 0.5 * (np.exp(-(lo / tau) ** beta) + np.exp(-(hi / tau) ** beta)) + c

    best = None
    for log_tau in np.log(np.logspace(np.log10(b["t"][0]), np.log10(10 * b["t"][-1]), 6)):
        for beta in (0.3, 0.6, 0.9):
            p0 = (yb[0] - yb[-1], log_tau, beta, yb[-1])
            try:
                p, cov = curve_fit(model, b["t"], yb, p0=p0, sigma=1 / np.sqrt(w), maxfev=4000)
            except RuntimeError:
                continue
            rms = np.sqrt(np.sum(w * (model(None, *p) - yb) ** 2) / np.sum(w))
            if best is None or rms < best[2]:
                best = (p, cov, rms)
    p, cov, rms = best
    return {"strain_an": p[0], "tau_s": np.exp(p[1]), "beta": p[2], "strain_vp": p[3],
            "rms_residual": rms}


def kww_creep(t, y):
    def model(x, e, a, log_tau, beta, rate):
        return e + a * (1 - np.exp(-(x / np.exp(log_tau)) ** beta)) + rate * x

    best = None
    for log_tau in np.log(np.logspace(np.log10(t[0]), np.log10(10 * t[-1]), 6)):
        for beta in (0.3, 0.6, 0.9):
            p0 = (y[0], y[-1] - y[0], log_tau, beta, 0.0)
            try:
                p, cov = curve_fit(model, t, y, p0=p0, maxfev=4000)
            except RuntimeError:
                continue
            rms = np.sqrt(np.mean((model(t, *p) - y) ** 2))
            if best is None or rms < best[2]:
                best = (p, cov, rms)
    p, cov, rms = best
    return {"strain_e": p[0], "strain_an": p[1], "tau_s": np.exp(p[2]), "beta": p[3],
            "strain_rate_vp": p[4], "rms_residual": rms}


def peaks(tau, a, floor=1e-3):
    """Local maxima of a above floor * max(a), as (tau, summed strain between minima)."""
    out = []
    top = a.max() if len(a) else 0
    for i in range(len(a)):
        left = a[i - 1] if i > 0 else 0
        right = a[i + 1] if i + 1 < len(a) else 0
        if a[i] > left and a[i] >= right and a[i] > floor * top:
            lo = i
            while lo > 0 and a[lo - 1] <= a[lo]:
                lo -= 1
            hi = i
            while hi + 1 < len(a) and a[hi + 1] <= a[hi]:
                hi += 1
            out.append((tau[i], a[lo:hi + 1].sum()))
    return out

#!/usr/bin/python3
"""Fits the real measured curves of ../shared/data/real/ with `dmacycle analyze` and with the
scipy reference (reference_fits.py), side by side; prints the markdown of docs/validation.md.

usage: scripts/reference/validate_real.py [BUILD_DIR]   (needs python3-numpy python3-scipy)
The curves are read from shared/ (GPL-3.0, not copied into the tree); converted files go to a
temporary folder. Rows are passed as they are, repeated time stamps included: a creep fit takes
each row as a point, a recovery's bins average them (docs/analysis.md), and the reference does
the same.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

np.seterr(all="ignore")  # curve_fit's trial points overflow exp(); harmless

import reference_fits as ref

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
REAL = os.path.join(os.path.dirname(ROOT), "shared", "data", "real")
BUILD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
DMACYCLE = os.path.join(BUILD, "bin", "dmacycle")


def read_table(path, skip):
    rows = []
    with open(path) as f:
        for i, line in enumerate(f):
            cells = line.split("\t")
            if i < skip or len(cells) < 2:
                continue
            rows.append((float(cells[0]), float(cells[1])))
    return np.array(rows)


def repeated(t):
    return int(np.sum(np.diff(t) == 0))


def write_csv(path, t, y):
    with open(path, "w") as f:
        f.write("time_s,strain\n")
        for a, b in zip(t, y):
            f.write(f"{a!r},{b!r}\n")


def run(args):
    out = subprocess.run([DMACYCLE, "analyze", *args, "--json"], capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit(f"dmacycle failed: {out.stderr}")
    return json.loads(out.stdout), out.stderr.strip()


def fmt_peaks(peaks):
    return ", ".join(f"{p[0]:.3g} s ({p[1]:.2e})" for p in peaks) or "none"


def report(name, source, note, ours, err, ours_y, ours_t_last, reference_same_lambda, reference_auto,
           kww_ref, scale):
    tau = np.array(ours["spectrum"]["tau_s"])
    print(f"### {name}\n")
    print(f"Source: {source}. {note}\n")
    print("| quantity | dmacycle | scipy reference |")
    print("|---|---|---|")
    if ours["kind"] == "recovery":
        print(f"| samples, log-time bins | {ours['samples']}, {ours['bins']} | same |")
    else:
        print(f"| points | {ours['points']} | same |")
    print(f"| λ (automatic, same normalization) | {ours['lambda']:.3g} | {reference_auto[2]:.3g} |")
    print(f"| RMS residual of the spectrum fit at dmacycle's λ | {ours['rms_residual'] * scale:.4g} "
          f"| {reference_same_lambda[3] * scale:.4g} |")
    y = np.array(ours_y)
    s = np.max(np.abs(y))
    # The fitted unknowns a_i: the strain each mode holds at unloading (recovery) or reaches by
    # the last time T (creep), where dmacycle's creep `strain_at_unload` is eq. (2)'s ε_i.
    ours_a = np.array(ours["spectrum"]["strain_at_unload"])
    if ours["kind"] == "creep":
        ours_a = np.array(ours["spectrum"]["strain"]) * -np.expm1(-ours_t_last / tau)
    objective = lambda rms, a: (rms / s) ** 2 + ours["lambda"] * np.sum((a / s) ** 2)
    print(f"| objective (1/Σw)Σw(r/s)² + λΣ(a/s)² at dmacycle's λ | "
          f"{objective(ours['rms_residual'], ours_a):.6e} | "
          f"{objective(reference_same_lambda[3], reference_same_lambda[1]):.6e} |")
    print(f"| RMS residual at each one's automatic λ | {ours['rms_residual'] * scale:.4g} "
          f"| {reference_auto[3] * scale:.4g} |")
    ours_peaks = [(t, a * scale) for t, a in ref.peaks(tau, ours_a)]
    ref_peaks = [(t, a * scale) for t, a in ref.peaks(tau, reference_same_lambda[1])]
    print(f"| peaks of a_i at dmacycle's λ: grid τ (Σa over the peak) | {fmt_peaks(ours_peaks)} "
          f"| {fmt_peaks(ref_peaks)} |")
    reported = [(p["tau_s"], p["strain"] * scale) for p in ours["peaks"]]
    print(f"| peaks as `dmacycle analyze` reports them: refined τ (Σ eq. 2 ε_i) "
          f"| {fmt_peaks(reported)} | — |")
    print(f"| strain beyond the {ours['window_s']:.4g} s window | "
          f"{ours['strain_beyond_window'] * scale:.3e} | — |")
    k = ours["kww"]
    print(f"| KWW β | {k['beta']:.4f} ± {k['beta_stderr']:.4f} | {kww_ref['beta']:.4f} |")
    print(f"| KWW τ [s] | {k['tau_s']:.4g} ± {k['tau_s_stderr']:.2g} | {kww_ref['tau_s']:.4g} |")
    print(f"| KWW RMS residual | {k['rms_residual'] * scale:.4g} "
          f"| {kww_ref['rms_residual'] * scale:.4g} |")
    if ours["kind"] == "recovery":
        inst = ours["instant_kww"]
        if inst["time_s"]:
            print(f"| instant β (the paper's definition) over t' = {inst['time_s'][0]:.3g} – "
                  f"{inst['time_s'][-1]:.3g} s | {min(inst['beta']):.3f} – {max(inst['beta']):.3f} "
                  f"| — |")
        else:
            print(f"| instant β (the paper's definition) | none: {inst['fit']['message']} | — |")
    if err:
        print(f"\ndmacycle said: `{err}`")
    print()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        # Polystyrene creep compliance, 8 h at 1 Hz: strain under 1 Pa = J(t) numerically.
        ps = read_table(os.path.join(REAL, "creep_ps130_data.csv"), skip=1)
        t, y = ps[:, 0], ps[:, 1]
        path = os.path.join(tmp, "ps130.csv")
        write_csv(path, t, y)
        ours, err = run(["creep", path, "--stress-mpa", "1e-6"])
        report("Polystyrene creep compliance at 130 °C (creep)",
               "comphy-lab/pyRheo, `demos/data/polystyrene/creep_ps130_data.csv`",
               f"J(t) [1/Pa] read as the strain under 1 Pa; figures in 1/Pa. The file's times "
               f"carry 4-5 significant digits, so {repeated(t)} of its {len(ps)} rows repeat "
               f"the time before them; each row is a point.",
               ours, err, y, t[-1], ref.creep_spectrum(t, y, lam=ours["lambda"]),
               ref.creep_spectrum(t, y), ref.kww_creep(t, y), 1.0)

        # The RepTate files as they are: dmacycle reads them (stress=10 Pa from the creep's
        # parameters; the recovery's t0 and strain at unloading from the creep's last row).
        creep_file = os.path.join(REAL, "CM3_Creep.creep")
        creep = read_table(creep_file, skip=3)
        t, y = creep[:, 0], creep[:, 1]
        ours, err = run(["creep", creep_file])
        report("Polyethylene melt CM3 at 150 °C, creep under 10 Pa",
               "jorge-ramirez-upm/RepTate, `data/Creep/CM3_Creep.creep`",
               f"{len(creep)} rows, {repeated(t)} repeating the time before them; each row is a "
               f"point.",
               ours, err, y, t[-1], ref.creep_spectrum(t, y, lam=ours["lambda"]),
               ref.creep_spectrum(t, y), ref.kww_creep(t, y), 1.0)

        t0 = t[-1]
        strain_at_unload = y[-1]
        rec_file = os.path.join(REAL, "CM3_CreepRecovery.creep")
        rec = read_table(rec_file, skip=3)
        tr, gamma = rec[:, 0], rec[:, 1]
        tr, yr = t0 + tr, strain_at_unload - gamma
        ours, err = run(["recovery", rec_file, "--after", creep_file])
        report("Polyethylene melt CM3, recovery after the creep above",
               "jorge-ramirez-upm/RepTate, `data/Creep/CM3_CreepRecovery.creep`",
               f"Recoverable strain γ_r(t') turned into ε = ε(t0) − γ_r with t0 = {t0:g} s and "
               f"ε(t0) = {strain_at_unload:.4g}, the last strain of the creep file; "
               f"{repeated(tr)} rows repeat the time before them (averaged in their bin).",
               ours, err, ref.bin_log_time(tr - t0, yr)["y"], tr[-1], ref.recovery_spectrum(tr, yr, t0, lam=ours["lambda"]),
               ref.recovery_spectrum(tr, yr, t0), ref.kww_recovery(tr, yr, t0), 1.0)


if __name__ == "__main__":
    main()

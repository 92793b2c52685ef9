#!/usr/bin/python3
"""Benchmark: `dmacycle analyze recovery` on 28,800 points (8 h at 1 Hz), 60 modes, automatic
lambda, against the scipy reference solving the same problem, side by side on this machine;
then the same on 10^6 points (8 h at 35 Hz).

usage: bench/bench_recovery.py [BUILD_DIR]   (needs python3-numpy python3-scipy)
Goals: 28,800 points (issue 2) <= 50 ms for the whole command including process start, peak RSS
<= 64 MB, >= 5x faster than the scipy reference; 10^6 points (issue 19) <= 1 s and <= 64 MB.
Prints markdown tables for docs/benchmarks.md.
"""
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
DMACYCLE = os.path.join(BUILD, "bin", "dmacycle")
RUNS = 30
REFERENCE_RUNS = 3
MILLION_RUNS = 5

REFERENCE = """
import sys; sys.path.insert(0, {ref!r})
import reference_fits as r
t, y = r.load_csv({csv!r}, ["time_s", "strain"])
m = t > 28800.0
tau, a, lam, rms = r.recovery_spectrum(t[m], y[m], 28800.0)
print(lam, rms)
"""


def wall_times(argv, runs):
    """Wall time of each whole process, and the largest peak RSS (MB) of any of them."""
    times, peak_rss_mb = [], 0.0
    for _ in range(runs):
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        times.append(time.perf_counter() - start)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            sys.exit(f"{argv[0]} exited {child.returncode}")
        peak_rss_mb = max(peak_rss_mb, usage.ru_maxrss / 1024)
    return times, peak_rss_mb


def main():
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = os.path.join(tmp, "recovery.csv")
        subprocess.run([DMACYCLE, "demo", "--synthetic", "--write-csv", csv_path], stdout=subprocess.DEVNULL)
        rows = sum(1 for _ in open(csv_path)) - 1
        command = [DMACYCLE, "analyze", "recovery", csv_path, "--t0", "28800", "--json"]
        wall_times(command, 3)  # warm the page cache
        ours, rss_mb = wall_times(command, RUNS)
        script = REFERENCE.format(ref=os.path.join(ROOT, "scripts", "reference"), csv=csv_path)
        reference, reference_rss_mb = wall_times(["/usr/bin/python3", "-c", script],
                                                 REFERENCE_RUNS)

    ours_ms = statistics.median(ours) * 1e3
    reference_ms = statistics.median(reference) * 1e3
    print(f"| machine | {platform.processor() or platform.machine()}, {os.cpu_count()} cores |")
    print("|---|---|")
    print(f"| input | {rows} rows (8 h at 1 Hz after t0), 60 modes, automatic lambda |")
    print(f"| dmacycle analyze recovery --json, median of {RUNS} (whole process) | "
          f"{ours_ms:.1f} ms (min {min(ours) * 1e3:.1f}, max {max(ours) * 1e3:.1f}) |")
    print(f"| peak RSS of dmacycle (largest of the runs) | {rss_mb:.1f} MB |")
    print(f"| scipy reference (same problem, nnls + same lambda rule), median of "
          f"{REFERENCE_RUNS} (whole process) | {reference_ms:.0f} ms, {reference_rss_mb:.0f} MB |")
    print(f"| speed-up | {reference_ms / ours_ms:.1f}x |")
    goals = ours_ms <= 50 and rss_mb <= 64 and reference_ms / ours_ms >= 5
    print(f"\ngoals (<= 50 ms, <= 64 MB, >= 5x): {'met' if goals else 'NOT met'}")
    million()


MILLION = """
import numpy as np
t = 28800.0 + np.arange(1, 1000001) * 0.0288
y = 2e-3 + 1e-3 * np.exp(-np.sqrt((t - 28800.0) / 3000.0))
y += np.random.default_rng(1).normal(0.0, 1e-6, t.size)
with open({csv!r}, "w") as f:
    f.write("time_s,strain\\n")
    np.savetxt(f, np.c_[t, y], fmt="%.10g", delimiter=",")
"""


def million():
    """10^6 recovery points: the CSV read and binned, then the same fits."""
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = os.path.join(tmp, "million.csv")
        subprocess.run(["/usr/bin/python3", "-c", MILLION.format(csv=csv_path)], check=True)
        command = [DMACYCLE, "analyze", "recovery", csv_path, "--t0", "28800", "--json"]
        wall_times(command, 1)  # warm the page cache
        ours, rss_mb = wall_times(command, MILLION_RUNS)
        script = REFERENCE.format(ref=os.path.join(ROOT, "scripts", "reference"), csv=csv_path)
        reference, reference_rss_mb = wall_times(["/usr/bin/python3", "-c", script], 1)
    median_s = statistics.median(ours)
    print(f"\n| input | 10^6 rows (8 h at 35 Hz after t0), 60 modes, automatic lambda |")
    print("|---|---|")
    print(f"| dmacycle analyze recovery --json, {MILLION_RUNS} runs (whole process) | "
          f"median {median_s:.2f} s (min {min(ours):.2f}, max {max(ours):.2f}), {rss_mb:.0f} MB |")
    print(f"| scipy reference (same problem), 1 run (whole process) | "
          f"{reference[0]:.2f} s, {reference_rss_mb:.0f} MB |")
    goals = median_s <= 1.0 and rss_mb <= 64
    print(f"\ngoals (<= 1 s, <= 64 MB): {'met' if goals else 'NOT met'}")


if __name__ == "__main__":
    main()

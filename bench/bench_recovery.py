#!/usr/bin/python3
"""Benchmark: `dmacycle analyze recovery` on 28,800 points (8 h at 1 Hz), 60 modes, automatic
lambda, against pyReSpect-time and the scipy reference on the same curve in the same run; then
the same on 10^6 points (8 h at 35 Hz) against the scipy reference.

usage: bench/bench_recovery.py [BUILD_DIR] [--pyrespect DIR]
  (needs python3-numpy python3-scipy; pyReSpect-time also python3-matplotlib)
  DIR (or $PYRESPECT_TIME_DIR): pyReSpect-time's code, a work tree or a bare git repository
  (e.g. shane5ul/pyReSpect-time-legacy). Without it the pyReSpect-time rows are skipped.
Goals (issue 19, point 4), whole process: 28,800 points <= 40 ms and >= 40x faster than
pyReSpect-time; peak RSS <= 64 MB; 10^6 points <= 1 s and <= 64 MB. Every figure is
min / median / max over the runs. Prints markdown tables for docs/benchmarks.md.
Measured 2026-12-07, 2 cores (docs/benchmarks.md): median 15.8 ms, 12.9 MB; pyReSpect-time
2.83 s (179x), scipy reference 303 ms (19x); 10^6 points 0.17 s, 28 MB. All goals met.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = 30
REFERENCE_RUNS = 5
PEER_RUNS = 5
MILLION_RUNS = 5
T0_S = 28800.0

REFERENCE = """
import sys; sys.path.insert(0, {ref!r})
import reference_fits as r
t, y = r.load_csv({csv!r}, ["time_s", "strain"])
m = t > 28800.0
tau, a, lam, rms = r.recovery_spectrum(t[m], y[m], 28800.0)
print(lam, rms)
"""

# pyReSpect-time's legacy code calls np.trapezoid (numpy >= 2.0); on older numpy it is np.trapz.
PEER_LAUNCHER = ("import numpy as np, runpy, sys; "
                 "np.trapezoid = getattr(np, 'trapezoid', None) or np.trapz; "
                 "runpy.run_path(sys.argv[1], run_name='__main__')")


def wall_times(commands, runs, cwd=None, before_each=None):
    """Wall time of each run of `commands` (whole processes, one after the other), and the
    largest peak RSS (MB) of any of them."""
    times, peak_rss_mb = [], 0.0
    for _ in range(runs):
        if before_each:
            before_each()
        start = time.perf_counter()
        for argv in commands:
            child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, cwd=cwd)
            _, status, usage = os.wait4(child.pid, 0)
            code = os.waitstatus_to_exitcode(status)
            if code != 0:
                sys.exit(f"{' '.join(argv)} exited {code}")
            peak_rss_mb = max(peak_rss_mb, usage.ru_maxrss / 1024)
        times.append(time.perf_counter() - start)
    return times, peak_rss_mb


def spread_ms(times):
    """'median ms (min a, max b)'."""
    return (f"{statistics.median(times) * 1e3:.1f} ms (min {min(times) * 1e3:.1f}, "
            f"max {max(times) * 1e3:.1f})")


def spread_s(times):
    return (f"{statistics.median(times):.2f} s (min {min(times):.2f}, "
            f"max {max(times):.2f})")


def reference_command(csv_path):
    script = REFERENCE.format(ref=os.path.join(ROOT, "scripts", "reference"), csv=csv_path)
    return ["/usr/bin/python3", "-c", script]


def copy_peer(source, dest):
    """pyReSpect-time's files into `dest`, from a work tree or (bare) git repository."""
    if os.path.isfile(os.path.join(source, "contSpec.py")):
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns(".git", "output"))
        return
    os.makedirs(dest)
    archive = subprocess.run(["git", "--git-dir", source, "archive", "HEAD"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", dest], input=archive, check=True)
    if not os.path.isfile(os.path.join(dest, "contSpec.py")):
        sys.exit(f"{source}: no contSpec.py (not pyReSpect-time's code?)")


def write_peer_input(csv_path, peer_dir):
    """The recovery as eps(t') = strain at t' = t - t0 > 0, repeated time stamps averaged (it
    wants distinct times), in Gt.dat; inp.dat its own defaults with the file, the plateau
    (eps_vp) on, and plotting off (dmacycle draws nothing either; verbose stays on, as discSpec
    reads contSpec's output/H.dat)."""
    sums = {}
    with open(csv_path) as f:
        header = [h.strip() for h in f.readline().split(",")]
        ti, yi = header.index("time_s"), header.index("strain")
        for line in f:
            cells = line.split(",")
            t = float(cells[ti]) - T0_S
            if t > 0:
                total, count = sums.get(t, (0.0, 0))
                sums[t] = (total + float(cells[yi]), count + 1)
    with open(os.path.join(peer_dir, "Gt.dat"), "w") as f:
        for t in sorted(sums):
            f.write(f"{t:.10g} {sums[t][0] / sums[t][1]:.10g}\n")
    settings = {"GexpFile": "'Gt.dat'", "plateau": "True", "plotting": "False"}
    inp = os.path.join(peer_dir, "inp.dat")
    with open(inp) as f:
        lines = f.readlines()
    with open(inp, "w") as f:
        for line in lines:
            key = line.split(":")[0].strip()
            f.write(f"{key} : {settings[key]}\n" if key in settings else line)
    return len(sums)


def peer_plateau(peer_dir):
    """G0 of pyReSpect-time's discrete spectrum, and its mode count."""
    with open(os.path.join(peer_dir, "output", "dmodes.dat")) as f:
        g0 = float(f.readline().split("=")[1])
        modes = sum(1 for line in f if line.strip())
    return g0, modes


def time_peer(source, csv_path):
    """pyReSpect-time on the recovery, contSpec then discSpec, in a temporary copy."""
    with tempfile.TemporaryDirectory() as tmp:
        peer_dir = os.path.join(tmp, "pyReSpect-time")
        copy_peer(source, peer_dir)
        points = write_peer_input(csv_path, peer_dir)
        output = os.path.join(peer_dir, "output")
        commands = [["/usr/bin/python3", "-c", PEER_LAUNCHER, name]
                    for name in ("contSpec.py", "discSpec.py")]
        clear = lambda: shutil.rmtree(output, ignore_errors=True)  # noqa: E731
        wall_times(commands, 1, peer_dir, clear)  # warm the page cache
        times, rss_mb = wall_times(commands, PEER_RUNS, peer_dir, clear)
        g0, modes = peer_plateau(peer_dir)
    return times, rss_mb, points, g0, modes


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build", nargs="?", default=os.path.join(ROOT, "build"))
    parser.add_argument("--pyrespect", default=os.environ.get("PYRESPECT_TIME_DIR"),
                        help="pyReSpect-time's code (work tree or git repository)")
    args = parser.parse_args()
    dmacycle = os.path.join(args.build, "bin", "dmacycle")
    print(f"| machine | {machine()} |")
    print("|---|---|")
    recovery(dmacycle, args.pyrespect)
    million(dmacycle)


def machine():
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def recovery(dmacycle, pyrespect):
    """28,800 recovery points: ours, the scipy reference and pyReSpect-time, one after the
    other on the same file."""
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = os.path.join(tmp, "recovery.csv")
        subprocess.run([dmacycle, "demo", "--synthetic", "--write-csv", csv_path], check=True,
                       stdout=subprocess.DEVNULL)
        rows = sum(1 for _ in open(csv_path)) - 1
        command = [dmacycle, "analyze", "recovery", csv_path, "--t0", "28800", "--json"]
        wall_times([command], 3)  # warm the page cache
        ours, rss_mb = wall_times([command], RUNS)
        strain_vp = json.loads(subprocess.run(command, check=True, capture_output=True,
                                              text=True).stdout)["strain_vp"]
        reference, reference_rss_mb = wall_times([reference_command(csv_path)], REFERENCE_RUNS)
        peer = time_peer(pyrespect, csv_path) if pyrespect else None

    ours_s = statistics.median(ours)
    print(f"| input | {rows} rows (8 h at 1 Hz after t0), 60 modes, automatic lambda |")
    print(f"| dmacycle analyze recovery --json, {RUNS} runs (whole process) | "
          f"{spread_ms(ours)} |")
    print(f"| peak RSS of dmacycle (largest of the runs) | {rss_mb:.1f} MB |")
    print(f"| dmacycle's eps_vp (spectrum) | {strain_vp:.6g} |")
    print(f"| scipy reference (same problem, nnls + same lambda rule), {REFERENCE_RUNS} runs "
          f"(whole process) | {spread_ms(reference)}, {reference_rss_mb:.0f} MB |")
    print(f"| speed-up against the scipy reference (medians) | "
          f"{statistics.median(reference) / ours_s:.1f}x |")
    if peer is None:
        print("| pyReSpect-time | skipped (no --pyrespect DIR or $PYRESPECT_TIME_DIR) |")
        speedup_ok = False
    else:
        times, peer_rss_mb, points, g0, modes = peer
        speedup = statistics.median(times) / ours_s
        print(f"| pyReSpect-time (contSpec + discSpec on the same {points} points as "
              f"eps(t'), plateau on, defaults, plotting off), {PEER_RUNS} runs "
              f"(whole processes) | {spread_ms(times)}, {peer_rss_mb:.0f} MB; "
              f"G0 {g0:.6g}, {modes} modes |")
        print(f"| speed-up against pyReSpect-time (medians; slowest of ours against fastest "
              f"of it) | {speedup:.1f}x ({min(times) / max(ours):.1f}x) |")
        speedup_ok = speedup >= 40
    goals = ours_s <= 0.040 and rss_mb <= 64 and speedup_ok
    peer_goal = ", >= 40x pyReSpect-time" if peer else ", >= 40x pyReSpect-time (not run)"
    print(f"\ngoals (<= 40 ms, <= 64 MB{peer_goal}): {'met' if goals else 'NOT met'}")


MILLION = """
import numpy as np
t = 28800.0 + np.arange(1, 1000001) * 0.0288
y = 2e-3 + 1e-3 * np.exp(-np.sqrt((t - 28800.0) / 3000.0))
y += np.random.default_rng(1).normal(0.0, 1e-6, t.size)
with open({csv!r}, "w") as f:
    f.write("time_s,strain\\n")
    np.savetxt(f, np.c_[t, y], fmt="%.10g", delimiter=",")
"""


def million(dmacycle):
    """10^6 recovery points: the CSV read and binned, then the same fits."""
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = os.path.join(tmp, "million.csv")
        subprocess.run(["/usr/bin/python3", "-c", MILLION.format(csv=csv_path)], check=True)
        command = [dmacycle, "analyze", "recovery", csv_path, "--t0", "28800", "--json"]
        wall_times([command], 1)  # warm the page cache
        ours, rss_mb = wall_times([command], MILLION_RUNS)
        reference, reference_rss_mb = wall_times([reference_command(csv_path)], REFERENCE_RUNS)
    print(f"\n| input | 10^6 rows (8 h at 35 Hz after t0), 60 modes, automatic lambda |")
    print("|---|---|")
    print(f"| dmacycle analyze recovery --json, {MILLION_RUNS} runs (whole process) | "
          f"{spread_s(ours)}, {rss_mb:.0f} MB |")
    print(f"| scipy reference (same problem), {REFERENCE_RUNS} runs (whole process) | "
          f"{spread_s(reference)}, {reference_rss_mb:.0f} MB |")
    print(f"| speed-up against the scipy reference (medians) | "
          f"{statistics.median(reference) / statistics.median(ours):.1f}x |")
    goals = statistics.median(ours) <= 1.0 and rss_mb <= 64
    print(f"\ngoals (<= 1 s, <= 64 MB): {'met' if goals else 'NOT met'}")


if __name__ == "__main__":
    main()

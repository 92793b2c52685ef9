#!/usr/bin/python3
"""Benchmark: `dmacycle report` on a 160 h run (issue 19, point 3): the shipped 0-200 MPa job
with 80 h of cycling and 80 h of recovery at 10 Hz (5.8 million samples, ~630 MB), made once at
--speed max, then reported RUNS times. Side by side in the same run: the store's own scan of the
columns the report reads (the sqlite3 shell, its text output discarded) and
`dmacycle export` of the same run (a streaming reader that writes every sample).

usage: bench/bench_report.py [BUILD_DIR] [RUNS] [DIR]   (DIR keeps the 160 h store between runs;
needs GNU time, /usr/bin/time)
Goals: report <= 2 s and peak RSS <= 64 MB. Prints a markdown table for docs/benchmarks.md.
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
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
DMACYCLE = os.path.join(BUILD, "bin", "dmacycle")


def timed(argv, runs):
    """Wall and CPU times of each whole process and the largest peak RSS (MB) of any of them, as
    GNU time measures them (os.wait4 from Python would count the forked interpreter's pages)."""
    times, cpu, rss_mb = [], [], 0.0
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M %U %S"] + argv, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr}")
        kb, user, system = done.stderr.strip().splitlines()[-1].split()
        rss_mb = max(rss_mb, int(kb) / 1024)
        cpu.append(float(user) + float(system))
    return times, cpu, rss_mb


def long_store(directory):
    """The 160 h run's store, made once in `directory`."""
    db = os.path.join(directory, "long160.db")
    if os.path.exists(db):
        return db
    job = os.path.join(directory, "long160.yaml")
    with open(os.path.join(ROOT, "config", "jobs", "mode1-0-200.yaml")) as shipped:
        text = shipped.read()
    text = text.replace("  duration: 8 h", "  duration: 80 h").replace("recovery: 8 h", "recovery: 80 h")
    with open(job, "w") as out:
        out.write(text)
    code = subprocess.run([DMACYCLE, "run", job, "--db", db, "--speed", "max"],
                          stdout=subprocess.DEVNULL).returncode
    if code not in (0, 1):  # 1: a fit flagged unusable still leaves a store to report
        sys.exit(f"dmacycle run exited {code}")
    return db


def row(name, measured):
    times, cpu, rss_mb = measured
    return (f"| {name} | {statistics.median(times):.2f} s ({min(times):.2f}–{max(times):.2f}) "
            f"| {statistics.median(cpu):.2f} s | {rss_mb:.1f} MB |")


def main(directory):
    db = long_store(directory)
    samples = subprocess.run(["sqlite3", db, "SELECT count(*) FROM samples WHERE run_id = 1"],
                             capture_output=True, text=True, check=True).stdout.strip()
    out = os.path.join(directory, "report")
    report = [DMACYCLE, "report", "1", "--db", db, "--out", out]
    timed(report, 1)  # warm the page cache
    ours = timed(report, RUNS)
    scan = ["sqlite3", db, "SELECT t_s, segment, stress_pa, strain FROM samples "
            "WHERE run_id = 1 ORDER BY seq"]
    floor = timed(scan, RUNS)
    export = [DMACYCLE, "export", "1", "--db", db, "--out", os.path.join(directory, "run.csv")]
    exported = timed(export, RUNS)
    print(f"| machine | {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} |")
    print(f"| input | run 1: {int(samples):,} samples (160 h at 10 Hz), "
          f"{os.path.getsize(db) / 1e6:.0f} MB store |")
    print(f"| command ({RUNS} runs, whole process) | wall, median (min–max) | CPU, median "
          "| peak RSS |")
    print("|---|---|---|---|")
    print(row("dmacycle report", ours))
    print(row("sqlite3 shell printing the same four columns of every row", floor))
    print(row("dmacycle export (every sample to CSV)", exported))
    met = statistics.median(ours[0]) <= 2 and ours[2] <= 64
    print(f"\ngoals (<= 2 s, <= 64 MB): {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    if len(sys.argv) > 3:
        main(sys.argv[3])
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(tmp)

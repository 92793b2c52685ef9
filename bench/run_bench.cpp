// The whole product on the main job: `dmacycle run config/jobs/mode1-0-200.yaml --speed max`
// (10 min hold + 8 h cycling + 8 h recovery at 10 Hz: the simulator in-process, TCP drivers,
// SQLite, the analysis), beside a shortened variant (10 min + 1 h + 1 h), each as its own
// process so the peak RSS of each is its own, at each sample rate given (`bench_run [REPETITIONS]
// [DIR] [RATE_HZ ...]`, default 10 Hz). Prints the wall time and peak RSS of every repetition and
// their median and range; docs/benchmarks.md records them.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Measurement {
    double wall_s = 0;
    double peak_rss_mb = 0;
    int status = -1;
};

Measurement run_once(const fs::path& job, const fs::path& db, const std::string& rate_hz) {
    fs::remove(db);
    fs::remove(db.string() + "-wal");
    fs::remove(db.string() + "-shm");
    const std::string binary = std::string(DMACYCLE_BIN_DIR) + "/dmacycle";
    std::fflush(stdout);  // or the child inherits what is buffered
    const auto start = std::chrono::steady_clock::now();
    const pid_t child = ::fork();
    if (child == 0) {
        std::freopen("/dev/null", "w", stdout);
        ::execl(binary.c_str(), "dmacycle", "run", job.c_str(), "--db", db.c_str(), "--speed",
                "max", "--sample-rate", rate_hz.c_str(), "--json", static_cast<char*>(nullptr));
        std::_Exit(127);
    }
    int status = 0;
    rusage usage{};
    ::wait4(child, &status, 0, &usage);
    Measurement m;
    m.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    m.peak_rss_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;  // kB on Linux
    m.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return m;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

// Runs `job` `repetitions` times; prints each and the median and range. False if any failed.
bool bench_job(const std::string& label, const fs::path& job, const fs::path& dir,
               const std::string& rate, int repetitions) {
    bool ok = true;
    std::vector<double> walls, rss;
    for (int i = 0; i < repetitions; ++i) {
        const auto m = run_once(job, dir / "bench-run.db", rate);
        std::printf("%-40s run %d: wall %.2f s  peak RSS %.1f MB  exit %d\n", label.c_str(), i + 1,
                    m.wall_s, m.peak_rss_mb, m.status);
        ok = ok && m.status == 0;
        walls.push_back(m.wall_s);
        rss.push_back(m.peak_rss_mb);
    }
    const auto [wall_min, wall_max] = std::minmax_element(walls.begin(), walls.end());
    const auto [rss_min, rss_max] = std::minmax_element(rss.begin(), rss.end());
    std::printf("%-40s median: wall %.2f s (%.2f-%.2f)  peak RSS %.1f MB (%.1f-%.1f)\n",
                label.c_str(), median(walls), *wall_min, *wall_max, median(rss), *rss_min,
                *rss_max);
    std::fflush(stdout);
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    const int repetitions = argc > 1 ? std::atoi(argv[1]) : 3;
    const fs::path dir = argc > 2 ? fs::path(argv[2]) : fs::temp_directory_path();
    const fs::path full = fs::path(DMACYCLE_SOURCE_DIR) / "config" / "jobs" / "mode1-0-200.yaml";

    // The shortened job sits in a jobs/ folder of its own; its profile is found in the source
    // tree's config directory.
    fs::create_directories(dir / "bench-jobs");
    const fs::path short_job = dir / "bench-jobs" / "mode1-0-200-short.yaml";
    {
        std::ifstream in(full);
        std::stringstream text;
        text << in.rdbuf();
        std::string job = text.str();
        job.replace(job.find("duration: 8 h"), 13, "duration: 1 h");
        job.replace(job.find("recovery: 8 h"), 13, "recovery: 1 h");
        std::ofstream(short_job) << job;
    }

    // The sample rates to run both jobs at (default 10 Hz, the service's default).
    std::vector<std::string> rates(argv + std::min(argc, 3), argv + argc);
    if (rates.empty()) {
        rates.push_back("10");
    }
    bool ok = true;
    for (const auto& rate : rates) {
        for (const auto& [label, job] : {std::pair{"10 min + 1 h + 1 h (2.2 h)", short_job},
                                         std::pair{"10 min + 8 h + 8 h (16.2 h)", full}}) {
            ok = bench_job(std::string(label) + " at " + rate + " Hz", job, dir, rate,
                           repetitions) &&
                 ok;
        }
    }
    fs::remove_all(dir / "bench-jobs");
    fs::remove(dir / "bench-run.db");
    fs::remove(dir / "bench-run.db-wal");
    fs::remove(dir / "bench-run.db-shm");
    return ok ? 0 : 1;
}

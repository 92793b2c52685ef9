// Ingest headroom (issue 19, point 6): `dmacycle run` paced, the frame streaming 1 kHz with the
// simulator in-process at SPEED× (1000·SPEED samples a wall second), on the main job shortened
// to 10 s hold + 16 min cycling + 2 min recovery. Each run is its own process; the samples
// missing are read back from the run's store (the `sample_gap` events, which count every hole
// in seq, and the holes left in the stored seq), with the new epochs (`instrument_clock_reset`).
//   bench_paced_ingest [REPETITIONS] [DIR] [SPEED ...]      (default 5, the temp folder, 100 250
//   500)
// DMACYCLE=PATH runs another build's dmacycle (to compare two builds in one session).
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Result {
    int status = -1;
    double wall_s = 0;
    long long stored = 0;
    long long missing = 0;     // the sample_gap events' counts
    long long seq_holes = 0;   // last − first + 1 − stored
    long long new_epochs = 0;  // instrument_clock_reset events
};

long long query_number(sqlite3* db, const char* sql) {
    sqlite3_stmt* statement = nullptr;
    long long value = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
        value = sqlite3_column_int64(statement, 0);
    }
    sqlite3_finalize(statement);
    return value;
}

void read_store(const fs::path& path, Result& r) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        return;
    }
    r.stored = query_number(db, "SELECT count(*) FROM samples");
    r.seq_holes = query_number(db, "SELECT max(seq) - min(seq) + 1 - count(*) FROM samples");
    // "frame: sample_gap: N samples missing between ..."
    r.missing = query_number(
        db,
        "SELECT coalesce(sum(CAST(substr(message, length('frame: sample_gap: ') + 1) AS INTEGER)),"
        " 0) FROM events WHERE message LIKE 'frame: sample_gap: %'");
    r.new_epochs = query_number(
        db, "SELECT count(*) FROM events WHERE message LIKE 'frame: instrument_clock_reset%'");
    sqlite3_close(db);
}

Result run_once(const fs::path& job, const fs::path& db, const std::string& speed) {
    for (const char* suffix : {"", "-wal", "-shm"}) {
        fs::remove(db.string() + suffix);
    }
    const char* other = std::getenv("DMACYCLE");
    const std::string binary =
        other != nullptr ? other : std::string(DMACYCLE_BIN_DIR) + "/dmacycle";
    std::fflush(stdout);  // or the child inherits what is buffered
    const auto start = std::chrono::steady_clock::now();
    const pid_t child = ::fork();
    if (child == 0) {
        std::freopen("/dev/null", "w", stdout);
        ::execl(binary.c_str(), "dmacycle", "run", job.c_str(), "--db", db.c_str(), "--speed",
                speed.c_str(), "--sample-rate", "1000", "--json", static_cast<char*>(nullptr));
        std::_Exit(127);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    Result r;
    r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    read_store(db, r);
    return r;
}

// "median (min-max)" with `decimals` places.
std::string spread(std::vector<double> values, int decimals) {
    std::sort(values.begin(), values.end());
    char text[96];
    std::snprintf(text, sizeof text, "%.*f (%.*f-%.*f)", decimals, values[values.size() / 2],
                  decimals, values.front(), decimals, values.back());
    return text;
}

// The shipped main job with a 10 s hold, 16 min (2 cycles) of cycling and 2 min of recovery.
fs::path short_job(const fs::path& dir) {
    const fs::path full = fs::path(DMACYCLE_SOURCE_DIR) / "config" / "jobs" / "mode1-0-200.yaml";
    std::ifstream in(full);
    std::stringstream text;
    text << in.rdbuf();
    std::string job = text.str();
    job.replace(job.find("hold: 10 min"), 12, "hold: 10 s");
    job.replace(job.find("duration: 8 h"), 13, "duration: 16 min");
    job.replace(job.find("recovery: 8 h"), 13, "recovery: 2 min");
    fs::create_directories(dir / "paced-jobs");
    // The job names its profile; it is looked for in instruments/ beside the jobs' folder.
    fs::create_directories(dir / "instruments");
    fs::copy_file(fs::path(DMACYCLE_SOURCE_DIR) / "config" / "instruments" / "sim-la30.yaml",
                  dir / "instruments" / "sim-la30.yaml", fs::copy_options::overwrite_existing);
    const fs::path path = dir / "paced-jobs" / "mode1-0-200-paced.yaml";
    std::ofstream(path) << job;
    return path;
}

}  // namespace

int main(int argc, char** argv) {
    const int repetitions = argc > 1 ? std::atoi(argv[1]) : 5;
    const fs::path dir = argc > 2 ? fs::path(argv[2]) : fs::temp_directory_path();
    std::vector<std::string> speeds(argv + std::min(argc, 3), argv + argc);
    if (speeds.empty()) {
        speeds = {"100", "250", "500"};
    }
    const fs::path job = short_job(dir);
    const fs::path db = dir / "paced-ingest.db";
    bool ok = true;
    for (const auto& speed : speeds) {
        const std::string label = std::to_string(std::atoi(speed.c_str())) + "k samples/s";
        std::vector<double> missing, holes, epochs, walls;
        for (int i = 0; i < repetitions; ++i) {
            const Result r = run_once(job, db, speed);
            std::printf(
                "%-16s run %d: exit %d  wall %.2f s  stored %lld  missing %lld  "
                "seq holes %lld  new epochs %lld\n",
                label.c_str(), i + 1, r.status, r.wall_s, r.stored, r.missing, r.seq_holes,
                r.new_epochs);
            ok = ok && r.status == 0 && r.missing == 0;
            missing.push_back(static_cast<double>(r.missing));
            holes.push_back(static_cast<double>(r.seq_holes));
            epochs.push_back(static_cast<double>(r.new_epochs));
            walls.push_back(r.wall_s);
        }
        std::printf(
            "%-16s median (min-max) of %d: missing %s  seq holes %s  new epochs %s  "
            "wall %s s\n",
            label.c_str(), repetitions, spread(missing, 0).c_str(), spread(holes, 0).c_str(),
            spread(epochs, 0).c_str(), spread(walls, 2).c_str());
        std::fflush(stdout);
    }
    fs::remove_all(dir / "paced-jobs");
    fs::remove_all(dir / "instruments");
    for (const char* suffix : {"", "-wal", "-shm"}) {
        fs::remove(db.string() + suffix);
    }
    return ok ? 0 : 1;
}

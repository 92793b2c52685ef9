#pragma once
// JobService's implementation, shared by the files that implement it: job_service.cpp (the
// lifecycle, submissions and control requests), job_restart.cpp (restart recovery and the safe
// state), job_executor.cpp (the queue's executor), job_queries.cpp (the API's reads) and
// job_spool.cpp (the spool folder). docs/service.md, docs/api.md, docs/store-schema.md.
#include "dmacycle/service/job_service.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "dmacycle/io/csv_table.hpp"
#include "dmacycle/protocols/plan.hpp"
#include "dmacycle/runner/rig.hpp"
#include "dmacycle/runner/runner.hpp"
#include "dmacycle/runner/safe_state.hpp"
#include "dmacycle/service/log.hpp"
#include "dmacycle/store/sql_connection.hpp"

namespace dmacycle::service::jobs_detail {

namespace fs = std::filesystem;
using Json = nlohmann::json;

inline constexpr const char* service_schema = R"sql(
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  source TEXT NOT NULL,
  job_text TEXT NOT NULL,
  runs_planned INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'completed', 'faulted',
                                         'aborted', 'cancelled', 'interrupted')),
  message TEXT NOT NULL DEFAULT '',
  submitted_utc TEXT NOT NULL,
  started_utc TEXT,
  ended_utc TEXT);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, id);
CREATE TABLE IF NOT EXISTS job_runs (
  job_id INTEGER NOT NULL REFERENCES jobs (id),
  run_id INTEGER NOT NULL UNIQUE REFERENCES runs (id),
  point INTEGER NOT NULL,
  PRIMARY KEY (job_id, point));
COMMIT;
)sql";

const char* const job_statuses[] = {"queued",  "running", "paused",    "completed",
                                    "faulted", "aborted", "cancelled", "interrupted"};

// What a stop of the service says to the run in progress; the run then ends `interrupted`.
inline const std::string service_stopped = "service stopped";

// A connection timeout for the safe state after a restart: the devices may be off or gone.
inline constexpr std::chrono::seconds safe_state_connect_timeout{5};
// SQLite's default page size, which the store keeps: limits.max_database_bytes in pages.
inline constexpr std::uint64_t sqlite_page_bytes = 4096;

// Files younger than this may still be being written (docs/service.md, "Spool folder").
inline constexpr auto spool_settle_time = std::chrono::seconds(1);

inline bool finished_status(const std::string& status) {
    return status != "queued" && status != "running" && status != "paused";
}

inline std::string now_utc() {
    return store::format_utc(store::WallClock::now());
}

inline std::string fixed(double value, int decimals) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

inline Json text_or_null(const store::SqlRow& row, int column) {
    return row.null(column) ? Json(nullptr) : Json(row.text(column));
}

// `name` if free in `dir`, else name-1, name-2, … before the extension: never overwrite.
inline fs::path free_name(const fs::path& dir, const std::string& name) {
    fs::path candidate = dir / name;
    const fs::path stem = fs::path(name).stem();
    const fs::path extension = fs::path(name).extension();
    for (int n = 1; fs::exists(fs::symlink_status(candidate)) ||
                    fs::exists(fs::symlink_status(candidate.string() + ".error"));
         ++n) {
        candidate = dir / (stem.string() + "-" + std::to_string(n) + extension.string());
    }
    return candidate;
}

inline void write_text(const fs::path& path, const std::string& text) {
    std::FILE* file = std::fopen(path.c_str(), "wx");  // x: never replaces a file
    if (file == nullptr) {
        throw std::runtime_error("cannot create " + path.string());
    }
    std::fwrite(text.data(), 1, text.size(), file);
    std::fclose(file);
}

// The samples of one run counted so far: every row with seq <= last_seq. A run's rows are
// committed in seq order (one runner appending in stream order, one writer committing in
// append order), so a later count only needs the rows past last_seq.
struct SampleTally {
    std::int64_t count = 0;
    std::int64_t first_seq = -1;  // -1: no row yet (seq counts from 0)
    std::int64_t last_seq = -1;
    bool final = false;  // the run had ended before the count: no row comes any more
};

// The unload ramp commanded after a restart, which the next job waits for.
struct PendingUnload {
    std::int64_t run_id = 0;
    double t_s = 0;      // of the interrupted run's last sample, for its events
    double bound_s = 0;  // the ramp's duration at its rate, plus a margin
};

// Added to the unload ramp's own duration: the frame's reply time and settling.
inline constexpr double unload_margin_s = 10;

// How a job ends: its status and message.
struct JobEnd {
    std::string status, message;
};

struct CurrentJob {
    std::int64_t job_id = 0;
    std::shared_ptr<runner::RunControl> control;  // of the run in progress; null between runs
    std::int64_t run_id = -1;                     // -1 until the run row exists
    // An accepted abort, kept for the runs not started yet (control is null between runs).
    std::optional<std::string> abort_reason;
};

// An exclusive lock on DATABASE.lock for the service's life: a second dmacycled on the same
// store stops before it touches the store or the instrument.
class StoreLock {
  public:
    explicit StoreLock(const fs::path& database) {
        const std::string path = database.string() + ".lock";
        fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
        if (fd_ < 0) {
            throw io::InputError("dmacycled: cannot open " + path + ": " + std::strerror(errno));
        }
        if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
            const int error = errno;
            ::close(fd_);
            throw io::InputError(error == EWOULDBLOCK
                                     ? "dmacycled: " + path +
                                           " is locked: another dmacycled uses " + database.string()
                                     : "dmacycled: cannot lock " + path + ": " +
                                           std::strerror(error));
        }
    }
    ~StoreLock() { ::close(fd_); }
    StoreLock(const StoreLock&) = delete;
    StoreLock& operator=(const StoreLock&) = delete;

  private:
    int fd_ = -1;
};

class FileDescriptor {
  public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() { ::close(fd_); }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

// ".ID-NAME": a spool file's private name in accepted/ while its job row is being written.
// Appended piece by piece: g++ 12 warns falsely (-Wrestrict) on the chained `+` once inlined.
inline std::string private_spool_name(std::int64_t job_id, const std::string& name) {
    std::string text = ".";
    text += std::to_string(job_id);
    text += '-';
    text += name;
    return text;
}

inline std::string over_limit(const std::string& name, std::uint64_t bytes, std::size_t limit) {
    return name + ": " + std::to_string(bytes) + " bytes, over the limit of " +
           std::to_string(limit) + " (max_job_bytes)";
}

// A failing store answers 503 (docs/api.md), never a crash of the request.
template <class F>
auto store_call(F&& call) {
    try {
        return call();
    } catch (const store::StoreError& error) {
        throw ApiError(503, std::string("store: ") + error.what());
    }
}

}  // namespace dmacycle::service::jobs_detail

namespace dmacycle::service {

using namespace jobs_detail;

struct JobService::Impl {
    explicit Impl(ServiceConfig service_config);
    ~Impl();

    void start();
    protocols::JobFile parse(const std::string& text) const;
    protocols::JobFile validate(const std::string& text, const std::string& file_name) const;
    std::int64_t insert_locked(const protocols::JobFile& file, const std::string& text,
                               const std::string& source, std::int64_t job_id, std::int64_t& ahead);
    void queued(std::int64_t job_id, const protocols::JobFile& file, const std::string& source);
    Json submit(const std::string& text, const std::string& source, const std::string& file_name);
    bool abort_current(std::int64_t job_id, const std::string& reason);
    Json request_run(std::int64_t job_id, const char* not_state, const char* verb,
                     bool (runner::RunControl::*request)(std::string&));
    void recover();
    void recover_spool();
    void safe_state(std::int64_t run_id, double t_s);
    void await_unload(std::unique_lock<std::mutex>& lock);
    void event(std::int64_t run_id, double t_s, const std::string& kind,
               const std::string& message);
    void executor_loop();
    bool claim(std::int64_t job_id);
    void run_job(std::int64_t job_id, const std::string& text);
    std::optional<JobEnd> take_point(std::size_t i, std::size_t count,
                                     const std::shared_ptr<runner::RunControl>& control);
    std::optional<JobEnd> run_point(std::int64_t job_id, const std::string& text,
                                    const protocols::Job& job, std::size_t i, std::size_t count,
                                    runner::RunControl& control);
    std::optional<JobEnd> judge_run(const std::string& job_tag, const runner::RunOutcome& outcome,
                                    const runner::RunControl& control);
    void watch_run_id(std::stop_token stop, std::int64_t job_id, std::size_t point,
                      std::int64_t baseline, const runner::RunControl& control);
    void link_run(std::int64_t job_id, std::int64_t run_id, std::size_t point);
    void finish_job(std::int64_t job_id, const std::string& status, const std::string& message);
    std::string job_status(std::int64_t job_id, const std::string& stored) const;
    Json job_json(std::int64_t job_id, bool details) const;
    const SampleTally& tally(std::int64_t run_id) const;  // under read_mutex
    Json run_summary(std::int64_t run_id) const;          // samples, first_seq, last_seq
    const std::vector<std::string>& sweep_points(std::int64_t job_id) const;  // under read_mutex
    void spool_file(const fs::path& path);
    std::optional<std::string> read_spool_file(const fs::path& path, const std::string& name);
    void accept_spool_file(const fs::path& path, const std::string& name, const std::string& text);
    void reject(const fs::path& path, const std::string& name, const std::string& why);

    std::optional<StoreLock> store_lock;  // first: held until everything else is gone
    ServiceConfig config;
    runner::Rig rig;  // before the store: its simulator, if any, outlives every run
    std::unique_ptr<store::SampleStore> store;
    // The service's own connections: writes (jobs, job_runs) and reads, each behind its lock,
    // so queries never wait for a write of this process (WAL: nor for the store's writer).
    std::unique_ptr<store::SqlConnection> writer, reader;
    mutable std::mutex write_mutex, read_mutex;
    // Under read_mutex: a status query costs O(log n) on a run of n samples, not O(n).
    mutable std::map<std::int64_t, SampleTally> tallies;
    mutable std::map<std::int64_t, std::vector<std::string>> job_sweep_points;  // of valid jobs

    mutable std::mutex mutex;  // current, stopping, job state changes
    std::condition_variable wake;
    std::optional<CurrentJob> current;
    bool stopping = false;
    bool work = true;                     // jobs may be queued
    std::optional<PendingUnload> unload;  // set by recover(), cleared by the executor
    int runs_started = 0;
    std::mutex spool_mutex;
    std::set<std::string> spool_warned;  // files whose problem was logged (under spool_mutex)
    std::thread executor;
};

}  // namespace dmacycle::service

// JobService: the persistent queue, the executor, restart recovery and the queries of the HTTP
// API (docs/service.md, docs/api.md, docs/store-schema.md "Service tables").
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
#include "dmacycle/runner/runner.hpp"
#include "dmacycle/runner/sim_instrument.hpp"
#include "dmacycle/service/log.hpp"
#include "dmacycle/store/sql_connection.hpp"

namespace dmacycle::service {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr const char* service_schema = R"sql(
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
const std::string service_stopped = "service stopped";

// A connection timeout for the safe state after a restart: the devices may be off or gone.
constexpr std::chrono::seconds safe_state_connect_timeout{5};
// SQLite's default page size, which the store keeps: limits.max_database_bytes in pages.
constexpr std::uint64_t sqlite_page_bytes = 4096;

// Files younger than this may still be being written (docs/service.md, "Spool folder").
constexpr auto spool_settle_time = std::chrono::seconds(1);

bool finished_status(const std::string& status) {
    return status != "queued" && status != "running" && status != "paused";
}

std::string now_utc() {
    return store::format_utc(store::WallClock::now());
}

std::string fixed(double value, int decimals) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

Json text_or_null(const store::SqlRow& row, int column) {
    return row.null(column) ? Json(nullptr) : Json(row.text(column));
}

// `name` if free in `dir`, else name-1, name-2, … before the extension: never overwrite.
fs::path free_name(const fs::path& dir, const std::string& name) {
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

void write_text(const fs::path& path, const std::string& text) {
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
constexpr double unload_margin_s = 10;

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

std::string over_limit(const std::string& name, std::uint64_t bytes, std::size_t limit) {
    return name + ": " + std::to_string(bytes) + " bytes, over the limit of " +
           std::to_string(limit) + " (max_job_bytes)";
}

}  // namespace

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
    void reject(const fs::path& path, const std::string& name, const std::string& why);

    std::optional<StoreLock> store_lock;  // first: held until everything else is gone
    ServiceConfig config;
    std::unique_ptr<runner::SimInstrument> sim;  // before the store: it outlives every run
    drivers::DeviceSpec frame, furnace;
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

JobService::Impl::Impl(ServiceConfig service_config) : config(std::move(service_config)) {
    if (config.database.empty()) {
        throw io::InputError("dmacycled: no database configured (config 'database' or --db)");
    }
    store_lock.emplace(config.database);
    if (!config.simulate_profile.empty()) {
        drivers::sim::Profile profile;
        try {
            profile = drivers::sim::load_profile(config.simulate_profile);
        } catch (const drivers::sim::ProfileError& error) {
            throw io::InputError(error.what());
        }
        const auto clock = drivers::sim::SimClock::parse(config.simulate_speed);
        if (!clock) {
            throw io::InputError("simulate speed '" + config.simulate_speed +
                                 "': expected a positive number or max");
        }
        const bool kelvin = profile.furnace.kelvin_display;
        sim = std::make_unique<runner::SimInstrument>(std::move(profile), *clock);
        frame.uri = sim->frame_uri;
        furnace.model = kelvin ? "eurotherm-2400-kelvin" : "";
        furnace.uri = sim->furnace_uri;
    } else if (config.frame && config.furnace) {
        frame = *config.frame;
        furnace = *config.furnace;
    } else {
        throw io::InputError("dmacycled: no instrument configured (simulate or rig)");
    }
    // As `dmacycle run`: at high speed the acquisition outruns the writer; 20,000 uncommitted
    // rows keep the queue to a few MB, then appends wait for commits.
    store = std::make_unique<store::SampleStore>(
        config.database.string(),
        store::StoreOptions{.max_pending_rows = 20000,
                            .max_page_count = static_cast<std::uint32_t>(config.max_database_bytes /
                                                                         sqlite_page_bytes)});
    writer = std::make_unique<store::SqlConnection>(config.database);
    writer->exec(service_schema);
    reader = std::make_unique<store::SqlConnection>(config.database);
}

void JobService::Impl::start() {
    if (executor.joinable()) {
        return;
    }
    recover();
    recover_spool();
    executor = std::thread([this] { executor_loop(); });
}

JobService::Impl::~Impl() {
    {
        std::lock_guard lock(mutex);
        stopping = true;
        if (current && current->control) {
            current->control->request_abort(service_stopped);
        }
    }
    wake.notify_all();
    if (executor.joinable()) {
        executor.join();
    }
}

protocols::JobFile JobService::Impl::parse(const std::string& text) const {
    // The job's profile from the service's profiles folder (as `dmacycle run` finds it next to
    // the job file): its frame's force limit validates the job.
    const protocols::ProfileResolver resolve = [this](const std::string& name) {
        const fs::path path = config.profiles / (name + ".yaml");
        std::error_code ignored;
        if (!fs::is_regular_file(path, ignored)) {
            return protocols::ProfileLimit{std::nullopt, "unknown instrument profile '" + name +
                                                             "' (no " + path.string() + ")"};
        }
        return protocols::read_profile_limit(path);
    };
    return protocols::parse_job(text, resolve);
}

namespace {

// The 1-based line of a top-level `key:` in a job file's text, 0 when absent.
int line_of_key(const std::string& text, const std::string& key) {
    std::istringstream lines(text);
    std::string line;
    for (int number = 1; std::getline(lines, line); ++number) {
        if (line.rfind(key + ":", 0) == 0) {
            return number;
        }
    }
    return 0;
}

}  // namespace

protocols::JobFile JobService::Impl::validate(const std::string& text,
                                              const std::string& file_name) const {
    if (text.size() > config.max_job_bytes) {
        throw ApiError(413, over_limit(file_name, text.size(), config.max_job_bytes));
    }
    auto file = parse(text);
    // A scan measures every interval of instrument time; a simulator at `max` outruns the
    // runner's reads by hours, so the fit would come out unusable. Refused now, not found then.
    const bool has_scan =
        std::any_of(file.runs.begin(), file.runs.end(),
                    [](const protocols::Job& run) { return run.dmta.has_value(); });
    if (file.ok() && has_scan && sim && sim->instrument.clock_is_max()) {
        file.errors.push_back(
            {line_of_key(text, "dmta"), 1, "dmta",
             "a DMTA scan cannot keep its measurement interval on this service's simulated "
             "instrument at speed max; give the service a paced speed (e.g. 1000)"});
    }
    if (!file.ok()) {
        std::vector<std::string> details;
        for (const auto& problem : file.errors) {
            details.push_back(problem.to_string(file_name));
        }
        // Counted before `details` is moved: argument order is unspecified.
        const std::string message = file_name + ": invalid job file (" +
                                    std::to_string(details.size()) + " problem" +
                                    (details.size() == 1 ? "" : "s") + ")";
        throw ApiError(422, message, std::move(details));
    }
    return file;
}

// Under write_mutex. `job_id` 0: the next free id. The position counts the jobs ahead as the
// executor sees them: the one it runs (stored `running`) and those queued before.
std::int64_t JobService::Impl::insert_locked(const protocols::JobFile& file,
                                             const std::string& text, const std::string& source,
                                             std::int64_t job_id, std::int64_t& ahead) {
    writer->run(
        "INSERT INTO jobs (id, name, source, job_text, runs_planned, status, submitted_utc) "
        "VALUES (?, ?, ?, ?, ?, 'queued', ?)",
        {job_id == 0 ? store::SqlValue(nullptr) : store::SqlValue(job_id), file.runs.front().name,
         source, text, static_cast<std::int64_t>(file.runs.size()), now_utc()});
    job_id = writer->last_insert_id();
    writer->query(
        "SELECT count(*) FROM jobs WHERE status IN ('queued', 'running', 'paused') AND id < ?",
        {job_id}, [&](const store::SqlRow& row) { ahead = row.integer(0); });
    return job_id;
}

void JobService::Impl::queued(std::int64_t job_id, const protocols::JobFile& file,
                              const std::string& source) {
    {
        std::lock_guard lock(mutex);
        work = true;
    }
    wake.notify_all();
    log::info("job " + std::to_string(job_id) + " " + file.runs.front().name + " queued from " +
              source + " (" + std::to_string(file.runs.size()) + " run" +
              (file.runs.size() == 1 ? "" : "s") + ")");
}

Json JobService::Impl::submit(const std::string& text, const std::string& source,
                              const std::string& file_name) {
    const auto file = validate(text, file_name);
    std::int64_t job_id = 0, ahead = 0;
    {
        std::lock_guard write(write_mutex);
        job_id = insert_locked(file, text, source, 0, ahead);
    }
    queued(job_id, file, source);
    return {{"job_id", job_id},
            {"name", file.runs.front().name},
            {"runs", file.runs.size()},
            {"status", "queued"},
            {"position", ahead}};
}

// The operator's abort of the job the executor holds (false: not the current job). Kept in
// `current` too, so a job between runs (or not started yet) starts no further run.
bool JobService::Impl::abort_current(std::int64_t job_id, const std::string& reason) {
    std::lock_guard lock(mutex);
    if (!current || current->job_id != job_id) {
        return false;
    }
    if (!current->abort_reason) {
        current->abort_reason = reason;
    }
    if (current->control) {
        current->control->request_abort(reason);
    }
    return true;
}

// --- restart --------------------------------------------------------------------------------

void JobService::Impl::event(std::int64_t run_id, double t_s, const std::string& kind,
                             const std::string& message) {
    store->append_event(run_id, {t_s, store::WallClock::now(), kind, message});
    log::notice("run " + std::to_string(run_id) + ": " + kind + ": " + message);
}

void JobService::Impl::recover() {
    struct LastSample {
        double t_s = 0;
        std::string t_wall_utc;
    };
    std::map<std::int64_t, std::optional<LastSample>> last;  // of each run left running
    {
        std::lock_guard read(read_mutex);
        std::vector<std::int64_t> running;
        reader->query("SELECT id FROM runs WHERE status = 'running'", {},
                      [&](const store::SqlRow& row) { running.push_back(row.integer(0)); });
        for (const auto id : running) {
            last[id];
            reader->query(
                "SELECT t_s, t_wall_utc FROM samples WHERE run_id = ? ORDER BY seq DESC LIMIT 1",
                {id}, [&](const store::SqlRow& row) {
                    last[id] = LastSample{row.real(0), row.text(1)};
                });
        }
    }
    const std::string restarted = now_utc();
    std::vector<std::int64_t> jobs;  // left running or paused
    {
        std::lock_guard write(write_mutex);
        writer->query("SELECT id FROM jobs WHERE status IN ('running', 'paused') ORDER BY id", {},
                      [&](const store::SqlRow& row) { jobs.push_back(row.integer(0)); });
    }
    if (last.empty() && jobs.empty()) {
        return;  // a clean stop: nothing to write
    }
    const auto interrupted = store->mark_interrupted();
    {
        std::lock_guard write(write_mutex);
        for (const auto run_id : interrupted) {
            // The process may have died before it linked its run: the job it was running.
            if (!jobs.empty()) {
                writer->run(
                    "INSERT OR IGNORE INTO job_runs (job_id, run_id, point) SELECT ?, ?, "
                    "coalesce(max(point) + 1, 0) FROM job_runs WHERE job_id = ?",
                    {jobs.back(), run_id, jobs.back()});
            }
        }
        writer->run(
            "UPDATE jobs SET status = 'interrupted', ended_utc = ?, message = ? WHERE status IN "
            "('running', 'paused')",
            {restarted, "interrupted: the service stopped during this job; restarted at " +
                            restarted + " (its runs show what was done)"});
    }
    for (const auto job_id : jobs) {
        log::notice("job " + std::to_string(job_id) + ": interrupted (found running at start)");
    }
    for (const auto run_id : interrupted) {
        const auto found = last.find(run_id);
        const auto& sample = found != last.end() ? found->second : std::nullopt;
        const double t_s = sample ? sample->t_s : 0.0;
        event(run_id, t_s, "interrupted",
              sample ? "interrupted: the service stopped at " + sample->t_wall_utc + " (t_s " +
                           fixed(sample->t_s, 1) + " s); restarted at " + restarted
                     : "interrupted: the service stopped before the first sample; restarted "
                       "at " +
                           restarted);
        if (run_id == interrupted.back()) {
            // Only the latest run can have had the instrument; never resume cycling.
            safe_state(run_id, t_s);
        }
    }
    store->flush();  // the record of the gap is in the file before anything else runs
    if (interrupted.empty() && !jobs.empty()) {
        log::warning("a job was running but no run was: the instrument is left as it is");
    }
}

void JobService::Impl::safe_state(std::int64_t run_id, double t_s) {
    std::string text, sample_id;
    {
        std::lock_guard read(read_mutex);
        reader->query("SELECT job_text, sample_id FROM runs WHERE id = ?", {run_id},
                      [&](const store::SqlRow& row) {
                          text = row.text(0);
                          sample_id = row.text(1);
                      });
    }
    // Not against today's profiles: the safe state needs only the pre-tension and the stress
    // rate, and a profile changed since must not leave the frame held at the run's stress.
    const auto file = protocols::parse_job(text, std::numeric_limits<double>::infinity());
    const protocols::Job* job = protocols::run_of_sample(file, sample_id);
    std::string frame_note;
    try {
        auto driver = drivers::make_frame(frame);
        driver->connect(drivers::deadline_in(safe_state_connect_timeout));
        const auto state = driver->state();
        if (state.mode == "TRIP") {
            frame_note = "the frame tripped and unloaded itself; left tripped for the operator";
        } else if (job == nullptr) {
            driver->hold();
            frame_note = "frame held where it is (the run's job text does not parse: " +
                         (file.errors.empty() ? std::string("no runs")
                                              : file.errors.front().to_string("job.yaml")) +
                         ")";
        } else {
            const auto plan = protocols::make_plan(*job, file.frame_force_limit_n);
            driver->configure_geometry(
                {job->sample.width_m, job->sample.thickness_m, job->sample.gauge_length_m});
            driver->ramp_stress(plan.pre_tension_stress_pa, job->cycling.stress_rate_pa_s);
            unload = PendingUnload{run_id, t_s,
                                   std::abs(state.stress_pa - plan.pre_tension_stress_pa) /
                                           job->cycling.stress_rate_pa_s +
                                       unload_margin_s};
            frame_note = "unload: ramp to the pre-tension " + fixed(job->pre_tension_n, 4) +
                         " N (" + fixed(plan.pre_tension_stress_pa / 1e6, 3) + " MPa) at " +
                         fixed(job->cycling.stress_rate_pa_s * 60 / 1e6, 2) + " MPa/min";
        }
        driver->disconnect();
    } catch (const std::exception& error) {
        frame_note = std::string("unload failed: ") + error.what();
    }
    std::string furnace_note;
    const runner::RunnerOptions defaults;
    try {
        auto driver = drivers::make_furnace(furnace);
        driver->connect_by(drivers::deadline_in(safe_state_connect_timeout));
        driver->write_setpoint_k(defaults.standby_temperature_k);
        furnace_note =
            "furnace to standby: setpoint " + fixed(defaults.standby_temperature_k, 2) + " K";
        driver->disconnect();
    } catch (const std::exception& error) {
        furnace_note = std::string("furnace standby failed: ") + error.what();
    }
    event(run_id, t_s, "safe_state", "after restart: " + frame_note);
    event(run_id, t_s, "safe_state", "after restart: " + furnace_note);
}

// --- executor -------------------------------------------------------------------------------

// The next job must not take a frame still ramping down from the interrupted run: the queue
// waits until it holds, at most the ramp's duration plus a margin (the API serves meanwhile).
void JobService::Impl::await_unload(std::unique_lock<std::mutex>& lock) {
    const auto pending = *unload;
    unload.reset();
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    const auto waited_s = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    };
    std::string note;
    try {
        auto driver = drivers::make_frame(frame);
        driver->connect(drivers::deadline_in(safe_state_connect_timeout));
        while (note.empty()) {
            const auto state = driver->state();
            const std::string at = fixed(state.stress_pa / 1e6, 3) + " MPa";
            if (state.mode != "RAMP") {
                note = "the frame is in " + state.mode + " at " + at + " after " +
                       fixed(waited_s(), 1) + " s; the queue goes on";
            } else if (waited_s() > pending.bound_s) {
                note = "the frame is still ramping (" + at + ") after " + fixed(waited_s(), 1) +
                       " s; the queue goes on";
            } else {
                lock.lock();
                const bool stop =
                    wake.wait_for(lock, std::chrono::milliseconds(100), [&] { return stopping; });
                lock.unlock();
                if (stop) {
                    note = "the service stopped while the frame was ramping (" + at + ")";
                }
            }
        }
        driver->disconnect();
    } catch (const std::exception& error) {
        note = std::string("cannot follow the unload ramp: ") + error.what();
    }
    event(pending.run_id, pending.t_s, "safe_state", "after restart: " + note);
    store->flush();
    lock.lock();
}

// Never holds `mutex` across SQL: the queries of the API need it, and SQL may wait seconds
// behind the store writer's commits.
void JobService::Impl::executor_loop() {
    {
        std::unique_lock lock(mutex);
        if (unload) {
            await_unload(lock);
        }
    }
    while (true) {
        {
            std::unique_lock lock(mutex);
            wake.wait(lock, [&] { return stopping || work; });
            if (stopping) {
                return;
            }
            work = false;  // a submit from here on sets it again
        }
        std::optional<std::pair<std::int64_t, std::string>> next;
        try {
            std::lock_guard write(write_mutex);
            writer->query(
                "SELECT id, job_text FROM jobs WHERE status = 'queued' ORDER BY id "
                "LIMIT 1",
                {}, [&](const store::SqlRow& row) { next.emplace(row.integer(0), row.text(1)); });
        } catch (const store::StoreError& error) {
            log::error(std::string("job queue: ") + error.what() + " (retrying in 1 s)");
            std::unique_lock lock(mutex);
            work = true;
            wake.wait_for(lock, std::chrono::seconds(1), [&] { return stopping; });
            continue;
        }
        if (!next) {
            continue;
        }
        {
            std::lock_guard lock(mutex);
            if (stopping) {
                return;
            }
            // From here an abort of this job is kept for it, claimed or not yet.
            current = CurrentJob{next->first, nullptr, -1, std::nullopt};
            work = true;  // more may be queued
        }
        if (claim(next->first)) {
            run_job(next->first, next->second);
        }
        std::lock_guard lock(mutex);
        current.reset();
    }
}

// Marks the job running if it is still queued (false: cancelled meanwhile, or stopping).
bool JobService::Impl::claim(std::int64_t job_id) {
    while (true) {
        try {
            std::lock_guard write(write_mutex);
            return writer->run(
                       "UPDATE jobs SET status = 'running', started_utc = ? WHERE id = ? AND "
                       "status = 'queued'",
                       {now_utc(), job_id}) == 1;
        } catch (const store::StoreError& error) {
            log::error(std::string("job queue: ") + error.what() + " (retrying in 1 s)");
        }
        std::unique_lock lock(mutex);
        if (wake.wait_for(lock, std::chrono::seconds(1), [&] { return stopping; })) {
            return false;
        }
    }
}

void JobService::Impl::run_job(std::int64_t job_id, const std::string& text) {
    const std::string job_tag = "job " + std::to_string(job_id);
    const auto file = parse(text);
    if (!file.ok()) {
        // The profile changed since the job was queued.
        finish_job(job_id, "faulted",
                   "the job no longer validates: " + file.errors.front().to_string("job.yaml"));
        return;
    }
    std::string status = "completed", message = "completed";
    for (std::size_t i = 0; i < file.runs.size(); ++i) {
        const auto& job = file.runs[i];
        auto control = std::make_shared<runner::RunControl>();
        {
            std::lock_guard lock(mutex);
            if (stopping) {
                status = "interrupted";
                message = "interrupted: the service stopped before run " + std::to_string(i + 1) +
                          " of " + std::to_string(file.runs.size());
                break;
            }
            if (current->abort_reason) {
                status = "aborted";
                message = *current->abort_reason;
                break;
            }
            current->control = control;
            current->run_id = -1;
        }
        if (runs_started++ > 0 && sim) {
            sim->instrument.new_sample();  // every run a fresh ribbon
        }
        log::info(job_tag + ": run " + std::to_string(i + 1) + "/" +
                  std::to_string(file.runs.size()) + " " + job.name +
                  (job.sweep_point.empty() ? "" : " " + job.sweep_point) + ", sample " +
                  job.sample.id);
        runner::RunnerOptions options;
        options.sample_rate_hz = config.sample_rate_hz;
        options.control = control.get();
        options.on_event = [job_tag](double t_s, const std::string& kind,
                                     const std::string& text_) {
            log::info(job_tag + ": [" + fixed(t_s, 1) + " s] " + kind + ": " + text_);
        };
        std::int64_t baseline = 0;
        runner::RunOutcome outcome;
        try {
            {
                std::lock_guard read(read_mutex);
                reader->query("SELECT coalesce(max(id), 0) FROM runs", {},
                              [&](const store::SqlRow& row) { baseline = row.integer(0); });
            }
            std::jthread watcher(
                [&](std::stop_token stop) { watch_run_id(stop, job_id, i, baseline, *control); });
            outcome = runner::execute_run(job, text, *store, frame, furnace, options);
            watcher.request_stop();
            watcher.join();
            link_run(job_id, outcome.run_id, i);
        } catch (const std::exception& error) {
            status = "faulted";
            message = std::string("the run could not be recorded: ") + error.what();
            log::error(job_tag + ": " + message);
            break;
        }
        log::info(job_tag + ": run " + std::to_string(outcome.run_id) + " " +
                  std::string(to_string(outcome.status)) + ": " + outcome.message);
        const auto abort_reason = control->abort_reason();
        if (outcome.status == store::RunStatus::aborted && abort_reason == service_stopped) {
            // Not the operator's abort: the run ends `interrupted`, the job too. The event goes
            // at the last sample's time, after what the run recorded.
            status = "interrupted";
            message = "interrupted: " + service_stopped;
            try {
                store->set_status(outcome.run_id, store::RunStatus::interrupted);
                event(outcome.run_id, control->progress().t_s, "interrupted",
                      "interrupted: " + service_stopped);
                store->flush();
            } catch (const store::StoreError& error) {
                log::error(job_tag + ": " + error.what());
            }
            break;
        }
        if (outcome.status != store::RunStatus::completed) {
            // A sweep stops at its first run that did not complete (docs/runner.md). A fault
            // stays a fault even when an abort came after it.
            const bool aborted = outcome.status == store::RunStatus::aborted && abort_reason;
            status = aborted ? "aborted" : "faulted";
            message = aborted ? *abort_reason : outcome.message;
            break;
        }
    }
    finish_job(job_id, status, message);
}

// The run's id as soon as its row exists, so the job shows it while it runs and a crash leaves
// the link: from the run's progress when the runner reports it, else the first run created
// after `baseline` (the executor is the only one creating runs here).
void JobService::Impl::watch_run_id(std::stop_token stop, std::int64_t job_id, std::size_t point,
                                    std::int64_t baseline, const runner::RunControl& control) {
    while (!stop.stop_requested()) {
        std::int64_t run_id = control.progress().run_id;
        try {
            if (run_id < 0) {
                std::lock_guard read(read_mutex);
                reader->query("SELECT min(id) FROM runs WHERE id > ?", {baseline},
                              [&](const store::SqlRow& row) {
                                  if (!row.null(0)) {
                                      run_id = row.integer(0);
                                  }
                              });
            }
            if (run_id >= 0) {
                link_run(job_id, run_id, point);
                return;
            }
        } catch (const store::StoreError& error) {
            log::warning(std::string("job queue: ") + error.what());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void JobService::Impl::link_run(std::int64_t job_id, std::int64_t run_id, std::size_t point) {
    {
        std::lock_guard write(write_mutex);
        writer->run("INSERT OR IGNORE INTO job_runs (job_id, run_id, point) VALUES (?, ?, ?)",
                    {job_id, run_id, static_cast<std::int64_t>(point)});
    }
    std::lock_guard lock(mutex);
    if (current && current->job_id == job_id) {
        current->run_id = run_id;
    }
}

void JobService::Impl::finish_job(std::int64_t job_id, const std::string& status,
                                  const std::string& message) {
    // Retried: a job left `running` would be called interrupted at the next start.
    for (int attempt = 0;; ++attempt) {
        try {
            std::lock_guard write(write_mutex);
            writer->run("UPDATE jobs SET status = ?, message = ?, ended_utc = ? WHERE id = ?",
                        {status, message, now_utc(), job_id});
            break;
        } catch (const store::StoreError& error) {
            log::error("job " + std::to_string(job_id) + ": status not recorded: " + error.what());
            if (attempt == 10) {
                break;
            }
            std::this_thread::sleep_for(std::chrono::seconds(1));
        }
    }
    log::info("job " + std::to_string(job_id) + " " + status + ": " + message);
}

// --- queries --------------------------------------------------------------------------------

std::string JobService::Impl::job_status(std::int64_t job_id, const std::string& stored) const {
    std::lock_guard lock(mutex);
    if (stored == "running" && current && current->job_id == job_id && current->control &&
        current->control->progress().paused) {
        return "paused";
    }
    return stored;
}

const SampleTally& JobService::Impl::tally(std::int64_t run_id) const {
    auto& tally = tallies[run_id];
    if (tally.final) {
        return tally;
    }
    // The status first: a run seen ended has committed its last row before this count.
    bool ended = false;
    reader->query("SELECT status NOT IN ('queued', 'running') FROM runs WHERE id = ?", {run_id},
                  [&](const store::SqlRow& row) { ended = row.integer(0) != 0; });
    // A range of the primary key (run_id, seq): only the rows committed since the last call.
    reader->query("SELECT count(*), min(seq), max(seq) FROM samples WHERE run_id = ? AND seq > ?",
                  {run_id, tally.last_seq}, [&](const store::SqlRow& row) {
                      tally.count += row.integer(0);
                      if (!row.null(1)) {
                          tally.first_seq = tally.first_seq < 0 ? row.integer(1) : tally.first_seq;
                          tally.last_seq = row.integer(2);
                      }
                  });
    tally.final = ended;
    return tally;
}

Json JobService::Impl::run_summary(std::int64_t run_id) const {
    const auto& counted = tally(run_id);
    const auto seq = [](std::int64_t value) { return value < 0 ? Json(nullptr) : Json(value); };
    return {{"samples", counted.count},
            {"first_seq", seq(counted.first_seq)},
            {"last_seq", seq(counted.last_seq)}};
}

// A job's text never changes: parsed once for its sweep points, not at every status query.
const std::vector<std::string>& JobService::Impl::sweep_points(std::int64_t job_id) const {
    const auto cached = job_sweep_points.find(job_id);
    if (cached != job_sweep_points.end()) {
        return cached->second;
    }
    std::string text;
    reader->query("SELECT job_text FROM jobs WHERE id = ?", {job_id},
                  [&](const store::SqlRow& row) { text = row.text(0); });
    const auto file = parse(text);
    if (!file.ok()) {
        // A profile gone since: nothing cached, so a fixed profile shows the points again.
        static const std::vector<std::string> none;
        return none;
    }
    std::vector<std::string> points;
    for (const auto& run : file.runs) {
        points.push_back(run.sweep_point);
    }
    return job_sweep_points.emplace(job_id, std::move(points)).first->second;
}

Json JobService::Impl::job_json(std::int64_t job_id, bool details) const {
    Json job;
    std::string stored;
    {
        std::lock_guard read(read_mutex);
        reader->query(
            "SELECT name, source, status, submitted_utc, started_utc, ended_utc, message, "
            "runs_planned FROM jobs WHERE id = ?",
            {job_id}, [&](const store::SqlRow& row) {
                stored = row.text(2);
                job = {{"job_id", job_id},
                       {"name", row.text(0)},
                       {"source", row.text(1)},
                       {"status", stored},
                       {"submitted_utc", row.text(3)},
                       {"started_utc", text_or_null(row, 4)},
                       {"ended_utc", text_or_null(row, 5)},
                       {"message", row.text(6)},
                       {"runs_planned", row.integer(7)},
                       {"run_ids", Json::array()}};
            });
        if (job.is_null()) {
            throw ApiError(404, "no job " + std::to_string(job_id));
        }
        if (details) {
            job["runs"] = Json::array();
            const auto& points = sweep_points(job_id);
            reader->query(
                "SELECT r.id, r.status, r.sample_id, r.started_utc, r.ended_utc, j.point FROM "
                "job_runs j JOIN runs r ON r.id = j.run_id WHERE j.job_id = ? ORDER BY j.point",
                {job_id}, [&](const store::SqlRow& row) {
                    const auto point = static_cast<std::size_t>(row.integer(5));
                    job["run_ids"].push_back(row.integer(0));
                    job["runs"].push_back(
                        {{"run_id", row.integer(0)},
                         {"status", row.text(1)},
                         {"sample", row.text(2)},
                         {"sweep_point", point < points.size() ? points[point] : ""},
                         {"started_utc", text_or_null(row, 3)},
                         {"ended_utc", text_or_null(row, 4)}});
                });
            for (auto& run : job["runs"]) {
                const auto summary = run_summary(run["run_id"].get<std::int64_t>());
                run["samples"] = summary["samples"];
                run["last_seq"] = summary["last_seq"];
            }
        } else {
            reader->query(
                "SELECT run_id FROM job_runs WHERE job_id = ? ORDER BY point", {job_id},
                [&](const store::SqlRow& row) { job["run_ids"].push_back(row.integer(0)); });
        }
    }
    job["status"] = job_status(job_id, stored);
    if (details) {
        job["progress"] = nullptr;
        std::lock_guard lock(mutex);
        if (current && current->job_id == job_id && current->control) {
            const auto p = current->control->progress();
            job["progress"] = {{"run_id", p.run_id >= 0 ? p.run_id : current->run_id},
                               {"segment", p.segment},
                               {"cycle", p.cycle},
                               {"cycles_total", p.cycles_total},
                               {"t_s", p.t_s},
                               {"plan_t_s", p.plan_t_s},
                               {"plan_duration_s", p.plan_duration_s},
                               {"temperature_k", p.temperature_k},
                               {"stress_mpa", p.stress_mpa},
                               {"strain", p.strain},
                               {"paused", p.paused},
                               {"pause_pending", p.pause_pending}};
        }
    }
    return job;
}

// --- spool ----------------------------------------------------------------------------------

void JobService::Impl::reject(const fs::path& path, const std::string& name,
                              const std::string& why) {
    const fs::path target = free_name(config.spool / "rejected", name);
    fs::rename(path, target);
    write_text(target.string() + ".error", why + "\n");
    log::warning("spool: " + name + " rejected (" + target.filename().string() + ".error)");
}

void JobService::Impl::spool_file(const fs::path& path) {
    const std::string name = path.filename().string();
    // One open, then only the descriptor: the name cannot be swapped for a link or a FIFO
    // between the checks and the read. O_NONBLOCK: opening a FIFO never waits for a writer.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        const int error = errno;
        if (error == ELOOP) {
            // Moving the link moves the link itself; its target is never read.
            reject(path, name,
                   name +
                       ": a symbolic link; refused (spool files must be regular files, written "
                       "then renamed into the folder)");
        } else if (error == EACCES) {
            reject(path, name,
                   name + ": not readable by dmacycled (" + std::strerror(error) +
                       "); make it readable and put it back");
        } else if (error == ENXIO) {
            reject(path, name, name + ": not a regular file; refused");
        } else if (error != ENOENT) {
            throw std::runtime_error(std::string("cannot open: ") + std::strerror(error));
        }
        return;
    }
    const FileDescriptor file(fd);
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        throw std::runtime_error(std::string("cannot stat: ") + std::strerror(errno));
    }
    if (!S_ISREG(info.st_mode)) {
        reject(path, name, name + ": not a regular file; refused");
        return;
    }
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    const auto age = std::chrono::seconds(now.tv_sec - info.st_mtim.tv_sec) +
                     std::chrono::nanoseconds(now.tv_nsec - info.st_mtim.tv_nsec);
    if (age < spool_settle_time) {
        return;  // may still be being written: the next pass takes it
    }
    if (static_cast<std::uint64_t>(info.st_size) > config.max_job_bytes) {
        reject(path, name, over_limit(name, info.st_size, config.max_job_bytes));
        return;
    }
    // One byte past the limit tells a file that grew since fstat.
    std::string text(config.max_job_bytes + 1, '\0');
    std::size_t length = 0;
    while (length < text.size()) {
        const auto got = ::read(fd, text.data() + length, text.size() - length);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            throw std::runtime_error(std::string("cannot read: ") + std::strerror(errno));
        }
        if (got == 0) {
            break;
        }
        length += static_cast<std::size_t>(got);
    }
    text.resize(length);
    protocols::JobFile job_file;
    try {
        job_file = validate(text, name);
    } catch (const ApiError& error) {
        std::string why = error.what();
        for (const auto& line : error.details()) {
            why += "\n" + line;
        }
        reject(path, name, why);
        return;
    }
    // The file leaves the spool under a private name (accepted/.ID-NAME) before its job row
    // exists: a crash in between leaves it to recover_spool, never to a second submission.
    const std::string source = "spool:" + name;
    std::int64_t job_id = 0, ahead = 0;
    fs::path pending;
    {
        std::lock_guard write(write_mutex);
        writer->query("SELECT coalesce(max(id), 0) + 1 FROM jobs", {},
                      [&](const store::SqlRow& row) { job_id = row.integer(0); });
        pending = config.spool / "accepted" / ("." + std::to_string(job_id) + "-" + name);
        fs::rename(path, pending);
        try {
            insert_locked(job_file, text, source, job_id, ahead);
        } catch (...) {
            std::error_code ignored;
            fs::rename(pending, path, ignored);  // back for the next pass
            throw;
        }
    }
    queued(job_id, job_file, source);
    const fs::path target =
        free_name(config.spool / "accepted", std::to_string(job_id) + "-" + name);
    std::error_code error;
    fs::rename(pending, target, error);
    if (error) {
        log::error("spool: " + name + ": job " + std::to_string(job_id) + " queued, but " +
                   pending.string() + " not renamed: " + error.message() +
                   " (the next start does it)");
    }
}

// Files a crash left under their private name in accepted/: the job row exists → the final
// name; it does not → back into the spool, to be submitted by the next pass.
void JobService::Impl::recover_spool() {
    const fs::path accepted = config.spool / "accepted";
    std::error_code ignored;
    if (config.spool.empty() || !fs::is_directory(accepted, ignored)) {
        return;
    }
    std::vector<std::pair<std::int64_t, std::string>> pending;  // job id, spool name
    for (const auto& entry : fs::directory_iterator(accepted)) {
        const std::string file = entry.path().filename().string();
        const auto dash = file.find('-');
        if (file.front() != '.' || dash == std::string::npos || dash < 2 || dash > 18 ||
            dash + 1 == file.size() ||
            !std::all_of(file.begin() + 1, file.begin() + static_cast<std::ptrdiff_t>(dash),
                         [](char c) { return c >= '0' && c <= '9'; })) {
            continue;
        }
        pending.emplace_back(std::stoll(file.substr(1, dash - 1)), file.substr(dash + 1));
    }
    for (const auto& [job_id, name] : pending) {
        bool queued = false;
        {
            std::lock_guard read(read_mutex);
            reader->query("SELECT 1 FROM jobs WHERE id = ?", {job_id},
                          [&](const store::SqlRow&) { queued = true; });
        }
        const fs::path from = accepted / ("." + std::to_string(job_id) + "-" + name);
        const fs::path to = queued ? free_name(accepted, std::to_string(job_id) + "-" + name)
                                   : free_name(config.spool, name);
        try {
            fs::rename(from, to);
            log::notice("spool: " + from.filename().string() + " left by a stop: " +
                        (queued ? "job " + std::to_string(job_id) + " was queued; now "
                                : std::string("not queued; back as ")) +
                        to.string());
        } catch (const fs::filesystem_error& error) {
            log::error(std::string("spool: ") + error.what());
        }
    }
}

// --- public ---------------------------------------------------------------------------------

namespace {

// A failing store answers 503 (docs/api.md), never a crash of the request.
template <class F>
auto store_call(F&& call) {
    try {
        return call();
    } catch (const store::StoreError& error) {
        throw ApiError(503, std::string("store: ") + error.what());
    }
}

}  // namespace

JobService::JobService(ServiceConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

void JobService::start() {
    impl_->start();
}

JobService::~JobService() = default;

Json JobService::submit(const std::string& job_text, const std::string& source) {
    return store_call([&] { return impl_->submit(job_text, source, "job.yaml"); });
}

Json JobService::list_jobs() const {
    return store_call([&] {
        std::vector<std::int64_t> ids;
        {
            std::lock_guard read(impl_->read_mutex);
            impl_->reader->query("SELECT id FROM jobs ORDER BY id DESC", {},
                                 [&](const store::SqlRow& row) { ids.push_back(row.integer(0)); });
        }
        Json jobs = Json::array();
        for (const auto id : ids) {
            jobs.push_back(impl_->job_json(id, false));
        }
        return Json{{"jobs", jobs}};
    });
}

Json JobService::job(std::int64_t job_id) const {
    return store_call([&] { return impl_->job_json(job_id, true); });
}

// Pause and resume: a request to the current run's RunControl, 409 with its reason when refused.
Json JobService::Impl::request_run(std::int64_t job_id, const char* not_state, const char* verb,
                                   bool (runner::RunControl::*request)(std::string&)) {
    const auto job = job_json(job_id, false);
    std::string why;
    {
        std::lock_guard lock(mutex);
        if (!current || current->job_id != job_id || !current->control) {
            throw ApiError(409, "job " + std::to_string(job_id) + " is " +
                                    job["status"].get<std::string>() + ", " + not_state);
        }
        if (!((*current->control).*request)(why)) {
            throw ApiError(409, why);
        }
    }
    log::info("job " + std::to_string(job_id) + ": " + verb + " requested");
    return job_json(job_id, true);
}

Json JobService::pause(std::int64_t job_id) {
    return store_call([&] {
        return impl_->request_run(job_id, "not cycling", "pause",
                                  &runner::RunControl::request_pause);
    });
}

Json JobService::resume(std::int64_t job_id) {
    return store_call([&] {
        return impl_->request_run(job_id, "not paused", "resume",
                                  &runner::RunControl::request_resume);
    });
}

Json JobService::abort(std::int64_t job_id, const std::string& who) {
    return store_call([&] {
        impl_->job_json(job_id, false);  // 404 when unknown
        const std::string reason = "aborted by " + who;
        // Twice at most: the executor may take the job between the check and the cancel.
        for (int attempt = 0;; ++attempt) {
            if (impl_->abort_current(job_id, reason)) {
                break;
            }
            int changed = 0;
            {
                std::lock_guard write(impl_->write_mutex);
                changed = impl_->writer->run(
                    "UPDATE jobs SET status = 'cancelled', ended_utc = ?, message = ? WHERE "
                    "id = ? AND status = 'queued'",
                    {now_utc(), "cancelled by " + who, job_id});
            }
            if (changed > 0) {
                break;
            }
            std::string status;
            {
                std::lock_guard read(impl_->read_mutex);
                impl_->reader->query("SELECT status FROM jobs WHERE id = ?", {job_id},
                                     [&](const store::SqlRow& row) { status = row.text(0); });
            }
            if (finished_status(status)) {
                throw ApiError(409, "job " + std::to_string(job_id) + " has ended (" + status +
                                        "); nothing to abort");
            }
            if (attempt > 0) {
                throw ApiError(409, "job " + std::to_string(job_id) + " is " + status +
                                        " but not run by this service");
            }
        }
        log::info("job " + std::to_string(job_id) + ": " + reason);
        return impl_->job_json(job_id, true);
    });
}

Json JobService::run(std::int64_t run_id) const {
    return store_call([&] {
        std::lock_guard read(impl_->read_mutex);
        auto& db = *impl_->reader;
        Json run;
        db.query(
            "SELECT r.status, r.sample_id, r.profile, r.created_utc, r.started_utc, r.ended_utc, "
            "j.job_id, r.software_version, r.instrument_identity, r.job_text FROM runs r LEFT "
            "JOIN job_runs j ON j.run_id = r.id WHERE r.id = ?",
            {run_id}, [&](const store::SqlRow& row) {
                run = {{"run_id", run_id},
                       {"job_id", row.null(6) ? Json(nullptr) : Json(row.integer(6))},
                       {"status", row.text(0)},
                       {"sample", row.text(1)},
                       {"profile", row.text(2)},
                       {"created_utc", text_or_null(row, 3)},
                       {"started_utc", text_or_null(row, 4)},
                       {"ended_utc", text_or_null(row, 5)},
                       {"software_version", row.text(7)},
                       {"instrument_identity", row.text(8)},
                       {"job_text", row.text(9)}};
            });
        if (run.is_null()) {
            throw ApiError(404, "no run " + std::to_string(run_id));
        }
        run.update(impl_->run_summary(run_id));
        db.query("SELECT count(*) FROM cycles WHERE run_id = ?", {run_id},
                 [&](const store::SqlRow& row) { run["cycles"] = row.integer(0); });
        run["events"] = Json::array();
        db.query(
            "SELECT t_s, t_wall_utc, kind, message FROM events WHERE run_id = ? ORDER BY "
            "t_s, id",
            {run_id}, [&](const store::SqlRow& row) {
                run["events"].push_back({{"t_s", row.real(0)},
                                         {"t_wall_utc", row.text(1)},
                                         {"kind", row.text(2)},
                                         {"message", row.text(3)}});
            });
        return run;
    });
}

namespace {

// One page of a run's rows keyed by seq (`samples`, `dmta`): seq > since_seq, every K-th, at
// most `limit`. `columns` are selected in order, seq first; one row past the limit says `more`.
Json page_of_rows(store::SqlConnection& db, std::int64_t run_id, const std::string& table,
                  const std::vector<std::string>& columns, std::int64_t since_seq,
                  std::int64_t limit, std::int64_t every,
                  const std::function<Json(const store::SqlRow&)>& row_json) {
    if (limit < 1 || limit > 100000) {
        throw ApiError(400, "limit must be 1 to 100000, not " + std::to_string(limit));
    }
    if (every < 1) {
        throw ApiError(400, "every must be 1 or more, not " + std::to_string(every));
    }
    bool known = false;
    db.query("SELECT 1 FROM runs WHERE id = ?", {run_id},
             [&](const store::SqlRow&) { known = true; });
    if (!known) {
        throw ApiError(404, "no run " + std::to_string(run_id));
    }
    std::string select;
    for (const auto& column : columns) {
        select += (select.empty() ? "" : ", ") + column;
    }
    Json rows = Json::array();
    std::int64_t next_since = since_seq;
    bool more = false;
    // The primary key (run_id, seq) serves the range.
    db.query("SELECT " + select + " FROM " + table +
                 " WHERE run_id = ? AND seq > ? AND seq % ? = 0 ORDER BY seq LIMIT ?",
             {run_id, since_seq, every, limit + 1}, [&](const store::SqlRow& row) {
                 if (static_cast<std::int64_t>(rows.size()) == limit) {
                     more = true;
                     return;
                 }
                 next_since = row.integer(0);
                 rows.push_back(row_json(row));
             });
    return Json{{"run_id", run_id},
                {"columns", columns},
                {"rows", rows},
                {"next_since", next_since},
                {"more", more}};
}

}  // namespace

Json JobService::samples(std::int64_t run_id, std::int64_t since_seq, std::int64_t limit,
                         std::int64_t every) const {
    return store_call([&] {
        std::lock_guard read(impl_->read_mutex);
        return page_of_rows(*impl_->reader, run_id, "samples",
                            {"seq", "t_s", "t_wall_utc", "segment", "temperature_k", "force_n",
                             "displacement_m", "stress_mpa", "strain"},
                            since_seq, limit, every, [](const store::SqlRow& row) {
                                return Json{row.integer(0), row.real(1), row.text(2),
                                            row.text(3),    row.real(4), row.real(5),
                                            row.real(6),    row.real(7), row.real(8)};
                            });
    });
}

Json JobService::dmta(std::int64_t run_id, std::int64_t since_seq, std::int64_t limit,
                      std::int64_t every) const {
    return store_call([&] {
        std::lock_guard read(impl_->read_mutex);
        return page_of_rows(*impl_->reader, run_id, "dmta",
                            {"seq", "t_s", "t_wall_utc", "frequency_hz", "temperature_k",
                             "storage_pa", "loss_pa", "tan_delta"},
                            since_seq, limit, every, [](const store::SqlRow& row) {
                                return Json{row.integer(0), row.real(1), row.text(2), row.real(3),
                                            row.real(4),    row.real(5), row.real(6), row.real(7)};
                            });
    });
}

Json JobService::results(std::int64_t run_id) const {
    return store_call([&] {
        std::lock_guard read(impl_->read_mutex);
        bool known = false;
        impl_->reader->query("SELECT 1 FROM runs WHERE id = ?", {run_id},
                             [&](const store::SqlRow&) { known = true; });
        if (!known) {
            throw ApiError(404, "no run " + std::to_string(run_id));
        }
        Json results = Json::object();
        impl_->reader->query("SELECT kind, json FROM results WHERE run_id = ? ORDER BY kind",
                             {run_id}, [&](const store::SqlRow& row) {
                                 results[row.text(0)] = Json::parse(row.text(1), nullptr, false);
                             });
        return Json{{"run_id", run_id}, {"results", results}};
    });
}

Json JobService::health() const {
    const auto store = impl_->store->health();
    Json answer = {
        {"status", store.ok ? "ok" : "degraded"},
        {"version", DMACYCLE_VERSION},
        {"store", {{"ok", store.ok}, {"error", store.error}, {"pending_rows", store.pending_rows}}},
        {"instrument", impl_->sim ? "simulated" : "rig"},
        {"running_job", nullptr},
        {"queued_jobs", 0}};
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->current) {
            answer["running_job"] = impl_->current->job_id;
        }
    }
    try {
        std::lock_guard read(impl_->read_mutex);
        impl_->reader->query(
            "SELECT count(*) FROM jobs WHERE status = 'queued'", {},
            [&](const store::SqlRow& row) { answer["queued_jobs"] = row.integer(0); });
    } catch (const store::StoreError& error) {
        answer["status"] = "degraded";
        answer["store"]["ok"] = false;
        answer["store"]["error"] = error.what();
    }
    return answer;
}

std::string JobService::metrics() const {
    return store_call([&] {
        std::map<std::string, std::int64_t> by_status;
        for (const auto* status : job_statuses) {
            by_status[status] = 0;
        }
        std::optional<CurrentJob> current;
        bool paused = false;
        {
            std::lock_guard lock(impl_->mutex);
            current = impl_->current;
            paused = current && current->control && current->control->progress().paused;
        }
        std::int64_t samples = 0, last_seq = -1;
        {
            std::lock_guard read(impl_->read_mutex);
            auto& db = *impl_->reader;
            db.query("SELECT status, count(*) FROM jobs GROUP BY status", {},
                     [&](const store::SqlRow& row) { by_status[row.text(0)] = row.integer(1); });
            if (paused) {
                --by_status["running"];
                ++by_status["paused"];
            }
            std::vector<std::int64_t> runs;
            db.query("SELECT id FROM runs", {},
                     [&](const store::SqlRow& row) { runs.push_back(row.integer(0)); });
            for (const auto id : runs) {
                samples += impl_->tally(id).count;
            }
            if (current && current->run_id >= 0) {
                last_seq = impl_->tally(current->run_id).last_seq;
            }
        }
        const auto store = impl_->store->health();
        std::string text =
            "# HELP dmacycle_jobs Jobs in the queue's table by status.\n"
            "# TYPE dmacycle_jobs gauge\n";
        for (const auto& [status, count] : by_status) {
            text += "dmacycle_jobs{status=\"" + status + "\"} " + std::to_string(count) + "\n";
        }
        const auto metric = [&](const char* name, const char* type, const char* help,
                                const std::string& value) {
            text += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type +
                    "\n" + name + " " + value + "\n";
        };
        metric("dmacycle_samples_stored_total", "counter", "Samples in the store, all runs.",
               std::to_string(samples));
        metric("dmacycle_store_ok", "gauge", "1 while store commits succeed.",
               store.ok ? "1" : "0");
        metric("dmacycle_store_pending_rows", "gauge", "Rows accepted and not yet committed.",
               std::to_string(store.pending_rows));
        metric("dmacycle_run_paused", "gauge", "1 while the current run holds paused.",
               paused ? "1" : "0");
        metric("dmacycle_run_last_seq", "gauge",
               "Latest stored sample of the current run (-1: none).", std::to_string(last_seq));
        return text;
    });
}

void JobService::scan_spool() {
    const auto& spool = impl_->config.spool;
    if (spool.empty()) {
        return;
    }
    std::lock_guard lock(impl_->spool_mutex);
    std::vector<fs::path> files;
    try {
        for (const auto* sub : {"", "accepted", "rejected"}) {
            const fs::path dir = spool / sub;
            const auto status = fs::symlink_status(dir);
            if (!fs::exists(status)) {
                fs::create_directories(dir);
                fs::permissions(
                    dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
            } else if (*sub != '\0' && !fs::is_directory(status)) {
                // Files are moved into these: a link put in their place by whoever may write
                // to the spool folder would send them (and the error files) elsewhere.
                if (impl_->spool_warned.insert(sub).second) {
                    log::error("spool: " + dir.string() +
                               " is not a folder (a symbolic link?); no job is taken from the "
                               "spool until it is");
                }
                return;
            }
        }
        for (const auto& entry : fs::directory_iterator(spool)) {
            const auto name = entry.path().filename().string();
            if (entry.path().extension() == ".yaml" && name.front() != '.') {
                files.push_back(entry.path());
            }
        }
    } catch (const fs::filesystem_error& error) {
        // The folder may come back (a mount, a permission fixed): the next pass tries again.
        log::error(std::string("spool: ") + error.what());
        return;
    }
    std::sort(files.begin(), files.end());  // a stable, predictable order within one pass
    auto& warned = impl_->spool_warned;
    std::erase_if(warned, [&](const std::string& name) {
        return std::none_of(files.begin(), files.end(),
                            [&](const fs::path& path) { return path.filename() == name; });
    });
    for (const auto& path : files) {
        const std::string name = path.filename().string();
        try {
            store_call([&] {
                impl_->spool_file(path);
                return 0;
            });
        } catch (const std::exception& error) {
            // One bad file (or a failing store) must not stop the pass or the service; a file
            // that stays is logged once, not at every pass.
            if (warned.insert(name).second) {
                log::error("spool: " + name + ": " + error.what() + " (left in the spool)");
            }
        }
    }
}

}  // namespace dmacycle::service

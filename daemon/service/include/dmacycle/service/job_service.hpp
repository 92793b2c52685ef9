#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dmacycle/runner/rig.hpp"

// The service's back end (docs/service.md, docs/api.md): the persistent job queue in the
// store's SQLite file, the executor thread that runs jobs one at a time on the one instrument,
// the spool folder, restart recovery, and the queries the HTTP API answers. Thread-safe: the
// HTTP layer calls it from the event loop, the executor runs on its own thread.
namespace dmacycle::service {

// A request the API refuses: the HTTP status and a message naming what is wrong (and, for a
// job file, one "job.yaml:LINE:COLUMN: field: problem" per problem in `details`).
class ApiError : public std::runtime_error {
  public:
    ApiError(int status, const std::string& message, std::vector<std::string> details = {})
        : std::runtime_error(message), status_(status), details_(std::move(details)) {}
    int status() const { return status_; }
    const std::vector<std::string>& details() const { return details_; }

  private:
    int status_;
    std::vector<std::string> details_;
};

// config/dmacycled.yaml; command-line flags override (dmacycled --help). Relative paths are
// taken from the config file's folder.
struct ServiceConfig {
    std::string listen = "127.0.0.1:8470";  // ADDR:PORT; port 0 picks a free one
    std::filesystem::path database;         // the SQLite store (runs, samples, jobs)
    std::filesystem::path spool;            // empty: no spool folder
    std::filesystem::path tokens;           // bearer tokens file (docs/service.md)
    // Where the instrument profiles that jobs name (`profile: NAME`) are: NAME.yaml there.
    std::filesystem::path profiles;  // default: instruments/ beside the config file
    // The instrument: the frame and furnace of a rig file (config/rigs/*.yaml), or the
    // simulator (`simulate:`, or a rig of `driver: sim`), brought up with the JobService.
    std::optional<runner::RigSpec> instrument;
    double sample_rate_hz = 10.0;
    std::size_t max_request_bytes = 1 << 20;  // whole HTTP request, headers included
    std::size_t max_job_bytes = 256 << 10;    // one job file (API body or spool file)
    // The store's file may not grow beyond this (SQLite max_page_count, 4 KiB pages); 0: no
    // limit (the key absent). Reaching it is a full disk: rows wait in memory and are retried
    // (docs/reliability.md).
    std::uint64_t max_database_bytes = 0;
    std::chrono::milliseconds spool_poll{500};
    std::filesystem::path config_dir;  // where relative paths (and job profiles) are resolved
};

// Reads the config file; throws InputError "FILE:LINE: field: problem" on anything wrong.
ServiceConfig load_service_config(const std::filesystem::path& path);

class JobService {
  public:
    // Takes an exclusive lock on DATABASE.lock (InputError when another dmacycled holds it) and
    // opens the store. Touches neither the instrument nor the queue: start() does.
    explicit JobService(ServiceConfig config);
    // Finds runs left `running` by a dead process (marked `interrupted`, the gap recorded, the
    // instrument driven to the safe state), settles spool files a stop left half-accepted, then
    // starts the executor. dmacycled calls it once its listener is bound. Idempotent.
    void start();
    // Stops the executor: a run in progress goes to the safe state and ends `interrupted`
    // ("service stopped"); queued jobs stay queued for the next start.
    ~JobService();
    JobService(const JobService&) = delete;
    JobService& operator=(const JobService&) = delete;

    // POST /api/v1/jobs and the spool: validates (422 with details when invalid, 413 when over
    // max_job_bytes), then queues. `source` is recorded, e.g. "api:alice" or "spool:x.yaml".
    nlohmann::json submit(const std::string& job_text, const std::string& source);
    nlohmann::json list_jobs() const;               // GET /api/v1/jobs
    nlohmann::json job(std::int64_t job_id) const;  // GET /api/v1/jobs/ID (404 unknown)
    nlohmann::json pause(std::int64_t job_id);      // 409 when not cycling
    nlohmann::json resume(std::int64_t job_id);     // 409 when not paused
    nlohmann::json abort(std::int64_t job_id, const std::string& who);  // queued → cancelled
    nlohmann::json run(std::int64_t run_id) const;                      // GET /api/v1/runs/ID
    // GET /api/v1/runs/ID/samples?since=SEQ&limit=N&every=K: rows with seq > since, every K-th.
    nlohmann::json samples(std::int64_t run_id, std::int64_t since_seq, std::int64_t limit,
                           std::int64_t every) const;
    // GET /api/v1/runs/ID/dmta?since=SEQ&limit=N&every=K: a scan's E', E'' and tan delta rows.
    nlohmann::json dmta(std::int64_t run_id, std::int64_t since_seq, std::int64_t limit,
                        std::int64_t every) const;
    nlohmann::json results(std::int64_t run_id) const;  // GET /api/v1/runs/ID/results
    nlohmann::json health() const;                      // GET /healthz
    std::string metrics() const;                        // GET /metrics (Prometheus text)

    // One pass over the spool folder (the service calls it every spool_poll).
    void scan_spool();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dmacycle::service

#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

// A read-only view of a store file (docs/store-schema.md) for reports and exports: runs, their
// samples in seq order, events, cycles and stored results, read while a run may still be written
// (WAL readers never block the writer). Nothing here writes to the file.
namespace dmacycle::store {

class SqlConnection;

struct ArchivedRun {
    std::int64_t id = 0;
    std::int64_t job_id = 0;  // 0 for a run recorded by `dmacycle run`, not by the service
    std::int64_t sweep_point = 0;
    std::string job_text;  // the job file (YAML) as submitted
    std::string sample_id;
    std::string profile;
    std::string software_version;
    std::string instrument_identity;
    std::string status;
    std::string created_utc;
    std::string started_utc;  // "" when not set
    std::string ended_utc;
};

struct ArchivedSample {
    std::int64_t seq = 0;
    double t_s = 0.0;
    std::string t_wall_utc;
    std::string segment;
    double temperature_k = 0.0;
    double force_n = 0.0;
    double displacement_m = 0.0;
    double stress_pa = 0.0;
    double strain = 0.0;
};

// What the fits and the report read of a sample; the segment is valid during the call only.
struct ArchivedTrace {
    double t_s = 0.0;
    std::string_view segment;
    double stress_pa = 0.0;
    double strain = 0.0;
};

struct ArchivedEvent {
    double t_s = 0.0;
    std::string t_wall_utc;
    std::string kind;
    std::string message;
};

struct ArchivedCycle {
    int cycle = 0;  // 1-based
    double t_start_s = 0.0;
    double t_end_s = 0.0;
    double stress_min_pa = 0.0;
    double stress_max_pa = 0.0;
    double strain_min = 0.0;
    double strain_max = 0.0;
};

struct ArchivedDmta {
    std::int64_t seq = 0;  // from 0, in the order measured
    double t_s = 0.0;
    std::string t_wall_utc;
    double frequency_hz = 0.0;
    double temperature_k = 0.0;
    double storage_pa = 0.0;
    double loss_pa = 0.0;
    double tan_delta = 0.0;
};

class RunArchive {
  public:
    // Opens FILE read-only. Throws InputError ("FILE: problem") when it is missing, not SQLite,
    // or not a dmacycle store.
    explicit RunArchive(const std::filesystem::path& file);
    ~RunArchive();
    RunArchive(const RunArchive&) = delete;
    RunArchive& operator=(const RunArchive&) = delete;

    const std::filesystem::path& file() const { return file_; }
    // Throws InputError ("FILE: no run 7") for an unknown run.
    ArchivedRun run(std::int64_t run_id) const;
    // The runs a service job made, in sweep-point order; throws InputError for an unknown job.
    std::vector<std::int64_t> runs_of_job(std::int64_t job_id) const;
    // Calls `each` for every stored sample of the run in seq order, keeping every `every`-th seq
    // (seq % every == 0), without holding the whole run in memory.
    void for_each_sample(std::int64_t run_id,
                         const std::function<void(const ArchivedSample&)>& each,
                         std::int64_t every = 1) const;
    // The same, every sample, reading only time, segment, stress and strain: half the work of
    // a whole row, for a pass over a long run.
    void for_each_trace(std::int64_t run_id,
                        const std::function<void(const ArchivedTrace&)>& each) const;
    std::vector<ArchivedEvent> events(std::int64_t run_id) const;
    std::vector<ArchivedCycle> cycles(std::int64_t run_id) const;
    // The run's DMTA measurements in seq order; empty for a run without a scan (and for a
    // version-2 file, which has no such table). Files before version 4 hold stress in MPa: it is
    // read as Pa, the file left as it is.
    std::vector<ArchivedDmta> dmta(std::int64_t run_id) const;
    // Stored results by kind (`spectrum`, `kww`, ...), parsed; empty before the analysis.
    std::map<std::string, nlohmann::json> results(std::int64_t run_id) const;

  private:
    struct Coded;
    std::filesystem::path file_;
    std::unique_ptr<SqlConnection> db_;
    bool has_dmta_ = false;
    std::int64_t version_ = 0;  // PRAGMA user_version
};

}  // namespace dmacycle::store

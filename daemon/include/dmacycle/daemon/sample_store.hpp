#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

struct sqlite3;

// The SQLite store of runs and their samples, events, cycles and results. Schema and durability
// are documented in docs/store-schema.md.
namespace dmacycle::daemon {

class StoreError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

enum class RunStatus { queued, running, completed, aborted, faulted, interrupted };
std::string_view to_string(RunStatus status);

using WallClock = std::chrono::system_clock;
// ISO 8601 UTC with milliseconds, "2026-11-24T12:00:00.123Z": what the store writes.
std::string format_utc(WallClock::time_point time);
// The same text in a fixed buffer, for the once-per-sample path (no allocation).
class UtcText {
  public:
    explicit UtcText(WallClock::time_point time);
    std::string_view view() const { return text_; }

  private:
    char text_[80];  // room for any value the format could print, so it never truncates
};

struct RunInfo {
    std::string job_text;  // the job file as given, so the run can be reproduced
    std::string sample_id;
    std::string profile;
    std::string software_version;
    std::string instrument_identity;  // e.g. the frame's and furnace's *IDN? replies
};

struct SampleRow {
    std::int64_t seq = 0;  // per run, assigned by the acquisition; a re-sent seq is stored once
    double t_s = 0;        // instrument time since the start of the run
    WallClock::time_point t_wall;
    std::string segment;  // plan segment kind, e.g. "cycle"
    double temperature_k = 0;
    double force_n = 0;
    double displacement_m = 0;
    double stress_mpa = 0;
    double strain = 0;
};

struct EventRow {
    double t_s = 0;
    WallClock::time_point t_wall;
    std::string kind;  // e.g. "interlock", "segment", "link"
    std::string message;
};

struct CycleRow {
    std::int64_t cycle = 0;  // 1-based, per run; a re-sent cycle is stored once
    double t_start_s = 0, t_end_s = 0;
    double stress_min_mpa = 0, stress_max_mpa = 0;
    double strain_min = 0, strain_max = 0;
};

struct StoreOptions {
    // Longest time an appended row waits before its transaction commits: the most acquisition a
    // crash can lose. At most 1 s.
    std::chrono::milliseconds commit_window{500};
    std::size_t max_batch_rows = 20000;  // a batch commits early when this full
    // Appends wait while this many rows are not yet committed (the disk stalls): memory stays
    // bounded instead of growing with the stall.
    std::size_t max_pending_rows = 200000;
    // false: synchronous=NORMAL. A commit survives a crash or kill of this process at once, but
    // the WAL is fsynced only at checkpoints, so a power loss or OS crash can roll back the
    // commits since the last checkpoint (the database stays consistent). true: synchronous=FULL,
    // one fsync per commit (a few per second), and a power loss loses at most one window.
    bool sync_each_commit = false;
};

// The schema's version, kept in PRAGMA user_version.
inline constexpr int store_schema_version = 1;
// The schema (CREATE statements), for tools and benchmarks that need the same tables.
std::string_view store_schema_sql();

// Opens (creating if needed) a store in WAL mode. One writer thread owns all writes: data rows
// are queued and committed in batches at most `commit_window` apart; run bookkeeping waits for
// its commit. Throws StoreError when the file cannot be opened or its schema is newer.
class SampleStore {
  public:
    explicit SampleStore(const std::string& path, StoreOptions options = {});
    ~SampleStore();  // commits everything queued, then closes
    SampleStore(const SampleStore&) = delete;
    SampleStore& operator=(const SampleStore&) = delete;

    // Run bookkeeping: returns once committed.
    std::int64_t create_run(const RunInfo& info);
    // `running` sets started_utc; completed/aborted/faulted/interrupted set ended_utc.
    void set_status(std::int64_t run_id, RunStatus status);
    // Runs left `running` by a process that died: marked interrupted; returns their ids.
    std::vector<std::int64_t> mark_interrupted();

    // Data: validated here (throws StoreError, queues nothing, on a non-finite value, a negative
    // seq or cycle, an empty segment or kind, or an unknown run), committed within the window.
    void append(std::int64_t run_id, const SampleRow& row);
    void append_event(std::int64_t run_id, const EventRow& event);
    void append_cycle(std::int64_t run_id, const CycleRow& cycle);
    // A result (e.g. kind "spectrum") as JSON text; storing the same kind again replaces it.
    void store_result(std::int64_t run_id, const std::string& kind, const std::string& json);

    // Returns once everything queued before the call is committed.
    void flush();
    // The highest seq of `run_id` committed by this store: that row and every row appended
    // before it are in the file and survive a crash of this process. nullopt: none yet.
    std::optional<std::int64_t> committed_seq(std::int64_t run_id) const;

  private:
    struct Item;
    struct Statements;

    // Queues `item` (`rows` data rows; 0 for bookkeeping), after checking `run_id` is known.
    void enqueue(Item item, std::size_t rows, std::optional<std::int64_t> run_id = std::nullopt);
    void writer_loop();
    void commit_batch(std::vector<Item>& batch);
    void require_run(std::int64_t run_id) const;
    void throw_if_failed() const;

    StoreOptions options_;
    sqlite3* db_ = nullptr;
    std::unique_ptr<Statements> statements_;

    mutable std::mutex mutex_;
    std::condition_variable wake_writer_, committed_;
    std::vector<Item> queue_;
    std::chrono::steady_clock::time_point oldest_queued_;  // arrival of queue_.front()
    std::size_t pending_rows_ = 0;
    std::uint64_t queued_ticket_ = 0, committed_ticket_ = 0;
    bool flush_requested_ = false, stopping_ = false;
    std::string failure_;  // the writer's error; every later call throws it
    std::map<std::int64_t, std::int64_t> committed_seq_;
    std::vector<std::int64_t> known_runs_;  // sorted
    std::thread writer_;
};

}  // namespace dmacycle::daemon

#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

// The SQLite store of runs and their samples, events, cycles and results. Schema and durability
// are documented in docs/store-schema.md.
namespace dmacycle::store {

class SqlConnection;

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
    // What the samples' stress and strain are divided by, and the time between samples: the
    // store keeps a sample's stress and strain only when they are not force / cross_section_m2
    // and displacement / gauge_length_m, and its time as an offset off the sample period's
    // line. 0: unknown (the values are stored, every one still exact).
    double cross_section_m2 = 0;
    double gauge_length_m = 0;
    double sample_period_s = 0;
};

struct SampleRow {
    std::int64_t seq = 0;  // per run, assigned by the acquisition; a re-sent seq is stored once
    double t_s = 0;        // instrument time since the start of the run
    WallClock::time_point t_wall;
    std::string segment;  // plan segment kind, e.g. "cycle"
    double temperature_k = 0;
    double force_n = 0;
    double displacement_m = 0;
    double stress_pa = 0;
    double strain = 0;
};

// Keyed by (run, t_s, kind, message): a re-sent event is stored once, keeping the first.
struct EventRow {
    double t_s = 0;
    WallClock::time_point t_wall;
    std::string kind;  // e.g. "interlock", "segment", "link"
    std::string message;
};

struct CycleRow {
    std::int64_t cycle = 0;  // 1-based, per run; a re-sent cycle is stored once
    double t_start_s = 0, t_end_s = 0;
    double stress_min_pa = 0, stress_max_pa = 0;
    double strain_min = 0, strain_max = 0;
};

// One DMTA measurement (E′, E″, tan δ at one frequency) of a temperature scan.
struct DmtaRow {
    std::int64_t seq = 0;  // per run, from 0 in the order measured; a re-sent seq is stored once
    double t_s = 0;        // instrument time since the start of the run
    WallClock::time_point t_wall;
    double frequency_hz = 0;
    double temperature_k = 0;
    double storage_pa = 0;  // E′
    double loss_pa = 0;     // E″
    double tan_delta = 0;
};

// The writer's condition. A commit that fails for a reason that can pass (another connection's
// lock, a full disk, an I/O error) keeps its rows and is retried with a backoff growing to 1 s;
// appends continue until max_pending_rows are waiting, then block until the disk recovers, or
// throw once they have waited stall_timeout (the rows already accepted stay queued).
struct StoreHealth {
    bool ok = true;                         // false while commits are failing
    std::string error{};                    // the latest failure; empty when ok
    WallClock::time_point failing_since{};  // first failure of the current stall
    std::uint64_t failed_attempts = 0;      // in the current stall
    std::size_t pending_rows = 0;  // accepted and not yet committed (none of them is dropped)
};

struct StoreOptions {
    // Longest time an appended row waits before its transaction commits: the most acquisition a
    // crash can lose. At most 1 s.
    std::chrono::milliseconds commit_window{500};
    std::size_t max_batch_rows = 20000;  // a batch commits early when this full
    // Appends wait while this many rows are not yet committed (the disk stalls): memory stays
    // bounded instead of growing with the stall.
    std::size_t max_pending_rows = 200000;
    // true (default): synchronous=FULL, one fsync per commit (a few per second), so a power loss
    // or OS crash loses at most the rows of one commit window. false: synchronous=NORMAL; a
    // commit still survives a crash or kill of this process at once, but the WAL is fsynced only
    // at checkpoints, so a power loss can roll back the commits since the last checkpoint (the
    // database stays consistent).
    bool sync_each_commit = true;
    // How long SQLite itself waits for another connection's lock before a commit attempt fails
    // (and is retried, see StoreHealth).
    std::chrono::milliseconds busy_timeout{5000};
    // How long flush, set_status and mark_interrupted wait while commits are failing before they
    // throw; what they queued stays queued and is retried. create_run waits the same, and so
    // does an append held by a full backlog.
    std::chrono::milliseconds stall_timeout{30000};
    // On close, how long to keep retrying failing commits before giving up on what is queued
    // (reported on stderr with its row count).
    std::chrono::milliseconds close_timeout{10000};
    // SQLite's PRAGMA max_page_count for this connection; 0 leaves SQLite's default. Tests use it
    // (and set_max_page_count) to simulate a full disk.
    std::uint32_t max_page_count = 0;
    // Called on the writer thread when commits start failing and when they succeed again.
    std::function<void(const StoreHealth&)> on_health_change{};
};

// The schema's version, kept in PRAGMA user_version. Older files are upgraded when opened:
// version 1 (events not keyed), version 2 (no `dmta` table), version 3 (stress in MPa),
// version 4 (the work_done result's stresses in MPa) and version 5 (a row of plain values per
// sample; version 6 stores codes in `sample_rows` and reads them through the `samples` view).
inline constexpr int store_schema_version = 6;
// The schema (CREATE statements), for tools and benchmarks that need the same tables.
std::string_view store_schema_sql();

// Opens (creating if needed) a store in WAL mode. One writer thread owns all writes: data rows
// are queued and committed in batches at most `commit_window` apart; run bookkeeping waits for
// its commit. Throws StoreError when the file cannot be opened or its schema is newer. Commits
// that fail for a reason that can pass are retried, never dropped (see StoreHealth).
class SampleStore {
  public:
    explicit SampleStore(const std::string& path, StoreOptions options = {});
    // Commits everything queued, then closes; while commits fail, retries for close_timeout and
    // then reports on stderr how many accepted rows were not committed.
    ~SampleStore();
    SampleStore(const SampleStore&) = delete;
    SampleStore& operator=(const SampleStore&) = delete;

    // Run bookkeeping: returns once committed. While commits fail, throws StoreError after
    // stall_timeout; the change stays queued and is committed when the store recovers.
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
    void append_dmta(std::int64_t run_id, const DmtaRow& row);
    // A result (e.g. kind "spectrum") as JSON text; storing the same kind again replaces it.
    void store_result(std::int64_t run_id, const std::string& kind, const std::string& json);

    // Returns once everything queued before the call is committed (throws as bookkeeping does
    // while commits fail).
    void flush();
    // The highest seq of `run_id` committed by this store: that row and every row appended
    // before it are in the file and survive a crash of this process. nullopt: none yet.
    std::optional<std::int64_t> committed_seq(std::int64_t run_id) const;

    // Whether commits are failing, why, and how many accepted rows wait.
    StoreHealth health() const;
    // Changes PRAGMA max_page_count before the next commit attempt (see StoreOptions).
    void set_max_page_count(std::uint32_t pages);

  private:
    struct Item;
    struct Statements;
    struct WriterState;

    // Queues `item` (`rows` data rows; 0 for bookkeeping), after checking `run_id` is known.
    // Returns its ticket: committed once committed_ticket_ reaches it.
    std::uint64_t enqueue(Item item, std::size_t rows,
                          std::optional<std::int64_t> run_id = std::nullopt);
    // The writer thread: commits the queue in batches, retrying failed commits (StoreHealth).
    void writer_loop();
    // Waits (holding `lock`) for queued items and the commit window, then moves them into
    // `batch`; false when stopping with nothing queued.
    bool take_batch(std::unique_lock<std::mutex>& lock, std::vector<Item>& batch);
    void commit_batch(std::vector<Item>& batch);
    // The writer's bookkeeping after `batch` committed or failed to; these hold mutex_ (`lock`,
    // which report_health releases while it calls on_health_change).
    void after_commit(std::unique_lock<std::mutex>& lock, std::vector<Item>& batch,
                      WriterState& state);
    // Returns false when the writer gives up (the failure cannot pass, or close_timeout ran out).
    bool after_failed_commit(std::unique_lock<std::mutex>& lock, std::vector<Item>& batch,
                             WriterState& state, const std::string& failure, bool passes);
    void forget_created_runs(const std::vector<Item>& batch);
    void give_up(std::vector<Item>& batch, const std::string& failure);
    void report_health(std::unique_lock<std::mutex>& lock, const StoreHealth& health);
    void require_run(std::int64_t run_id) const;
    void throw_if_failed() const;
    void rollback() noexcept;  // of the open transaction, if any
    // Waits on `committed_` until `done`; throws after stall_timeout of failing commits.
    template <typename Done>
    void wait_committed(std::unique_lock<std::mutex>& lock, Done done, std::string_view what);

    StoreOptions options_;
    std::unique_ptr<SqlConnection> db_;  // the writer thread's, once constructed
    std::unique_ptr<Statements> statements_;

    mutable std::mutex mutex_;
    std::condition_variable wake_writer_, committed_;
    std::vector<Item> queue_;
    std::chrono::steady_clock::time_point oldest_queued_;  // arrival of queue_.front()
    std::size_t pending_rows_ = 0;
    std::uint64_t queued_ticket_ = 0, committed_ticket_ = 0;
    bool flush_requested_ = false, stopping_ = false;
    std::string failure_;  // the writer's error that cannot pass; every later call throws it
    StoreHealth health_;
    std::chrono::steady_clock::time_point stall_started_;  // health_.failing_since, monotonic
    std::optional<std::uint32_t> page_limit_request_;
    std::map<std::int64_t, std::int64_t> committed_seq_;
    std::vector<std::int64_t> known_runs_;  // sorted
    std::thread writer_;
};

}  // namespace dmacycle::store

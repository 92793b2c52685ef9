#include "dmacycle/store/sample_store.hpp"

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <span>
#include <utility>
#include <variant>

#include "dmacycle/store/names.hpp"
#include "dmacycle/store/sample_codec.hpp"
#include "dmacycle/store/sql_connection.hpp"
#include "sample_rows.hpp"
#include "store_schema.hpp"

namespace dmacycle::store {
namespace {

// The name of the first value that is not finite, or nullptr. Messages are built only on
// failure: this runs once per sample.
const char* first_non_finite(std::initializer_list<std::pair<const char*, double>> values) {
    for (const auto& [name, value] : values) {
        if (!std::isfinite(value)) {
            return name;
        }
    }
    return nullptr;
}

std::string not_finite(const std::string& what, const char* name) {
    return what + ": " + name + " is not finite; stored values must be (record a sensor fault " +
           "as an event)";
}

// "INSERT OR IGNORE INTO TABLE (run_id, COLUMNS...) VALUES (?, ...)", the columns from the
// names table.
std::string insert_sql(std::string_view table, std::span<const names::Column> columns) {
    std::string values = "?";
    for (std::size_t i = 0; i < columns.size(); ++i) {
        values += ", ?";
    }
    return "INSERT OR IGNORE INTO " + std::string(table) + " (run_id, " + names::joined(columns) +
           ") VALUES (" + values + ")";
}

// The INSERT parameter of a names-table column (run_id is the first).
template <std::size_t N>
consteval int parameter(const std::array<names::Column, N>& table, std::string_view name) {
    return names::index_of(table, name) + 2;
}

// A run's divisor for its codes: NULL (unknown, stress or strain stored) unless usable.
SqlValue divisor(double value) {
    return value != 0 && std::isfinite(value) ? SqlValue(value) : SqlValue(nullptr);
}

// The clock line's step in whole µs; 0 when the period is unknown.
std::int64_t step_us(double period_s) {
    return period_s > 0 && period_s < 1e6 ? std::llround(period_s * 1e6) : 0;
}

}  // namespace

std::string_view to_string(RunStatus status) {
    switch (status) {
        case RunStatus::queued:
            return "queued";
        case RunStatus::running:
            return "running";
        case RunStatus::completed:
            return "completed";
        case RunStatus::aborted:
            return "aborted";
        case RunStatus::faulted:
            return "faulted";
        case RunStatus::interrupted:
            return "interrupted";
    }
    return "?";
}

UtcText::UtcText(WallClock::time_point time) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
    const auto seconds = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
    const long long millis = (ms % 1000 + 1000) % 1000;
    std::tm parts{};
    gmtime_r(&seconds, &parts);
    std::snprintf(text_, sizeof text_, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ",
                  parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
                  parts.tm_min, parts.tm_sec, millis);
}

std::string format_utc(WallClock::time_point time) {
    return std::string(UtcText(time).view());
}

struct SampleStore::Statements {
    SampleRowWriter sample;
    SqlStatement event, cycle, result, dmta;
    explicit Statements(SqlConnection& db)
        : sample(db),
          event(db.statement("INSERT OR IGNORE INTO events (run_id, t_s, t_wall_utc, kind, "
                             "message) VALUES (?, ?, ?, ?, ?)")),
          cycle(db.statement(insert_sql("cycles", names::cycles))),
          result(db.statement("INSERT OR REPLACE INTO results (run_id, kind, json, created_utc) "
                              "VALUES (?, ?, ?, ?)")),
          dmta(db.statement(insert_sql("dmta", names::dmta))) {}
};

// What the writer thread executes, in the order it was queued.
struct SampleStore::Item {
    struct Sample {
        std::int64_t run_id;
        SampleRow row;
    };
    struct Event {
        std::int64_t run_id;
        EventRow row;
    };
    struct Cycle {
        std::int64_t run_id;
        CycleRow row;
    };
    struct Dmta {
        std::int64_t run_id;
        DmtaRow row;
    };
    struct Result {
        std::int64_t run_id;
        std::string kind, json;
        WallClock::time_point at;
    };
    // Bookkeeping whose caller waits for its ticket to commit. `work` may run more than once (a
    // failed commit is retried), so it owns what it uses and resets what it produces.
    struct Task {
        std::function<void(SqlConnection&)> work;
        // create_run: the new id, added to the known runs when committed (not later, by the
        // caller, which another thread's append could overtake).
        std::shared_ptr<std::int64_t> created_run;
    };
    std::variant<Sample, Event, Cycle, Dmta, Result, Task> what;
};

SampleStore::SampleStore(const std::string& path, StoreOptions options) : options_(options) {
    if (options_.commit_window <= std::chrono::milliseconds(0) ||
        options_.commit_window > std::chrono::seconds(1)) {
        throw StoreError("commit window must be in (0, 1] s: at most 1 s of samples at risk");
    }
    if (options_.max_batch_rows == 0 || options_.max_pending_rows < options_.max_batch_rows) {
        throw StoreError("need 0 < max_batch_rows <= max_pending_rows");
    }
    db_ = std::make_unique<SqlConnection>(
        path, SqlConnection::Options{.create = true,
                                     .busy_timeout = options_.busy_timeout,
                                     .synchronous_full = options_.sync_each_commit,
                                     .max_page_count = options_.max_page_count});
    try {
        create_or_upgrade_schema(*db_, path);
        db_->query("SELECT id FROM runs ORDER BY id", {},
                   [&](const SqlRow& row) { known_runs_.push_back(row.integer(0)); });
        statements_ = std::make_unique<Statements>(*db_);
    } catch (...) {
        statements_.reset();
        rollback();
        db_.reset();
        throw;
    }
    writer_ = std::thread([this] { writer_loop(); });
}

SampleStore::~SampleStore() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_writer_.notify_one();
    writer_.join();
    statements_.reset();
    db_.reset();
}

void SampleStore::rollback() noexcept {
    try {
        db_->exec("ROLLBACK");
    } catch (const StoreError&) {
        // No transaction open, or it is gone already: nothing to undo.
    }
}

void SampleStore::throw_if_failed() const {
    if (!failure_.empty()) {
        throw StoreError("store failed: " + failure_);
    }
}

void SampleStore::require_run(std::int64_t run_id) const {
    if (!std::binary_search(known_runs_.begin(), known_runs_.end(), run_id)) {
        throw StoreError("no run " + std::to_string(run_id) + " in the store");
    }
}

template <typename Done>
void SampleStore::wait_committed(std::unique_lock<std::mutex>& lock, Done done,
                                 std::string_view what) {
    const auto began = std::chrono::steady_clock::now();
    while (!done()) {
        throw_if_failed();
        if (health_.ok) {
            committed_.wait(lock);
            continue;
        }
        const auto deadline = std::max(began, stall_started_) + options_.stall_timeout;
        if (committed_.wait_until(lock, deadline) == std::cv_status::timeout && !done() &&
            !health_.ok && std::chrono::steady_clock::now() >= deadline) {
            char since[32];
            std::snprintf(
                since, sizeof since, "%.1f",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - stall_started_)
                    .count());
            throw StoreError(std::string(what) + " not committed: commits have been failing for " +
                             since + " s (" + health_.error + "); it stays queued with " +
                             std::to_string(pending_rows_) +
                             " accepted rows, retried until committed");
        }
    }
}

std::uint64_t SampleStore::enqueue(Item item, std::size_t rows,
                                   std::optional<std::int64_t> run_id) {
    std::unique_lock lock(mutex_);
    throw_if_failed();
    if (run_id) {
        require_run(*run_id);
    }
    // Back-pressure: a slow disk holds callers here rather than memory growing. While commits
    // fail, a full backlog holds them for stall_timeout at most: an acquisition must be able to
    // drive the rig to its safe state rather than wait for a disk that may never come back.
    const auto began = std::chrono::steady_clock::now();
    while (pending_rows_ >= options_.max_pending_rows && failure_.empty()) {
        if (health_.ok) {
            committed_.wait(lock);
            continue;
        }
        const auto deadline = std::max(began, stall_started_) + options_.stall_timeout;
        if (committed_.wait_until(lock, deadline) == std::cv_status::timeout &&
            pending_rows_ >= options_.max_pending_rows && !health_.ok &&
            std::chrono::steady_clock::now() >= deadline) {
            throw StoreError("not accepted: " + std::to_string(pending_rows_) +
                             " accepted rows are waiting while commits fail (" + health_.error +
                             "); they stay queued and are retried until committed");
        }
    }
    throw_if_failed();
    if (queue_.empty()) {
        oldest_queued_ = std::chrono::steady_clock::now();
    }
    queue_.push_back(std::move(item));
    pending_rows_ += rows;
    ++queued_ticket_;
    // A task's caller waits for its commit, so it does not wait for the window.
    if (queue_.size() == 1 || rows == 0 || queue_.size() >= options_.max_batch_rows) {
        wake_writer_.notify_one();
    }
    return queued_ticket_;
}

void SampleStore::append(std::int64_t run_id, const SampleRow& row) {
    const char* const bad = first_non_finite({{"t_s", row.t_s},
                                              {"temperature_k", row.temperature_k},
                                              {"force_n", row.force_n},
                                              {"displacement_m", row.displacement_m},
                                              {"stress_pa", row.stress_pa},
                                              {"strain", row.strain}});
    const bool far = bad == nullptr && !(std::fabs(row.t_s) < codec::max_abs_t_s);
    if (bad != nullptr || far || row.seq < 0 || row.segment.empty()) {
        const std::string what =
            "sample seq " + std::to_string(row.seq) + " of run " + std::to_string(run_id);
        throw StoreError(bad != nullptr ? not_finite(what, bad)
                         : far          ? what + ": |t_s| must be < 1e12 s"
                         : row.seq < 0  ? what + ": seq must be >= 0"
                                        : what + ": empty segment");
    }
    enqueue({Item::Sample{run_id, row}}, 1, run_id);
}

void SampleStore::append_event(std::int64_t run_id, const EventRow& event) {
    const std::string what = "event of run " + std::to_string(run_id);
    if (!std::isfinite(event.t_s)) {
        throw StoreError(not_finite(what, "t_s"));
    }
    if (event.kind.empty()) {
        throw StoreError(what + ": empty kind");
    }
    enqueue({Item::Event{run_id, event}}, 1, run_id);
}

void SampleStore::append_cycle(std::int64_t run_id, const CycleRow& cycle) {
    const std::string what =
        "cycle " + std::to_string(cycle.cycle) + " of run " + std::to_string(run_id);
    if (cycle.cycle < 1) {
        throw StoreError(what + ": cycles count from 1");
    }
    if (const char* bad = first_non_finite({{"t_start_s", cycle.t_start_s},
                                            {"t_end_s", cycle.t_end_s},
                                            {"stress_min_pa", cycle.stress_min_pa},
                                            {"stress_max_pa", cycle.stress_max_pa},
                                            {"strain_min", cycle.strain_min},
                                            {"strain_max", cycle.strain_max}})) {
        throw StoreError(not_finite(what, bad));
    }
    enqueue({Item::Cycle{run_id, cycle}}, 1, run_id);
}

void SampleStore::append_dmta(std::int64_t run_id, const DmtaRow& row) {
    const std::string what =
        "DMTA measurement " + std::to_string(row.seq) + " of run " + std::to_string(run_id);
    if (row.seq < 0) {
        throw StoreError(what + ": negative seq");
    }
    if (const char* bad = first_non_finite({{"t_s", row.t_s},
                                            {"frequency_hz", row.frequency_hz},
                                            {"temperature_k", row.temperature_k},
                                            {"storage_pa", row.storage_pa},
                                            {"loss_pa", row.loss_pa},
                                            {"tan_delta", row.tan_delta}})) {
        throw StoreError(not_finite(what, bad));
    }
    enqueue({Item::Dmta{run_id, row}}, 1, run_id);
}

void SampleStore::store_result(std::int64_t run_id, const std::string& kind,
                               const std::string& json) {
    if (kind.empty() || json.empty()) {
        throw StoreError("result of run " + std::to_string(run_id) + ": empty kind or json");
    }
    enqueue({Item::Result{run_id, kind, json, WallClock::now()}}, 1, run_id);
}

std::int64_t SampleStore::create_run(const RunInfo& info) {
    auto run_id = std::make_shared<std::int64_t>(0);
    const auto ticket = enqueue(
        {Item::Task{[run_id, info, now = format_utc(WallClock::now())](SqlConnection& db) {
                        *run_id = 0;  // a retry after a rollback may be given another id
                        db.run(
                            "INSERT INTO runs (job_text, sample_id, profile, "
                            "software_version, instrument_identity, created_utc, "
                            "cross_section_m2, gauge_length_m, sample_step_us) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            {info.job_text, info.sample_id, info.profile, info.software_version,
                             info.instrument_identity, now, divisor(info.cross_section_m2),
                             divisor(info.gauge_length_m), step_us(info.sample_period_s)});
                        *run_id = db.last_insert_id();
                    },
                    run_id}},
        0);
    std::unique_lock lock(mutex_);
    wait_committed(
        lock, [&] { return committed_ticket_ >= ticket; }, "create_run");
    return *run_id;
}

void SampleStore::set_status(std::int64_t run_id, RunStatus status) {
    const char* const sql = status == RunStatus::queued
                                ? "UPDATE runs SET status = ?1 WHERE id = ?2"
                            : status == RunStatus::running
                                ? "UPDATE runs SET status = ?1, started_utc = ?3 WHERE id = ?2"
                                : "UPDATE runs SET status = ?1, ended_utc = ?3 WHERE id = ?2";
    const auto ticket = enqueue(
        {Item::Task{[sql, run_id, status, now = format_utc(WallClock::now())](SqlConnection& db) {
                        std::vector<SqlValue> values{std::string(to_string(status)), run_id};
                        if (status != RunStatus::queued) {
                            values.emplace_back(now);
                        }
                        db.run(sql, values);
                    },
                    nullptr}},
        0, run_id);
    std::unique_lock lock(mutex_);
    wait_committed(
        lock, [&] { return committed_ticket_ >= ticket; }, "set_status");
}

std::vector<std::int64_t> SampleStore::mark_interrupted() {
    auto ids = std::make_shared<std::vector<std::int64_t>>();
    const auto ticket = enqueue(
        {Item::Task{[ids, now = format_utc(WallClock::now())](SqlConnection& db) {
                        ids->clear();
                        db.query("SELECT id FROM runs WHERE status = 'running' ORDER BY id", {},
                                 [&](const SqlRow& row) { ids->push_back(row.integer(0)); });
                        db.run(
                            "UPDATE runs SET status = 'interrupted', ended_utc = ? WHERE "
                            "status = 'running'",
                            {now});
                    },
                    nullptr}},
        0);
    std::unique_lock lock(mutex_);
    wait_committed(
        lock, [&] { return committed_ticket_ >= ticket; }, "mark_interrupted");
    return *ids;
}

void SampleStore::flush() {
    std::unique_lock lock(mutex_);
    const auto ticket = queued_ticket_;
    if (committed_ticket_ < ticket) {
        flush_requested_ = true;
        wake_writer_.notify_one();
    }
    wait_committed(
        lock, [&] { return committed_ticket_ >= ticket; }, "flush");
}

std::optional<std::int64_t> SampleStore::committed_seq(std::int64_t run_id) const {
    const std::lock_guard lock(mutex_);
    const auto it = committed_seq_.find(run_id);
    if (it == committed_seq_.end()) {
        return std::nullopt;
    }
    return it->second;
}

StoreHealth SampleStore::health() const {
    const std::lock_guard lock(mutex_);
    StoreHealth health = health_;
    health.pending_rows = pending_rows_;
    return health;
}

void SampleStore::set_max_page_count(std::uint32_t pages) {
    {
        const std::lock_guard lock(mutex_);
        page_limit_request_ = pages;
    }
    wake_writer_.notify_one();
}

// What the writer carries from one commit attempt to the next.
struct SampleStore::WriterState {
    // First retry after 10 ms (a brief lock), then doubling up to 1 s: a stalled disk is
    // probed once a second without spinning.
    static constexpr auto first_backoff = std::chrono::milliseconds(10);
    static constexpr auto max_backoff = std::chrono::milliseconds(1000);
    std::chrono::milliseconds backoff = first_backoff;
    bool shrink_after_stall = false;  // a stall's large buffer is still to be given back
    // Set when closing while commits fail: after close_timeout the queue is given up.
    std::chrono::steady_clock::time_point give_up_at = std::chrono::steady_clock::time_point::max();
};

void SampleStore::writer_loop() {
    WriterState state;
    std::vector<Item> batch;
    std::unique_lock lock(mutex_);
    while (true) {
        if (batch.empty() && !take_batch(lock, batch)) {
            return;  // stopping, and everything is committed
        }
        const auto page_limit = std::exchange(page_limit_request_, std::nullopt);
        lock.unlock();
        std::string failure;
        bool passes = false;
        try {
            if (page_limit) {
                db_->exec("PRAGMA max_page_count=" + std::to_string(*page_limit));
            }
            commit_batch(batch);
        } catch (const SqliteError& error) {
            failure = error.what();
            passes = error.passes();
        } catch (const std::exception& error) {
            failure = error.what();
        }
        if (!failure.empty()) {
            rollback();
            statements_->sample.forget();
        }
        lock.lock();
        if (failure.empty()) {
            after_commit(lock, batch, state);
        } else if (!after_failed_commit(lock, batch, state, failure, passes)) {
            return;
        }
    }
}

bool SampleStore::take_batch(std::unique_lock<std::mutex>& lock, std::vector<Item>& batch) {
    wake_writer_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) {
        return false;
    }
    // Counted from when the oldest queued row arrived, so it waits at most the window (plus the
    // commit itself) even when it arrived during the previous commit.
    const auto deadline = oldest_queued_ + options_.commit_window;
    wake_writer_.wait_until(lock, deadline, [&] {
        return stopping_ || flush_requested_ || queue_.size() >= options_.max_batch_rows ||
               std::holds_alternative<Item::Task>(queue_.back().what);
    });
    flush_requested_ = false;
    batch.swap(queue_);
    return true;
}

void SampleStore::report_health(std::unique_lock<std::mutex>& lock, const StoreHealth& health) {
    if (options_.on_health_change) {
        lock.unlock();
        options_.on_health_change(health);
        lock.lock();
    }
}

void SampleStore::after_commit(std::unique_lock<std::mutex>& lock, std::vector<Item>& batch,
                               WriterState& state) {
    committed_ticket_ += batch.size();
    for (const auto& item : batch) {
        if (const auto* sample = std::get_if<Item::Sample>(&item.what)) {
            auto& seq = committed_seq_[sample->run_id];
            seq = std::max(seq, sample->row.seq);
            --pending_rows_;
        } else if (!std::holds_alternative<Item::Task>(item.what)) {
            --pending_rows_;
        }
    }
    const bool recovered = !health_.ok;
    // After a stall the batch held up to max_pending_rows: give that memory back once, when
    // batches are small again, or every stall would leave the process that much larger
    // (bench/soak.cpp: +2-4 MB of RSS per disk-full episode before). Only after a stall: batch
    // and queue_ trade buffers, and trimming is no work for every commit.
    constexpr std::size_t keep_bytes = 1 << 20;
    state.shrink_after_stall = state.shrink_after_stall || recovered;
    const std::size_t committed = batch.size();
    batch.clear();
    if (state.shrink_after_stall && batch.capacity() > 2 * committed &&
        batch.capacity() * sizeof(Item) > keep_bytes) {
        std::vector<Item>().swap(batch);
        malloc_trim(0);
        state.shrink_after_stall = false;
    }
    state.backoff = WriterState::first_backoff;
    state.give_up_at = std::chrono::steady_clock::time_point::max();
    health_ = {};
    committed_.notify_all();
    if (recovered) {
        report_health(lock, StoreHealth{.pending_rows = pending_rows_});
    }
}

bool SampleStore::after_failed_commit(std::unique_lock<std::mutex>& lock, std::vector<Item>& batch,
                                      WriterState& state, const std::string& failure, bool passes) {
    forget_created_runs(batch);
    const auto now = std::chrono::steady_clock::now();
    if (passes && stopping_ && state.give_up_at == std::chrono::steady_clock::time_point::max()) {
        state.give_up_at = now + options_.close_timeout;
    }
    if (!passes || now >= state.give_up_at) {
        give_up(batch, failure);
        return false;
    }
    const bool started = health_.ok;
    if (started) {
        health_.ok = false;
        health_.failing_since = WallClock::now();
        stall_started_ = now;
    }
    health_.error = failure;
    ++health_.failed_attempts;
    committed_.notify_all();
    if (started) {
        StoreHealth copy = health_;
        copy.pending_rows = pending_rows_;
        report_health(lock, copy);
    }
    // A raised page limit (the disk freed) or a caller waiting in flush is tried at once.
    wake_writer_.wait_for(lock, state.backoff,
                          [&] { return page_limit_request_.has_value() || flush_requested_; });
    flush_requested_ = false;
    state.backoff = std::min(state.backoff * 2, WriterState::max_backoff);
    return true;
}

void SampleStore::forget_created_runs(const std::vector<Item>& batch) {
    // Runs created in the rolled-back transaction do not exist (yet): a retry may give them
    // another id.
    for (const auto& item : batch) {
        const auto* task = std::get_if<Item::Task>(&item.what);
        if (task != nullptr && task->created_run) {
            const auto it =
                std::lower_bound(known_runs_.begin(), known_runs_.end(), *task->created_run);
            if (it != known_runs_.end() && *it == *task->created_run) {
                known_runs_.erase(it);
            }
        }
    }
}

void SampleStore::give_up(std::vector<Item>& batch, const std::string& failure) {
    // Nothing more can be written: say exactly how much acquisition is lost, and fail the
    // waiting calls instead of hanging them.
    const auto lost = pending_rows_;
    failure_ = failure + "; " + std::to_string(lost) +
               " accepted rows (samples, events, cycles, DMTA measurements, results) were "
               "not committed";
    std::fprintf(stderr, "dmacycle store: %s\n", failure_.c_str());
    health_.ok = false;
    health_.error = failure_;
    queue_.clear();
    batch.clear();
    committed_.notify_all();
}

void SampleStore::commit_batch(std::vector<Item>& batch) {
    db_->exec("BEGIN IMMEDIATE");
    for (auto& item : batch) {
        std::visit(
            [&](auto& what) {
                using T = std::decay_t<decltype(what)>;
                if constexpr (std::is_same_v<T, Item::Sample>) {
                    statements_->sample.write(what.run_id, what.row);
                } else if constexpr (std::is_same_v<T, Item::Event>) {
                    const UtcText wall(what.row.t_wall);
                    statements_->event.bind(1, what.run_id)
                        .bind(2, what.row.t_s)
                        .bind(3, wall.view())
                        .bind(4, std::string_view(what.row.kind))
                        .bind(5, std::string_view(what.row.message))
                        .run();
                } else if constexpr (std::is_same_v<T, Item::Cycle>) {
                    const auto& row = what.row;
                    constexpr auto& at = names::cycles;
                    statements_->cycle.bind(1, what.run_id)
                        .bind(parameter(at, "cycle"), row.cycle)
                        .bind(parameter(at, "t_start_s"), row.t_start_s)
                        .bind(parameter(at, "t_end_s"), row.t_end_s)
                        .bind(parameter(at, "stress_min_pa"), row.stress_min_pa)
                        .bind(parameter(at, "stress_max_pa"), row.stress_max_pa)
                        .bind(parameter(at, "strain_min"), row.strain_min)
                        .bind(parameter(at, "strain_max"), row.strain_max)
                        .run();
                } else if constexpr (std::is_same_v<T, Item::Dmta>) {
                    const auto& row = what.row;
                    const UtcText wall(row.t_wall);
                    constexpr auto& at = names::dmta;
                    statements_->dmta.bind(1, what.run_id)
                        .bind(parameter(at, "seq"), row.seq)
                        .bind(parameter(at, "t_s"), row.t_s)
                        .bind(parameter(at, "t_wall_utc"), wall.view())
                        .bind(parameter(at, "frequency_hz"), row.frequency_hz)
                        .bind(parameter(at, "temperature_k"), row.temperature_k)
                        .bind(parameter(at, "storage_pa"), row.storage_pa)
                        .bind(parameter(at, "loss_pa"), row.loss_pa)
                        .bind(parameter(at, "tan_delta"), row.tan_delta)
                        .run();
                } else if constexpr (std::is_same_v<T, Item::Result>) {
                    const UtcText at(what.at);
                    statements_->result.bind(1, what.run_id)
                        .bind(2, std::string_view(what.kind))
                        .bind(3, std::string_view(what.json))
                        .bind(4, at.view())
                        .run();
                } else {
                    what.work(*db_);
                    if (what.created_run) {
                        // Known before the COMMIT makes the row visible: a thread that finds the
                        // run in the file can append to it at once. Its rows queue behind this
                        // task, so they never commit before the run does.
                        const std::lock_guard lock(mutex_);
                        known_runs_.insert(std::upper_bound(known_runs_.begin(), known_runs_.end(),
                                                            *what.created_run),
                                           *what.created_run);
                    }
                }
            },
            item.what);
    }
    db_->exec("COMMIT");
}

}  // namespace dmacycle::store

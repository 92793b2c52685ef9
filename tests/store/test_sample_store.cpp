// The sample store on real SQLite files in a temporary folder, including a writer process killed
// with SIGKILL.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dmacycle/io/csv_table.hpp"
#include "dmacycle/store/run_archive.hpp"
#include "dmacycle/store/sample_store.hpp"
#include "old_store_versions.hpp"

namespace fs = std::filesystem;
using namespace dmacycle::store;

namespace {

class TempDir {
  public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "dmacycle-store-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        dir_ = pattern;
    }
    ~TempDir() { fs::remove_all(dir_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string file(const std::string& name) const { return (dir_ / name).string(); }

  private:
    fs::path dir_;
};

// Reads the file back through a separate connection, as any other tool would.
class Reader {
  public:
    explicit Reader(const std::string& path) {
        REQUIRE(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    }
    ~Reader() { sqlite3_close(db_); }
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    std::string text(const std::string& sql) const {
        sqlite3_stmt* statement = nullptr;
        REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK);
        std::string value;
        if (sqlite3_step(statement) == SQLITE_ROW && sqlite3_column_text(statement, 0)) {
            value = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
        }
        sqlite3_finalize(statement);
        return value;
    }
    long long number(const std::string& sql) const { return std::stoll(text(sql)); }

  private:
    sqlite3* db_ = nullptr;
};

RunInfo run_info() {
    return {"name: test\n", "R1", "sim-la30", "0.1.0", "TA Q800 sim"};
}

SampleRow sample(std::int64_t seq, double strain = 1e-3) {
    SampleRow row;
    row.seq = seq;
    row.t_s = 0.1 * static_cast<double>(seq);
    row.t_wall = WallClock::time_point(std::chrono::milliseconds(1'795'000'000'000 + 100 * seq));
    row.segment = "cycle";
    row.temperature_k = 365.0;
    row.force_n = 3.6;
    row.displacement_m = 1e-5;
    row.stress_pa = 100e6;
    row.strain = strain;
    return row;
}

}  // namespace

TEST_CASE("a new store has the documented schema version, WAL mode and all tables") {
    TempDir dir;
    const auto path = dir.file("store.db");
    { SampleStore store(path); }
    Reader reader(path);
    CHECK(reader.number("PRAGMA user_version") == store_schema_version);
    CHECK(reader.text("PRAGMA journal_mode") == "wal");
    for (const char* table : {"runs", "samples", "events", "cycles", "results", "dmta"}) {
        CAPTURE(table);
        CHECK(reader.number(std::string("SELECT count(*) FROM sqlite_master WHERE name = '") +
                            table + "'") == 1);
    }
}

TEST_CASE("ingest, close, reopen: every sample is stored once with its values") {
    TempDir dir;
    const auto path = dir.file("store.db");
    constexpr int count = 5000;
    std::int64_t run = 0;
    {
        SampleStore store(path, {.commit_window = std::chrono::milliseconds(50)});
        run = store.create_run(run_info());
        store.set_status(run, RunStatus::running);
        for (int seq = 0; seq < count; ++seq) {
            store.append(run, sample(seq));
        }
        store.append_event(run, {12.5, WallClock::now(), "segment", "cycle started"});
        store.append_cycle(run, {1, 0, 480, 0, 200e6, 0, 5.6e-3});
        store.store_result(run, "kww", R"({"beta": 0.5})");
        store.flush();
        CHECK(store.committed_seq(run) == count - 1);
        store.set_status(run, RunStatus::completed);
    }
    SampleStore reopened(path);  // reopening an existing store keeps its data
    Reader reader(path);
    const auto id = std::to_string(run);
    CHECK(reader.number("SELECT count(*) FROM samples WHERE run_id = " + id) == count);
    CHECK(reader.number("SELECT count(DISTINCT seq) FROM samples") == count);
    CHECK(reader.number("SELECT max(seq) FROM samples") == count - 1);
    CHECK(reader.text("SELECT t_wall_utc FROM samples WHERE seq = 3") ==
          "2026-11-18T11:06:40.300Z");
    CHECK(reader.text("SELECT segment || ' ' || force_n FROM samples WHERE seq = 3") ==
          "cycle 3.6");
    CHECK(reader.text("SELECT status FROM runs WHERE id = " + id) == "completed");
    CHECK_FALSE(reader.text("SELECT started_utc FROM runs").empty());
    CHECK_FALSE(reader.text("SELECT ended_utc FROM runs").empty());
    CHECK(reader.text("SELECT profile || ' ' || sample_id || ' ' || instrument_identity FROM "
                      "runs") == "sim-la30 R1 TA Q800 sim");
    CHECK(reader.text("SELECT kind || ': ' || message FROM events") == "segment: cycle started");
    CHECK(reader.number("SELECT count(*) FROM cycles") == 1);
    CHECK(reader.text("SELECT json FROM results WHERE kind = 'kww'") == R"({"beta": 0.5})");
}

TEST_CASE("rows commit by themselves within the window, without a flush") {
    TempDir dir;
    const auto path = dir.file("store.db");
    SampleStore store(path, {.commit_window = std::chrono::milliseconds(100)});
    const auto run = store.create_run(run_info());
    for (int seq = 0; seq < 10; ++seq) {
        store.append(run, sample(seq));
    }
    // Bounded wait, far beyond the window: this checks that a commit happens, not its timing.
    for (int polls = 0; store.committed_seq(run) != 9 && polls < 1000; ++polls) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(store.committed_seq(run) == 9);
    CHECK(Reader(path).number("SELECT count(*) FROM samples") == 10);
}

TEST_CASE("a commit window above 1 s is refused") {
    TempDir dir;
    CHECK_THROWS_AS(SampleStore(dir.file("a.db"), {.commit_window = std::chrono::seconds(5)}),
                    StoreError);
}

TEST_CASE("re-sending the same seqs after a restart stores each once, keeping the first") {
    TempDir dir;
    const auto path = dir.file("store.db");
    std::int64_t run = 0;
    {
        SampleStore store(path);
        run = store.create_run(run_info());
        for (int seq = 0; seq < 100; ++seq) {
            store.append(run, sample(seq, 1e-3));
        }
        store.append_cycle(run, {1, 0, 480, 0, 200e6, 0, 5.6e-3});
    }
    {
        SampleStore store(path);
        for (int seq = 50; seq < 150; ++seq) {
            store.append(run, sample(seq, 2e-3));
        }
        store.append_cycle(run, {1, 0, 480, 0, 200, 0, 9.9e-3});
        store.store_result(run, "spectrum", "{}");
        store.store_result(run, "spectrum", R"({"peaks": 3})");
        store.flush();
        CHECK(store.committed_seq(run) == 149);
    }
    Reader reader(path);
    CHECK(reader.number("SELECT count(*) FROM samples") == 150);
    CHECK(reader.number("SELECT count(*) FROM samples WHERE seq < 100 AND strain = 1e-3") == 100);
    CHECK(reader.number("SELECT count(*) FROM samples WHERE seq >= 100 AND strain = 2e-3") == 50);
    CHECK(reader.number("SELECT count(*) FROM cycles") == 1);
    CHECK(reader.text("SELECT strain_max FROM cycles") == "0.0056");
    CHECK(reader.number("SELECT count(*) FROM results") == 1);
    CHECK(reader.text("SELECT json FROM results") == R"({"peaks": 3})");
}

TEST_CASE("bad input is refused before it is queued and stored data is untouched") {
    TempDir dir;
    const auto path = dir.file("store.db");
    SampleStore store(path);
    const auto run = store.create_run(run_info());
    for (int seq = 0; seq < 10; ++seq) {
        store.append(run, sample(seq));
    }
    store.flush();

    auto nan_force = sample(10);
    nan_force.force_n = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(store.append(run, nan_force),
                         doctest::Contains("sample seq 10 of run 1: force_n is not finite"),
                         StoreError);
    auto infinite_strain = sample(11);
    infinite_strain.strain = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(store.append(run, infinite_strain), StoreError);
    CHECK_THROWS_AS(store.append(run, sample(-1)), StoreError);
    auto no_segment = sample(12);
    no_segment.segment.clear();
    CHECK_THROWS_AS(store.append(run, no_segment), StoreError);
    CHECK_THROWS_WITH_AS(store.append(run + 1, sample(13)), "no run 2 in the store", StoreError);
    CHECK_THROWS_AS(store.append_cycle(run, {0, 0, 1, 0, 1, 0, 1}), StoreError);
    CHECK_THROWS_AS(
        store.append_event(run, {std::numeric_limits<double>::quiet_NaN(), {}, "x", ""}),
        StoreError);
    CHECK_THROWS_AS(store.set_status(run + 7, RunStatus::running), StoreError);

    // The store still works, and holds exactly the good rows.
    store.append(run, sample(10));
    store.flush();
    CHECK(store.committed_seq(run) == 10);
    Reader reader(path);
    CHECK(reader.number("SELECT count(*) FROM samples") == 11);
    CHECK(reader.number("SELECT count(*) FROM samples WHERE force_n = 3.6") == 11);
}

TEST_CASE("a file with a newer schema is refused, not modified") {
    TempDir dir;
    const auto path = dir.file("store.db");
    { SampleStore store(path); }
    {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        REQUIRE(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr) ==
                SQLITE_OK);
        sqlite3_close(db);
    }
    CHECK_THROWS_WITH_AS(SampleStore{path}, doctest::Contains("schema version 99"), StoreError);
    CHECK(Reader(path).number("PRAGMA user_version") == 99);
}

TEST_CASE("a file that is not a store is refused and left as it was") {
    TempDir dir;
    const auto path = dir.file("notes.db");
    const std::string content = "these are my notes, not a database\n";
    {
        std::FILE* file = std::fopen(path.c_str(), "wb");
        REQUIRE(file != nullptr);
        std::fputs(content.c_str(), file);
        std::fclose(file);
    }
    CHECK_THROWS_AS(SampleStore{path}, StoreError);
    std::FILE* file = std::fopen(path.c_str(), "rb");
    REQUIRE(file != nullptr);
    char buffer[128] = {};
    const auto size = std::fread(buffer, 1, sizeof buffer, file);
    std::fclose(file);
    CHECK(std::string(buffer, size) == content);
}

TEST_CASE("runs left running by a dead process are marked interrupted on request") {
    TempDir dir;
    const auto path = dir.file("store.db");
    std::int64_t left_running = 0, finished = 0;
    {
        SampleStore store(path);
        left_running = store.create_run(run_info());
        finished = store.create_run(run_info());
        store.set_status(left_running, RunStatus::running);
        store.set_status(finished, RunStatus::running);
        store.set_status(finished, RunStatus::completed);
    }
    SampleStore store(path);
    CHECK(store.mark_interrupted() == std::vector<std::int64_t>{left_running});
    CHECK(store.mark_interrupted().empty());
    Reader reader(path);
    CHECK(reader.text("SELECT status FROM runs WHERE id = " + std::to_string(left_running)) ==
          "interrupted");
    CHECK(reader.text("SELECT status FROM runs WHERE id = " + std::to_string(finished)) ==
          "completed");
}

TEST_CASE("SIGKILL after an acknowledged commit loses no acknowledged sample") {
    TempDir dir;
    const auto path = dir.file("store.db");
    std::int64_t run = 0;
    {
        SampleStore store(path);
        run = store.create_run(run_info());
    }
    int acknowledgements[2];
    REQUIRE(pipe(acknowledgements) == 0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // The writer process: ingests without end, reporting each newly acknowledged seq. It
        // never leaves this block (an exception must not run the parent's remaining tests); the
        // parent kills it.
        close(acknowledgements[0]);
        try {
            SampleStore store(path, {.commit_window = std::chrono::milliseconds(20)});
            std::int64_t reported = -1;
            for (std::int64_t seq = 0;; ++seq) {
                store.append(run, sample(seq));
                if (const auto committed = store.committed_seq(run);
                    committed && *committed > reported) {
                    reported = *committed;
                    if (write(acknowledgements[1], &reported, sizeof reported) != sizeof reported) {
                        _exit(3);
                    }
                }
                if (seq % 64 == 0) {
                    usleep(1000);  // ~64 kHz: many commits in the test's short life
                }
            }
        } catch (...) {
            _exit(2);
        }
    }
    close(acknowledgements[1]);
    // Kill once a few commits are acknowledged, while ingestion goes on.
    std::int64_t acknowledged = -1;
    int reports = 0;
    while (reports < 5) {
        REQUIRE(read(acknowledgements[0], &acknowledged, sizeof acknowledged) ==
                sizeof acknowledged);
        ++reports;
    }
    REQUIRE(kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    // Any later acknowledgement still in the pipe counts too.
    for (std::int64_t later = 0; read(acknowledgements[0], &later, sizeof later) == sizeof later;) {
        acknowledged = later;
    }
    close(acknowledgements[0]);
    CAPTURE(acknowledged);
    REQUIRE(acknowledged > 0);

    // Reopening recovers the WAL; every acknowledged seq is there, once, without gaps.
    SampleStore reopened(path);
    Reader reader(path);
    const auto upto = std::to_string(acknowledged);
    CHECK(reader.number("SELECT count(*) FROM samples WHERE seq <= " + upto) == acknowledged + 1);
    const auto stored = reader.number("SELECT count(*) FROM samples");
    CHECK(stored >= acknowledged + 1);
    CHECK(reader.number("SELECT max(seq) FROM samples") == stored - 1);
    CHECK(reader.text("PRAGMA integrity_check") == "ok");
}

TEST_CASE("a lock held longer than the busy timeout stalls commits - released, nothing is lost") {
    TempDir dir;
    const auto path = dir.file("store.db");
    std::vector<StoreHealth> reports;
    std::mutex reports_mutex;
    SampleStore store(path, {.commit_window = std::chrono::milliseconds(20),
                             .busy_timeout = std::chrono::milliseconds(50),
                             .stall_timeout = std::chrono::milliseconds(300),
                             .on_health_change = [&](const StoreHealth& health) {
                                 const std::lock_guard lock(reports_mutex);
                                 reports.push_back(health);
                             }});
    const auto run = store.create_run(run_info());
    store.append(run, sample(0));
    store.flush();

    sqlite3* other = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &other) == SQLITE_OK);
    REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
    for (std::int64_t seq = 1; seq < 200; ++seq) {
        store.append(run, sample(seq));
        if (seq % 20 == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(15));
        }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto stalled = store.health();
    CHECK_FALSE(stalled.ok);
    CHECK(stalled.error.find("locked") != std::string::npos);
    CHECK(stalled.pending_rows == 199);
    CHECK(stalled.failed_attempts >= 1);
    CHECK(store.committed_seq(run) == 0);
    // Bookkeeping gives up waiting after stall_timeout but stays queued: it commits later.
    CHECK_THROWS_WITH_AS(store.set_status(run, RunStatus::faulted),
                         doctest::Contains("not committed"), StoreError);

    REQUIRE(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(other);
    store.append(run, sample(200));
    store.flush();
    CHECK(store.health().ok);
    CHECK(store.health().pending_rows == 0);
    CHECK(store.committed_seq(run) == 200);
    store.set_status(run, RunStatus::completed);
    Reader reader(path);
    CHECK(reader.number("SELECT count(*) FROM samples") == 201);
    CHECK(reader.number("SELECT max(seq) FROM samples") == 200);
    CHECK(reader.text("SELECT status FROM runs") == "completed");
    const std::lock_guard lock(reports_mutex);
    REQUIRE(reports.size() == 2);
    CHECK_FALSE(reports[0].ok);
    CHECK(reports[1].ok);
}

TEST_CASE("a full disk stalls commits - once there is room again, every accepted row commits") {
    TempDir dir;
    const auto path = dir.file("store.db");
    std::int64_t run = 0;
    std::uint32_t pages = 0;
    {
        SampleStore store(path);
        run = store.create_run(run_info());
    }
    {
        Reader reader(path);
        pages = static_cast<std::uint32_t>(reader.number("PRAGMA page_count"));
    }
    // Room for a few pages more than the empty store: the rows below need hundreds.
    SampleStore store(path, {.commit_window = std::chrono::milliseconds(20),
                             .max_batch_rows = 1000,
                             .max_pending_rows = 5000,
                             .max_page_count = pages + 4});
    constexpr std::int64_t rows = 20000;
    std::thread producer([&] {
        for (std::int64_t seq = 0; seq < rows; ++seq) {
            store.append(run, sample(seq));  // blocks at max_pending_rows while the disk is full
        }
    });
    while (store.health().ok || store.health().pending_rows < 5000) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const auto full = store.health();
    CHECK(full.error.find("full") != std::string::npos);
    CHECK(full.pending_rows == 5000);  // back-pressure holds the producer
    store.set_max_page_count(1'000'000);
    producer.join();
    store.flush();
    CHECK(store.health().ok);
    CHECK(store.committed_seq(run) == rows - 1);
    store.set_status(run, RunStatus::faulted);
    Reader reader(path);
    CHECK(reader.number("SELECT count(*) FROM samples") == rows);
    CHECK(reader.number("SELECT max(seq) FROM samples") == rows - 1);
    CHECK(reader.text("SELECT status FROM runs") == "faulted");
    CHECK(reader.text("PRAGMA integrity_check") == "ok");
}

TEST_CASE("a full disk that stays full fails appends after stall_timeout - never blocks forever") {
    TempDir dir;
    const auto path = dir.file("store.db");
    std::int64_t run = 0;
    std::uint32_t pages = 0;
    {
        SampleStore store(path);
        run = store.create_run(run_info());
    }
    {
        Reader reader(path);
        pages = static_cast<std::uint32_t>(reader.number("PRAGMA page_count"));
    }
    SampleStore store(path, {.commit_window = std::chrono::milliseconds(20),
                             .max_batch_rows = 100,
                             .max_pending_rows = 500,
                             .stall_timeout = std::chrono::milliseconds(300),
                             .close_timeout = std::chrono::milliseconds(100),
                             .max_page_count = pages + 1});
    std::int64_t accepted = 0;
    std::string refused;
    for (std::int64_t seq = 0; seq < 20000 && refused.empty(); ++seq) {
        try {
            store.append(run, sample(seq));
            ++accepted;
        } catch (const StoreError& error) {
            refused = error.what();
        }
    }
    CHECK(accepted >= 500);
    CHECK(accepted < 20000);
    CHECK(refused.find("not accepted: ") == 0);
    CHECK(refused.find("full") != std::string::npos);
    // The disk frees: every accepted row commits, the refused one was never stored.
    store.set_max_page_count(1'000'000);
    store.flush();
    CHECK(store.committed_seq(run) == accepted - 1);
    Reader reader(path);
    CHECK(reader.number("SELECT count(*) FROM samples") == accepted);
}

TEST_CASE("a run is known to every thread as soon as its row is committed") {
    TempDir dir;
    const auto path = dir.file("store.db");
    SampleStore store(path, {.commit_window = std::chrono::milliseconds(5)});
    std::atomic<std::int64_t> created{0};
    std::atomic<bool> done{false};
    int refused = 0;
    // Another thread learns of each new run from the file, as a monitor would, and appends at
    // once: before, create_run registered the id only after waking its own caller.
    std::thread watcher([&] {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
        sqlite3_stmt* latest = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, "SELECT max(id) FROM runs", -1, &latest, nullptr) ==
                SQLITE_OK);
        std::int64_t seen = 0;
        while (!done) {
            std::int64_t id = 0;
            if (sqlite3_step(latest) == SQLITE_ROW) {
                id = sqlite3_column_int64(latest, 0);
            }
            sqlite3_reset(latest);
            if (id > seen) {
                seen = id;
                try {
                    store.append(id, sample(0));
                } catch (const StoreError&) {
                    ++refused;
                }
            }
        }
        sqlite3_finalize(latest);
        sqlite3_close(db);
    });
    for (int i = 0; i < 200; ++i) {
        created = store.create_run(run_info());
    }
    done = true;
    watcher.join();
    CHECK(refused == 0);
}

TEST_CASE("a re-sent event is stored once - version 1 files are upgraded keeping the first") {
    TempDir dir;
    const auto path = dir.file("store.db");
    std::int64_t run = 0;
    const EventRow unload{12.5, WallClock::now(), "interlock", "force over limit: unloading"};
    {
        SampleStore store(path);
        run = store.create_run(run_info());
        store.append_event(run, unload);
        store.append_event(run, unload);
        store.append_event(run, {12.5, WallClock::now(), "interlock", "furnace to standby"});
    }
    {
        SampleStore reopened(path);
        reopened.append_event(run, unload);  // re-sent after a restart
    }
    {
        Reader reader(path);
        CHECK(reader.number("SELECT count(*) FROM events") == 2);
    }
    // A version 1 file: events without a key, a duplicate among them; stress in MPa.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db,
                         (store_test::to_version_5_sql +
                          "DROP INDEX events_once; CREATE INDEX events_by_run ON events (run_id, "
                          "t_s); INSERT INTO events (run_id, t_s, t_wall_utc, kind, message) "
                          "SELECT run_id, t_s, 'later', kind, message FROM events; "
                          "ALTER TABLE samples RENAME stress_pa TO stress_mpa; "
                          "ALTER TABLE cycles RENAME stress_min_pa TO stress_min_mpa; "
                          "ALTER TABLE cycles RENAME stress_max_pa TO stress_max_mpa; "
                          "PRAGMA user_version = 1")
                             .c_str(),
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    {
        SampleStore upgraded(path);
        upgraded.append_event(run, unload);
    }
    Reader reader(path);
    CHECK(reader.number("PRAGMA user_version") == store_schema_version);
    CHECK(reader.number("SELECT count(*) FROM events") == 2);
    CHECK(reader.number("SELECT count(*) FROM events WHERE t_wall_utc = 'later'") == 0);
    CHECK(reader.number("SELECT count(*) FROM sqlite_master WHERE name = 'events_by_run'") == 0);
}

TEST_CASE("closing while commits fail gives up after close_timeout and reports the rows lost") {
    TempDir dir;
    const auto path = dir.file("store.db");
    sqlite3* other = nullptr;
    const auto log_path = dir.file("stderr.txt");
    std::optional<SampleStore> store;
    store.emplace(path, StoreOptions{.busy_timeout = std::chrono::milliseconds(20),
                                     .close_timeout = std::chrono::milliseconds(200)});
    const auto run = store->create_run(run_info());
    REQUIRE(sqlite3_open(path.c_str(), &other) == SQLITE_OK);
    REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
    for (std::int64_t seq = 0; seq < 7; ++seq) {
        store->append(run, sample(seq));
    }
    // The report on closing goes to stderr: captured in a file.
    std::fflush(stderr);
    const int saved = dup(STDERR_FILENO);
    const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(dup2(log_fd, STDERR_FILENO) == STDERR_FILENO);
    close(log_fd);
    const auto closing = std::chrono::steady_clock::now();
    store.reset();
    const auto closed = std::chrono::steady_clock::now();
    std::fflush(stderr);
    REQUIRE(dup2(saved, STDERR_FILENO) == STDERR_FILENO);
    close(saved);
    CHECK(closed - closing < std::chrono::seconds(5));
    sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(other);
    std::ifstream log(log_path);
    const std::string reported((std::istreambuf_iterator<char>(log)), {});
    CHECK(reported.find("database is locked") != std::string::npos);
    CHECK(reported.find("7 accepted rows") != std::string::npos);
    CHECK(Reader(path).number("SELECT count(*) FROM samples") == 0);
}

TEST_CASE("a run archive reads back a run read-only and leaves the file unchanged") {
    TempDir dir;
    const auto path = dir.file("store.db");
    std::int64_t run = 0;
    {
        SampleStore store(path);
        run = store.create_run(run_info());
        store.set_status(run, RunStatus::running);
        for (int seq = 0; seq < 100; ++seq) {
            store.append(run, sample(seq, 1e-3 * seq));
        }
        store.append_event(run, {2.5, WallClock::now(), "segment", "cycle started"});
        store.append_cycle(run, {1, 0, 480, 0, 200e6, 0, 5.6e-3});
        store.store_result(run, "kww", R"({"beta": 0.34})");
        store.set_status(run, RunStatus::completed);
    }
    const auto before = fs::last_write_time(path);
    const auto size_before = fs::file_size(path);

    const RunArchive archive(path);
    const auto stored = archive.run(run);
    CHECK(stored.sample_id == "R1");
    CHECK(stored.status == "completed");
    CHECK(stored.job_id == 0);
    std::vector<std::int64_t> seqs;
    double last_strain = -1.0;
    archive.for_each_sample(
        run,
        [&](const ArchivedSample& row) {
            seqs.push_back(row.seq);
            last_strain = row.strain;
        },
        10);
    CHECK(seqs == std::vector<std::int64_t>{0, 10, 20, 30, 40, 50, 60, 70, 80, 90});
    CHECK(last_strain == doctest::Approx(0.09));
    REQUIRE(archive.events(run).size() == 1);
    CHECK(archive.events(run).front().message == "cycle started");
    REQUIRE(archive.cycles(run).size() == 1);
    CHECK(archive.cycles(run).front().stress_max_pa == 200e6);
    CHECK(archive.results(run).at("kww").at("beta") == 0.34);
    CHECK_THROWS_WITH_AS(archive.run(run + 1), doctest::Contains("no run 2"),
                         dmacycle::io::InputError);
    CHECK_THROWS_WITH_AS(archive.runs_of_job(5), doctest::Contains("no job 5"),
                         dmacycle::io::InputError);
    CHECK(fs::last_write_time(path) == before);
    CHECK(fs::file_size(path) == size_before);
}

TEST_CASE("a run archive refuses a missing file and a file that is not a store") {
    TempDir dir;
    CHECK_THROWS_WITH_AS(RunArchive(dir.file("absent.db")),
                         doctest::Contains("absent.db: no such store file"),
                         dmacycle::io::InputError);
    CHECK(!fs::exists(dir.file("absent.db")));
    const auto text = dir.file("notes.db");
    std::ofstream(text) << "sample,strain\n1,2\n";
    CHECK_THROWS_WITH_AS(RunArchive{text},
                         doctest::Contains("notes.db: not a readable SQLite store"),
                         dmacycle::io::InputError);
    const auto other = dir.file("other.db");
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(other.c_str(), &db) == SQLITE_OK);
    sqlite3_exec(db, "CREATE TABLE t (x)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    CHECK_THROWS_WITH_AS(RunArchive{other},
                         doctest::Contains("not a dmacycle store (schema version 0"),
                         dmacycle::io::InputError);
}

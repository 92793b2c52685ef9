// The service's back end: JobService on a real SQLite file in a temporary folder, the simulator
// in-process at max speed, short jobs (its configuration: test_service_config.cpp).
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "dmacycle/io/csv_table.hpp"
#include "dmacycle/store/sample_store.hpp"
#include "service_fixture.hpp"

using namespace service_test;
using dmacycle::io::InputError;
using runner_test::Db;

namespace {

// SQL string literal body: quotes doubled.
std::string quoted(std::string text) {
    for (auto at = text.find('\''); at != std::string::npos; at = text.find('\'', at + 2)) {
        text.insert(at, 1, '\'');
    }
    return text;
}

// A run a dead service left `running`, with 500 samples (t_s 0 to 249.5).
std::int64_t left_running(const fs::path& db, const std::string& text,
                          const std::string& sample_id = "LCNAC-0-200") {
    dmacycle::store::SampleStore store(db.string());
    const auto run_id = store.create_run({text, sample_id, "sim-la30", "test", "sim"});
    store.set_status(run_id, dmacycle::store::RunStatus::running);
    const auto start = dmacycle::store::WallClock::now();
    for (int seq = 0; seq < 500; ++seq) {
        dmacycle::store::SampleRow row;
        row.seq = seq;
        row.t_s = seq * 0.5;
        row.t_wall = start + std::chrono::milliseconds(seq * 500);
        row.segment = "cycle";
        row.temperature_k = 365;
        row.force_n = 3;
        row.stress_pa = 80e6;
        store.append(run_id, row);
    }
    store.flush();
    return run_id;
}

std::vector<std::string> event_lines(const Json& run) {
    std::vector<std::string> lines;
    for (const auto& event : run["events"]) {
        lines.push_back(event["kind"].get<std::string>() + ": " +
                        event["message"].get<std::string>());
    }
    return lines;
}

}  // namespace

TEST_CASE("a valid job runs to completion and answers as documented") {
    const ServiceDir dir;
    JobService service(dir.config());
    service.start();
    const auto submitted = service.submit(short_job(), "api:alice");
    CHECK(submitted["name"] == "short-1");
    CHECK(submitted["runs"] == 1);
    CHECK(submitted["status"] == "queued");
    CHECK(submitted["position"] == 0);
    const auto job_id = submitted["job_id"].get<std::int64_t>();

    const auto job = wait_job(service, job_id);
    INFO(job.dump(2));
    REQUIRE(job["status"] == "completed");
    CHECK(job["source"] == "api:alice");
    CHECK(job["message"] == "completed");
    CHECK(job["runs_planned"] == 1);
    CHECK(job["submitted_utc"].is_string());
    CHECK(job["started_utc"].is_string());
    CHECK(job["ended_utc"].is_string());
    CHECK(job["progress"].is_null());
    REQUIRE(job["run_ids"].size() == 1);
    REQUIRE(job["runs"].size() == 1);
    const auto run_id = job["run_ids"][0].get<std::int64_t>();
    const auto& run_entry = job["runs"][0];
    CHECK(run_entry["run_id"] == run_id);
    CHECK(run_entry["status"] == "completed");
    CHECK(run_entry["sample"] == "LCNAC-0-200");
    CHECK(run_entry["sweep_point"] == "");
    CHECK(run_entry["samples"].get<std::int64_t>() > 1000);
    CHECK(run_entry["last_seq"].get<std::int64_t>() + 1 >=
          run_entry["samples"].get<std::int64_t>());

    const auto run = service.run(run_id);
    CHECK(run["job_id"] == job_id);
    CHECK(run["status"] == "completed");
    CHECK(run["profile"] == "sim-la30");
    CHECK(run["samples"] == run_entry["samples"]);
    CHECK(run["first_seq"] == 0);
    CHECK(run["cycles"].get<int>() > 0);
    CHECK(!run["events"].empty());
    CHECK(run["events"][0].contains("t_wall_utc"));

    const auto results = service.results(run_id);
    CHECK(results["results"].contains("spectrum"));
    CHECK(results["results"].contains("work_done"));

    const auto page = service.samples(run_id, -1, 10, 1);
    CHECK(page["columns"].size() == 9);
    REQUIRE(page["rows"].size() == 10);
    CHECK(page["rows"][0][0] == 0);
    CHECK(page["rows"][9][0] == 9);
    CHECK(page["next_since"] == 9);
    CHECK(page["more"] == true);
    const auto every = service.samples(run_id, 9, 5, 100);
    REQUIRE(every["rows"].size() == 5);
    for (const auto& row : every["rows"]) {
        CHECK(row[0].get<std::int64_t>() % 100 == 0);
    }
    CHECK(every["rows"][0][0] == 100);
    const auto last = run["last_seq"].get<std::int64_t>();
    const auto tail = service.samples(run_id, last - 3, 100, 1);
    CHECK(tail["rows"].size() == 3);
    CHECK(tail["more"] == false);
    CHECK(tail["next_since"] == last);
    CHECK(api_error([&] { service.samples(run_id, -1, 100001, 1); }).first == 400);
    CHECK(api_error([&] { service.samples(run_id + 100, -1, 10, 1); }).first == 404);
    CHECK(service.dmta(run_id, -1, 10, 1)["rows"].empty());  // no scan in this run
    CHECK(api_error([&] { service.run(run_id + 100); }).first == 404);
    CHECK(api_error([&] { service.results(run_id + 100); }).first == 404);
    CHECK(api_error([&] { service.job(job_id + 100); }).first == 404);
    CHECK(api_error([&] { service.abort(job_id, "bob"); }).first == 409);
    CHECK(api_error([&] { service.pause(job_id); }).first == 409);
    CHECK(api_error([&] { service.resume(job_id); }).first == 409);

    const auto health = service.health();
    CHECK(health["status"] == "ok");
    CHECK(health["instrument"] == "simulated");
    CHECK(health["running_job"].is_null());
    CHECK(health["queued_jobs"] == 0);
    const auto metrics = service.metrics();
    CHECK(metrics.find("dmacycle_jobs{status=\"completed\"} 1\n") != std::string::npos);
    CHECK(metrics.find("dmacycle_samples_stored_total " + run["samples"].dump() + "\n") !=
          std::string::npos);
    CHECK(metrics.find("dmacycle_store_ok 1\n") != std::string::npos);

    const auto list = service.list_jobs();
    REQUIRE(list["jobs"].size() == 1);
    CHECK(list["jobs"][0]["run_ids"] == job["run_ids"]);
    CHECK(!list["jobs"][0].contains("runs"));
}

TEST_CASE("a DMTA job runs on a simulator at max speed and its measurements are served in pages") {
    // The simulator waits at each measurement (the runner holds its stream there).
    const ServiceDir dir;
    JobService service(dir.config());
    service.start();
    // The shipped scan, shortened: 5 K/min and two frequencies, 360 measurements in 30 min.
    const auto submitted = service.submit(
        runner_test::shipped_job("dmta.yaml", {{"hold: 10 min", "hold: 0 s"},
                                               {"rate: 2 K/min", "rate: 5 K/min"},
                                               {"[1 Hz, 2 Hz, 4 Hz, 8 Hz]", "[1 Hz, 8 Hz]"}}),
        "api:alice");
    const auto job = wait_job(service, submitted["job_id"].get<std::int64_t>());
    INFO(job.dump(2));
    REQUIRE(job["status"] == "completed");
    const auto run_id = job["run_ids"][0].get<std::int64_t>();
    CHECK(service.results(run_id)["results"].contains("arrhenius"));

    // Every stored measurement, in seq order, over pages of 20.
    Db db(dir.db);
    const auto stored = static_cast<std::size_t>(
        db.number("SELECT count(*) FROM dmta WHERE run_id = " + std::to_string(run_id)));
    CHECK(stored >= 358);  // 360 planned; the simulator waits at each, however loaded the machine
    std::vector<Json> rows;
    std::int64_t since = -1;
    while (true) {
        const auto page = service.dmta(run_id, since, 20, 1);
        CHECK(page["columns"] == Json::parse(R"(["seq","t_s","t_wall_utc","frequency_hz",
            "temperature_k","storage_pa","loss_pa","tan_delta"])"));
        for (const auto& row : page["rows"]) {
            rows.push_back(row);
        }
        since = page["next_since"].get<std::int64_t>();
        if (!page["more"].get<bool>()) {
            break;
        }
        CHECK(page["rows"].size() == 20);
    }
    REQUIRE(rows.size() == stored);
    std::set<double> frequencies;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& row = rows[i];
        if (i > 0) {
            CHECK(row[0].get<std::int64_t>() > rows[i - 1][0].get<std::int64_t>());
        }
        frequencies.insert(row[3].get<double>());
        CHECK(
            row[7].get<double>() ==
            doctest::Approx(row[6].get<double>() / row[5].get<double>()).epsilon(1e-5));  // as sent
    }
    CHECK(frequencies == std::set<double>{1.0, 8.0});
    CHECK(rows.front()[4].get<double>() < 305);
    CHECK(rows.back()[4].get<double>() > 440);  // the sample lags the furnace by a few K
    // The values are the store's, as stored.
    const auto middle = rows[rows.size() / 2];
    CHECK(db.number("SELECT storage_pa FROM dmta WHERE run_id = " + std::to_string(run_id) +
                    " AND seq = " + std::to_string(middle[0].get<std::int64_t>())) ==
          doctest::Approx(middle[5].get<double>()).epsilon(1e-13));  // SQLite prints 15 digits

    const auto every = service.dmta(run_id, -1, 1000, 10);
    for (const auto& row : every["rows"]) {
        CHECK(row[0].get<std::int64_t>() % 10 == 0);
    }
    CHECK(api_error([&] { service.dmta(run_id, -1, 0, 1); }).first == 400);
    CHECK(api_error([&] { service.dmta(run_id + 100, -1, 10, 1); }).first == 404);
}

TEST_CASE("two jobs run in the order submitted and a queued job can be cancelled") {
    const ServiceDir dir;
    JobService service(dir.config());
    service.start();
    const auto first = service.submit(short_job("first"), "api:a")["job_id"].get<std::int64_t>();
    const auto second = service.submit(short_job("second"), "api:b");
    const auto third = service.submit(short_job("third"), "api:c")["job_id"].get<std::int64_t>();
    CHECK(second["position"] == 1);  // the first job runs (or waits) ahead of it
    // The first job takes seconds; the third cannot have started yet.
    const auto cancelled = service.abort(third, "carol");
    CHECK(cancelled["status"] == "cancelled");
    CHECK(cancelled["message"] == "cancelled by carol");
    CHECK(api_error([&] { service.abort(third, "carol"); }).first == 409);
    CHECK(api_error([&] { service.abort(third + 1, "carol"); }).first == 404);

    const auto a = wait_job(service, first);
    const auto b = wait_job(service, second["job_id"].get<std::int64_t>());
    CHECK(a["status"] == "completed");
    CHECK(b["status"] == "completed");
    CHECK(a["run_ids"][0].get<std::int64_t>() < b["run_ids"][0].get<std::int64_t>());
    CHECK(a["ended_utc"].get<std::string>() <= b["started_utc"].get<std::string>());
    CHECK(service.job(third)["run_ids"].empty());
    const auto list = service.list_jobs()["jobs"];
    REQUIRE(list.size() == 3);
    CHECK(list[0]["job_id"] == third);  // newest first
    CHECK(Db(dir.db).number("SELECT count(*) FROM runs") == 2);
}

TEST_CASE("an invalid or oversize job is refused and nothing is queued") {
    const ServiceDir dir("limits: {max_job_bytes: 4000}\n");
    JobService service(dir.config());
    service.start();
    std::string bad = short_job();
    bad.replace(bad.find("thickness: 30 µm"), 16, "thickness: 30 parsecs");
    const auto [status, details] = api_error([&] { service.submit(bad, "api:alice"); });
    CHECK(status == 422);
    REQUIRE(details.size() == 1);
    CHECK(details[0].rfind("job.yaml:12:14: sample.thickness: ", 0) == 0);

    const auto unknown = api_error([&] {
        service.submit(runner_test::shipped_job("mode1-0-200.yaml",
                                                {{"profile: sim-la30", "profile: nowhere"}}),
                       "api:alice");
    });
    CHECK(unknown.first == 422);
    REQUIRE(unknown.second.size() == 1);
    CHECK(unknown.second[0].rfind("job.yaml:5:10: profile: unknown instrument profile 'nowhere'",
                                  0) == 0);
    // Over the frame's force limit of the profile in the service's own folder.
    const auto force = api_error([&] {
        service.submit(
            runner_test::shipped_job("mode1-0-200.yaml", {{"max_force: 18 N", "max_force: 19 N"}}),
            "api:alice");
    });
    CHECK(force.first == 422);
    const auto oversize = api_error([&] { service.submit(std::string(4001, '#'), "api:alice"); });
    CHECK(oversize.first == 413);
    CHECK(service.list_jobs()["jobs"].empty());
    CHECK(Db(dir.db).number("SELECT count(*) FROM jobs") == 0);
    CHECK(Db(dir.db).number("SELECT count(*) FROM runs") == 0);
}

TEST_CASE("the spool folder accepts, rejects and leaves what is being written") {
    const ServiceDir dir("limits: {max_job_bytes: 4000}\n");
    JobService service(dir.config());
    service.start();
    service.scan_spool();  // creates the folders
    CHECK(fs::is_directory(dir.spool / "accepted"));
    CHECK(fs::is_directory(dir.spool / "rejected"));
    CHECK((fs::status(dir.spool / "rejected").permissions() & fs::perms::others_all) ==
          fs::perms::none);

    const auto settled = fs::file_time_type::clock::now() - std::chrono::seconds(5);
    const auto put = [&](const std::string& name, const std::string& text, bool old = true) {
        write_file(dir.spool / name, text);
        if (old) {
            fs::last_write_time(dir.spool / name, settled);
        }
    };
    put("good.yaml", short_job("spooled"));
    std::string bad = short_job();
    bad.replace(bad.find("thickness: 30 µm"), 16, "thickness: 30 parsecs");
    put("bad.yaml", bad);
    put("big.yaml", std::string(4001, '#'));
    put("notes.txt", "not a job");
    write_file(dir.dir.path / "outside.yaml", short_job("outside"));
    fs::create_symlink(dir.dir.path / "outside.yaml", dir.spool / "link.yaml");
    // A name already in rejected/ is never overwritten.
    write_file(dir.spool / "rejected" / "bad.yaml", "earlier");
    put("fresh.yaml", short_job("fresh"), false);  // last: just written when the pass looks

    service.scan_spool();
    const auto jobs = service.list_jobs()["jobs"];
    REQUIRE(jobs.size() == 1);
    CHECK(jobs[0]["source"] == "spool:good.yaml");
    const auto job_id = jobs[0]["job_id"].get<std::int64_t>();
    CHECK(fs::is_regular_file(dir.spool / "accepted" / (std::to_string(job_id) + "-good.yaml")));
    CHECK(!fs::exists(dir.spool / "good.yaml"));

    CHECK(runner_test::read_file(dir.spool / "rejected" / "bad.yaml") == "earlier");
    const auto error = runner_test::read_file(dir.spool / "rejected" / "bad-1.yaml.error");
    CHECK(error.find("\nbad.yaml:12:14: sample.thickness: ") != std::string::npos);
    CHECK(fs::exists(dir.spool / "rejected" / "bad-1.yaml"));
    CHECK(runner_test::read_file(dir.spool / "rejected" / "big.yaml.error")
              .find("4001 bytes, over the limit of 4000") != std::string::npos);
    CHECK(fs::is_symlink(dir.spool / "rejected" / "link.yaml"));
    CHECK(
        runner_test::read_file(dir.spool / "rejected" / "link.yaml.error").find("symbolic link") !=
        std::string::npos);
    CHECK(fs::exists(dir.dir.path / "outside.yaml"));  // the target is untouched
    CHECK(fs::exists(dir.spool / "fresh.yaml"));       // left for the next pass
    CHECK(fs::exists(dir.spool / "notes.txt"));

    const auto done = wait_job(service, job_id);
    CHECK(done["status"] == "completed");

    fs::last_write_time(dir.spool / "fresh.yaml", settled);
    service.scan_spool();
    CHECK(service.list_jobs()["jobs"].size() == 2);
    CHECK(!fs::exists(dir.spool / "fresh.yaml"));
}

TEST_CASE("a restart marks the run left running interrupted and goes on") {
    const ServiceDir dir;
    { JobService first(dir.config()); }  // creates the tables
    const std::int64_t run_id = left_running(dir.db, short_job("crashed"));
    {
        // The dead service's queue: its job running, linked to the run, and one queued.
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(dir.db.c_str(), &db) == SQLITE_OK);
        const std::string sql =
            "INSERT INTO jobs (id, name, source, job_text, runs_planned, status, submitted_utc, "
            "started_utc) VALUES (1, 'crashed', 'api:a', 'x', 1, 'running', 't', 't'), "
            "(2, 'next', 'api:a', '" +
            quoted(short_job("next")) +
            "', 1, 'queued', 't', NULL);"
            "INSERT INTO job_runs VALUES (1, " +
            std::to_string(run_id) + ", 0);";
        CHECK(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(db);
    }

    JobService service(dir.config());

    service.start();
    const auto crashed = service.job(1);
    CHECK(crashed["status"] == "interrupted");
    CHECK(crashed["run_ids"] == Json::array({run_id}));
    const auto run = service.run(run_id);
    CHECK(run["status"] == "interrupted");
    CHECK(run["samples"] == 500);
    CHECK(run["last_seq"] == 499);
    std::vector<std::string> messages;
    for (const auto& event : run["events"]) {
        messages.push_back(event["kind"].get<std::string>() + ": " +
                           event["message"].get<std::string>());
    }
    INFO(run["events"].dump(2));
    REQUIRE(messages.size() == 3);
    CHECK(messages[0].rfind("interrupted: interrupted: the service stopped at ", 0) == 0);
    CHECK(messages[0].find("(t_s 249.5 s); restarted at ") != std::string::npos);
    CHECK(messages[1].rfind("safe_state: after restart: unload: ramp to the pre-tension 0.0100 N",
                            0) == 0);
    CHECK(messages[2] == "safe_state: after restart: furnace to standby: setpoint 298.15 K");
    CHECK(run["events"][0]["t_s"] == 249.5);

    const auto next = wait_job(service, 2);
    CHECK(next["status"] == "completed");
    CHECK(next["run_ids"][0].get<std::int64_t>() > run_id);
    CHECK(Db(dir.db).number("SELECT count(*) FROM samples WHERE run_id = " +
                            std::to_string(run_id)) == 500);
}

TEST_CASE("a stop leaves queued jobs queued and the next start runs them") {
    const ServiceDir dir;
    std::int64_t first = 0, second = 0;
    {
        JobService service(dir.config());
        service.start();
        first = service.submit(short_job("first"), "api:a")["job_id"].get<std::int64_t>();
        second = service.submit(short_job("second"), "api:a")["job_id"].get<std::int64_t>();
    }
    {
        Db db(dir.db);
        // The first job either finished or was stopped; the second never started.
        const auto status = db.value("SELECT status FROM jobs WHERE id = " + std::to_string(first));
        CHECK((status == "completed" || status == "interrupted" || status == "queued"));
        CHECK(db.value("SELECT status FROM jobs WHERE id = " + std::to_string(second)) == "queued");
        CHECK(db.number("SELECT count(*) FROM runs WHERE status = 'running'") == 0);
    }
    JobService service(dir.config());
    service.start();
    CHECK(wait_job(service, second)["status"] == "completed");
    CHECK(Db(dir.db).number("SELECT count(*) FROM job_runs WHERE job_id = " +
                            std::to_string(second)) == 1);
}

namespace {

// The value of a Prometheus line `name value` (-2 when missing).
std::int64_t metric_value(const std::string& text, const std::string& name) {
    const auto at = text.find("\n" + name + " ");
    return at == std::string::npos ? -2 : std::stoll(text.substr(at + name.size() + 2));
}

}  // namespace

TEST_CASE("sample counts are exact while a run acquires and after it ends") {
    const ServiceDir dir;
    JobService service(dir.config());
    service.start();
    const auto job_id = service.submit(short_job(), "api:a")["job_id"].get<std::int64_t>();
    Db db(dir.db);
    const auto stored = [&](std::int64_t run_id) {
        return static_cast<std::int64_t>(
            db.number("SELECT count(*) FROM samples WHERE run_id = " + std::to_string(run_id)));
    };
    // Counted incrementally: each answer lies between the store's counts just before and just
    // after it, and never goes down.
    std::int64_t previous = 0, polls_running = 0;
    while (true) {
        const auto ids = service.job(job_id)["run_ids"];
        if (!ids.empty()) {
            const auto run_id = ids[0].get<std::int64_t>();
            const auto before = stored(run_id);
            const auto job = service.job(job_id);
            const auto run = service.run(run_id);
            const auto metrics = service.metrics();
            const auto after = stored(run_id);
            INFO("before " << before << ", after " << after);
            const auto in_job = job["runs"][0]["samples"].get<std::int64_t>();
            const auto in_run = run["samples"].get<std::int64_t>();
            const auto in_metrics = metric_value(metrics, "dmacycle_samples_stored_total");
            CHECK(before <= in_job);
            CHECK(in_job <= in_run);
            CHECK(in_run <= in_metrics);
            CHECK(in_metrics <= after);
            CHECK(previous <= in_job);
            previous = in_run;
            if (in_run > 0) {
                CHECK(run["last_seq"].get<std::int64_t>() - run["first_seq"].get<std::int64_t>() +
                          1 ==
                      in_run);
            }
            polls_running += job["status"] == "running" ? 1 : 0;
            if (finished(job["status"])) {
                break;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    MESSAGE(polls_running << " polls while the run acquired");

    const auto job = service.job(job_id);
    REQUIRE(job["status"] == "completed");
    const auto run_id = job["run_ids"][0].get<std::int64_t>();
    const auto total = stored(run_id);
    CHECK(total > 1000);
    CHECK(job["runs"][0]["samples"] == total);
    CHECK(job["runs"][0]["last_seq"] == db.number("SELECT max(seq) FROM samples"));
    const auto run = service.run(run_id);
    CHECK(run["samples"] == total);
    CHECK(run["first_seq"] == db.number("SELECT min(seq) FROM samples"));
    CHECK(metric_value(service.metrics(), "dmacycle_samples_stored_total") == total);

    // A second run adds its own samples to the total; a fresh service counts the same.
    const auto second = service.submit(short_job("second"), "api:a")["job_id"].get<std::int64_t>();
    REQUIRE(wait_job(service, second)["status"] == "completed");
    const auto all = static_cast<std::int64_t>(db.number("SELECT count(*) FROM samples"));
    CHECK(all > total);
    CHECK(metric_value(service.metrics(), "dmacycle_samples_stored_total") == all);
    const auto second_run = service.job(second)["run_ids"][0].get<std::int64_t>();
    CHECK(service.run(second_run)["samples"] == stored(second_run));
    CHECK(service.run(run_id)["samples"] == total);
}

TEST_CASE("a second service on the same store is refused and nothing moves before start") {
    const ServiceDir dir;
    { JobService tables(dir.config()); }
    const std::int64_t run_id = left_running(dir.db, short_job("crashed"));
    JobService service(dir.config());
    const auto queued = service.submit(short_job("waiting"), "api:a")["job_id"].get<std::int64_t>();
    // Constructed, not started: the run left running and the queued job are as they were.
    CHECK(Db(dir.db).value("SELECT status FROM runs WHERE id = " + std::to_string(run_id)) ==
          "running");
    CHECK(Db(dir.db).number("SELECT count(*) FROM events") == 0);

    std::string refused;
    try {
        JobService second(dir.config());
        second.start();
    } catch (const InputError& error) {
        refused = error.what();
    }
    CHECK(refused.find("store.db.lock is locked: another dmacycled uses") != std::string::npos);
    CHECK(Db(dir.db).value("SELECT status FROM runs WHERE id = " + std::to_string(run_id)) ==
          "running");
    CHECK(Db(dir.db).value("SELECT status FROM jobs WHERE id = " + std::to_string(queued)) ==
          "queued");

    service.start();
    CHECK(service.run(run_id)["status"] == "interrupted");
    CHECK(wait_job(service, queued)["status"] == "completed");
}

TEST_CASE("an abort before the job's first run is kept and no run starts") {
    const ServiceDir dir;
    JobService service(dir.config());
    const auto job_id = service.submit(short_job("held"), "api:a")["job_id"].get<std::int64_t>();
    // Another connection holds the write lock: the executor takes the job but waits to mark it
    // running, with no run (and no RunControl) yet.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(dir.db.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
    service.start();
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    while (service.health()["running_job"] != job_id &&
           std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const auto answer = service.abort(job_id, "tester");
    CHECK(answer["job_id"] == job_id);
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db);

    const auto job = wait_job(service, job_id);
    CHECK(job["status"] == "aborted");
    CHECK(job["message"] == "aborted by tester");
    CHECK(job["run_ids"].empty());
    CHECK(Db(dir.db).number("SELECT count(*) FROM runs") == 0);
}

TEST_CASE("a stop during a run ends it interrupted with the event last") {
    const ServiceDir dir;
    std::int64_t job_id = 0, run_id = -1;
    {
        JobService service(dir.config());
        service.start();
        job_id = service.submit(short_job("stopped"), "api:a")["job_id"].get<std::int64_t>();
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(1);
        while (std::chrono::steady_clock::now() < give_up) {
            const auto job = service.job(job_id);
            const auto& progress = job["progress"];
            if (finished(job["status"]) ||
                (progress.is_object() && progress["t_s"].get<double>() > 10)) {
                REQUIRE(job["status"] == "running");
                run_id = progress["run_id"].get<std::int64_t>();
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }
    REQUIRE(run_id >= 0);
    JobService service(dir.config());
    service.start();
    CHECK(service.job(job_id)["status"] == "interrupted");
    const auto run = service.run(run_id);
    CHECK(run["status"] == "interrupted");
    INFO(run["events"].dump(2));
    REQUIRE(!run["events"].empty());
    const auto& last = run["events"].back();
    CHECK(last["kind"] == "interrupted");
    CHECK(last["t_s"].get<double>() > 10);
}

TEST_CASE("the safe state after a restart does not need the job's profile any more") {
    const ServiceDir dir;
    { JobService tables(dir.config()); }
    const std::int64_t run_id = left_running(
        dir.db,
        runner_test::shipped_job("mode1-0-200.yaml", {{"profile: sim-la30", "profile: retired"}}));
    JobService service(dir.config());
    service.start();
    const auto lines = event_lines(service.run(run_id));
    INFO(service.run(run_id)["events"].dump(2));
    REQUIRE(lines.size() == 3);
    CHECK(lines[1].rfind("safe_state: after restart: unload: ramp to the pre-tension 0.0100 N",
                         0) == 0);
}

// An as-cast scan loads at no rate of its own: the restart's unload takes the runner's
// fallback, never a ramp at 0 MPa/min (which the frame refuses, leaving the ribbon as it was).
TEST_CASE("the safe state after a restart during an as-cast DMTA scan unloads at 50 MPa/min") {
    const ServiceDir dir;
    { JobService tables(dir.config()); }
    const std::int64_t run_id =
        left_running(dir.db, runner_test::shipped_job("dmta.yaml"), "LCNAC-dmta-cast");
    JobService service(dir.config());
    service.start();
    const auto lines = event_lines(service.run(run_id));
    INFO(service.run(run_id)["events"].dump(2));
    REQUIRE(lines.size() == 3);
    CHECK(lines[1] ==
          "safe_state: after restart: unload: ramp to the pre-tension 0.0100 N (0.278 MPa) at "
          "50.00 MPa/min");
    CHECK(lines[2] == "safe_state: after restart: furnace to standby: setpoint 298.15 K");
}

TEST_CASE("a FIFO in the spool is refused without waiting for a writer") {
    const ServiceDir dir;
    JobService service(dir.config());
    service.start();
    service.scan_spool();  // creates the folders
    REQUIRE(::mkfifo((dir.spool / "pipe.yaml").c_str(), 0600) == 0);
    service.scan_spool();
    CHECK(!fs::exists(fs::symlink_status(dir.spool / "pipe.yaml")));
    CHECK(fs::is_fifo(fs::symlink_status(dir.spool / "rejected" / "pipe.yaml")));
    CHECK(runner_test::read_file(dir.spool / "rejected" / "pipe.yaml.error")
              .find("pipe.yaml: not a regular file") != std::string::npos);
    CHECK(service.list_jobs()["jobs"].empty());
}

TEST_CASE("start settles spool files a stop left half-accepted") {
    const ServiceDir dir;
    JobService service(dir.config());
    service.scan_spool();  // creates the folders
    const auto queued =
        service.submit(short_job("done"), "spool:done.yaml")["job_id"].get<std::int64_t>();
    const auto accepted = dir.spool / "accepted";
    // Job `queued` exists: its file only missed the final rename. Job 7 was never inserted.
    write_file(accepted / ("." + std::to_string(queued) + "-done.yaml"), short_job("done"));
    write_file(accepted / ".7-lost.yaml", short_job("lost"));
    fs::last_write_time(accepted / ".7-lost.yaml",
                        fs::file_time_type::clock::now() - std::chrono::seconds(5));
    service.start();
    CHECK(fs::exists(accepted / (std::to_string(queued) + "-done.yaml")));
    CHECK(!fs::exists(accepted / ("." + std::to_string(queued) + "-done.yaml")));
    CHECK(!fs::exists(accepted / ".7-lost.yaml"));
    REQUIRE(fs::exists(dir.spool / "lost.yaml"));
    service.scan_spool();
    const auto jobs = service.list_jobs()["jobs"];
    REQUIRE(jobs.size() == 2);
    CHECK(jobs[0]["source"] == "spool:lost.yaml");
    const auto lost = jobs[0]["job_id"].get<std::int64_t>();
    CHECK(fs::exists(accepted / (std::to_string(lost) + "-lost.yaml")));
    CHECK(Db(dir.db).number("SELECT count(*) FROM jobs WHERE source = 'spool:lost.yaml'") == 1);
}

TEST_CASE("the spool takes nothing while rejected/ or accepted/ is a link out of it") {
    const ServiceDir dir;
    JobService service(dir.config());
    service.start();
    service.scan_spool();  // creates the folders
    // Someone who may write to the spool folder swaps rejected/ for a link to another folder.
    const auto elsewhere = dir.dir.path / "elsewhere";
    fs::create_directory(elsewhere);
    fs::rename(dir.spool / "rejected", dir.dir.path / "rejected-old");
    fs::create_directory_symlink(elsewhere, dir.spool / "rejected");
    write_file(dir.spool / "bad.yaml", "name: [unclosed\n");
    fs::last_write_time(dir.spool / "bad.yaml",
                        fs::file_time_type::clock::now() - std::chrono::seconds(5));
    service.scan_spool();
    CHECK(fs::exists(dir.spool / "bad.yaml"));  // left where it was
    CHECK(fs::is_empty(elsewhere));
    CHECK(fs::is_symlink(dir.spool / "rejected"));

    // The folder back: the next pass takes the file.
    fs::remove(dir.spool / "rejected");
    fs::rename(dir.dir.path / "rejected-old", dir.spool / "rejected");
    service.scan_spool();
    CHECK(!fs::exists(dir.spool / "bad.yaml"));
    CHECK(fs::exists(dir.spool / "rejected" / "bad.yaml.error"));
}

// The API's reads: jobs, runs, pages of samples and DMTA rows, results, health, metrics.
#include "job_service_impl.hpp"

#include <span>

#include "dmacycle/store/names.hpp"

namespace dmacycle::service {

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
    reader->query(
        "SELECT count(*), min(seq), max(seq) FROM sample_rows WHERE run_id = ? AND seq > ?",
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
                               {"stress_pa", p.stress_pa},
                               {"strain", p.strain},
                               {"paused", p.paused},
                               {"pause_pending", p.pause_pending}};
        }
    }
    return job;
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

// A row of `columns` as JSON cells, each as its names-table type says.
Json row_json(const store::SqlRow& row, std::span<const store::names::Column> columns) {
    Json cells = Json::array();
    for (int i = 0; i < static_cast<int>(columns.size()); ++i) {
        switch (columns[static_cast<std::size_t>(i)].type) {
            case store::names::Type::integer:
                cells.push_back(row.integer(i));
                break;
            case store::names::Type::real:
                cells.push_back(row.real(i));
                break;
            case store::names::Type::text:
                cells.push_back(row.text(i));
                break;
        }
    }
    return cells;
}

// One page of a run's rows keyed by seq (`samples`, `dmta`): seq > since_seq, every K-th, at
// most `limit`, the columns of the table's names in order; one row past the limit says `more`.
Json page_of_rows(store::SqlConnection& db, std::int64_t run_id, const std::string& table,
                  std::span<const store::names::Column> columns, std::int64_t since_seq,
                  std::int64_t limit, std::int64_t every) {
    static_assert(store::names::index_of(store::names::samples, "seq") == 0 &&
                  store::names::index_of(store::names::dmta, "seq") == 0);
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
    Json names = Json::array();
    for (const auto& column : columns) {
        names.push_back(column.name);
    }
    Json rows = Json::array();
    std::int64_t next_since = since_seq;
    bool more = false;
    // The primary key (run_id, seq) serves the range.
    db.query("SELECT " + store::names::joined(columns) + " FROM " + table +
                 " WHERE run_id = ? AND seq > ? AND seq % ? = 0 ORDER BY seq LIMIT ?",
             {run_id, since_seq, every, limit + 1}, [&](const store::SqlRow& row) {
                 if (static_cast<std::int64_t>(rows.size()) == limit) {
                     more = true;
                     return;
                 }
                 next_since = row.integer(0);
                 rows.push_back(row_json(row, columns));
             });
    return Json{{"run_id", run_id},
                {"columns", names},
                {"rows", rows},
                {"next_since", next_since},
                {"more", more}};
}

}  // namespace

Json JobService::samples(std::int64_t run_id, std::int64_t since_seq, std::int64_t limit,
                         std::int64_t every) const {
    return store_call([&] {
        std::lock_guard read(impl_->read_mutex);
        return page_of_rows(*impl_->reader, run_id, "samples", store::names::samples, since_seq,
                            limit, every);
    });
}

Json JobService::dmta(std::int64_t run_id, std::int64_t since_seq, std::int64_t limit,
                      std::int64_t every) const {
    return store_call([&] {
        std::lock_guard read(impl_->read_mutex);
        return page_of_rows(*impl_->reader, run_id, "dmta", store::names::dmta, since_seq, limit,
                            every);
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
        {"instrument", impl_->rig.simulator ? "simulated" : "rig"},
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

}  // namespace dmacycle::service

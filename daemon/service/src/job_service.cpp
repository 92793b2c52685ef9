// JobService: its lifecycle, submissions and control requests (docs/service.md, docs/api.md).
#include "job_service_impl.hpp"

#include <cmath>

#include "dmacycle/io/profiles.hpp"

namespace dmacycle::service {

JobService::Impl::Impl(ServiceConfig service_config) : config(std::move(service_config)) {
    if (config.database.empty()) {
        throw io::InputError("dmacycled: no database configured (config 'database' or --db)");
    }
    store_lock.emplace(config.database);
    if (!config.instrument) {
        throw io::InputError("dmacycled: no instrument configured (simulate or rig)");
    }
    rig = runner::bring_up(*config.instrument);
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
    // the job file): its frame's limits validate the job, the stream rate also the rig's.
    const protocols::ProfileResolver resolve = [this](const std::string& name) {
        const fs::path path = config.profiles / (name + ".yaml");
        std::error_code ignored;
        if (!fs::is_regular_file(path, ignored)) {
            return protocols::ProfileLimit{std::nullopt, "unknown instrument profile '" + name +
                                                             "' (no " + path.string() + ")"};
        }
        auto limit = io::read_profile_limit(path);
        if (config.instrument) {  // the rig's frame driver may stream slower than the profile
            const auto driver = runner::stream_rate_limit(*config.instrument);
            if (limit.force_max_n && driver.max_hz < limit.stream_rate_max_hz.value_or(INFINITY)) {
                limit.stream_rate_max_hz = driver.max_hz;
                limit.stream_rate_limit_by = "the service's instrument: " + driver.by;
            }
        }
        return limit;
    };
    return protocols::parse_job(text, resolve);
}

protocols::JobFile JobService::Impl::validate(const std::string& text,
                                              const std::string& file_name) const {
    if (text.size() > config.max_job_bytes) {
        throw ApiError(413, over_limit(file_name, text.size(), config.max_job_bytes));
    }
    auto file = parse(text);
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

}  // namespace dmacycle::service

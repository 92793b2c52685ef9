// The queue's executor: one job at a time, each of its runs through the runner.
#include "job_service_impl.hpp"

namespace dmacycle::service {

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

// Each run of the job in turn (a sweep's points), until one does not complete.
void JobService::Impl::run_job(std::int64_t job_id, const std::string& text) {
    const auto file = parse(text);
    if (!file.ok()) {
        // The profile changed since the job was queued.
        finish_job(job_id, "faulted",
                   "the job no longer validates: " + file.errors.front().to_string("job.yaml"));
        return;
    }
    JobEnd end{"completed", "completed"};
    for (std::size_t i = 0; i < file.runs.size(); ++i) {
        auto control = std::make_shared<runner::RunControl>();
        auto stop = take_point(i, file.runs.size(), control);
        if (!stop) {
            stop = run_point(job_id, text, file.runs[i], i, file.runs.size(), *control);
        }
        if (stop) {
            end = *stop;
            break;
        }
    }
    finish_job(job_id, end.status, end.message);
}

// Makes run `i` the current one, unless the service is stopping or the job was aborted.
std::optional<JobEnd> JobService::Impl::take_point(
    std::size_t i, std::size_t count, const std::shared_ptr<runner::RunControl>& control) {
    std::lock_guard lock(mutex);
    if (stopping) {
        return JobEnd{"interrupted", "interrupted: the service stopped before run " +
                                         std::to_string(i + 1) + " of " + std::to_string(count)};
    }
    if (current->abort_reason) {
        return JobEnd{"aborted", *current->abort_reason};
    }
    current->control = control;
    current->run_id = -1;
    return std::nullopt;
}

// Runs one point through the runner; how the job ends when it did not complete.
std::optional<JobEnd> JobService::Impl::run_point(std::int64_t job_id, const std::string& text,
                                                  const protocols::Job& job, std::size_t i,
                                                  std::size_t count, runner::RunControl& control) {
    const std::string job_tag = "job " + std::to_string(job_id);
    if (runs_started++ > 0 && rig.simulator) {
        rig.simulator->instrument().new_sample();  // every run a fresh ribbon
    }
    log::info(job_tag + ": run " + std::to_string(i + 1) + "/" + std::to_string(count) + " " +
              job.name + (job.sweep_point.empty() ? "" : " " + job.sweep_point) + ", sample " +
              job.sample.id);
    runner::RunnerOptions options;
    options.sample_rate_hz = job.sample_rate_hz.value_or(config.sample_rate_hz);
    options.control = &control;
    options.hold_at = rig.hold_at();
    options.frame_starved = rig.frame_starved();
    options.on_event = [job_tag](double t_s, const std::string& kind, const std::string& text_) {
        log::info(job_tag + ": [" + fixed(t_s, 1) + " s] " + kind + ": " + text_);
    };
    runner::RunOutcome outcome;
    try {
        std::int64_t baseline = 0;
        {
            std::lock_guard read(read_mutex);
            reader->query("SELECT coalesce(max(id), 0) FROM runs", {},
                          [&](const store::SqlRow& row) { baseline = row.integer(0); });
        }
        std::jthread watcher(
            [&](std::stop_token stop) { watch_run_id(stop, job_id, i, baseline, control); });
        outcome = runner::execute_run(job, text, *store, rig.frame, rig.furnace, options);
        watcher.request_stop();
        watcher.join();
        link_run(job_id, outcome.run_id, i);
    } catch (const std::exception& error) {
        const std::string message = std::string("the run could not be recorded: ") + error.what();
        log::error(job_tag + ": " + message);
        return JobEnd{"faulted", message};
    }
    log::info(job_tag + ": run " + std::to_string(outcome.run_id) + " " +
              std::string(to_string(outcome.status)) + ": " + outcome.message);
    return judge_run(job_tag, outcome, control);
}

// A sweep stops at its first run that did not complete (docs/runner.md).
std::optional<JobEnd> JobService::Impl::judge_run(const std::string& job_tag,
                                                  const runner::RunOutcome& outcome,
                                                  const runner::RunControl& control) {
    const auto abort_reason = control.abort_reason();
    if (outcome.status == store::RunStatus::aborted && abort_reason == service_stopped) {
        // Not the operator's abort: the run ends `interrupted`, the job too. The event goes at
        // the last sample's time, after what the run recorded.
        try {
            store->set_status(outcome.run_id, store::RunStatus::interrupted);
            event(outcome.run_id, control.progress().t_s, "interrupted",
                  "interrupted: " + service_stopped);
            store->flush();
        } catch (const store::StoreError& error) {
            log::error(job_tag + ": " + error.what());
        }
        return JobEnd{"interrupted", "interrupted: " + service_stopped};
    }
    if (outcome.status != store::RunStatus::completed) {
        // A fault stays a fault even when an abort came after it.
        const bool aborted = outcome.status == store::RunStatus::aborted && abort_reason;
        return JobEnd{aborted ? "aborted" : "faulted", aborted ? *abort_reason : outcome.message};
    }
    return std::nullopt;
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

}  // namespace dmacycle::service

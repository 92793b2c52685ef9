// Restart recovery: runs and jobs a dead process left running, and the safe state after it.
#include "job_service_impl.hpp"

namespace dmacycle::service {

// --- restart --------------------------------------------------------------------------------

void JobService::Impl::event(std::int64_t run_id, double t_s, const std::string& kind,
                             const std::string& message) {
    store->append_event(run_id, {t_s, store::WallClock::now(), kind, message});
    log::notice("run " + std::to_string(run_id) + ": " + kind + ": " + message);
}

void JobService::Impl::recover() {
    struct LastSample {
        double t_s = 0;
        std::string t_wall_utc;
    };
    std::map<std::int64_t, std::optional<LastSample>> last;  // of each run left running
    {
        std::lock_guard read(read_mutex);
        std::vector<std::int64_t> running;
        reader->query("SELECT id FROM runs WHERE status = 'running'", {},
                      [&](const store::SqlRow& row) { running.push_back(row.integer(0)); });
        for (const auto id : running) {
            last[id];
            reader->query(
                "SELECT t_s, t_wall_utc FROM samples WHERE run_id = ? ORDER BY seq DESC LIMIT 1",
                {id}, [&](const store::SqlRow& row) {
                    last[id] = LastSample{row.real(0), row.text(1)};
                });
        }
    }
    const std::string restarted = now_utc();
    std::vector<std::int64_t> jobs;  // left running or paused
    {
        std::lock_guard write(write_mutex);
        writer->query("SELECT id FROM jobs WHERE status IN ('running', 'paused') ORDER BY id", {},
                      [&](const store::SqlRow& row) { jobs.push_back(row.integer(0)); });
    }
    if (last.empty() && jobs.empty()) {
        return;  // a clean stop: nothing to write
    }
    const auto interrupted = store->mark_interrupted();
    {
        std::lock_guard write(write_mutex);
        for (const auto run_id : interrupted) {
            // The process may have died before it linked its run: the job it was running.
            if (!jobs.empty()) {
                writer->run(
                    "INSERT OR IGNORE INTO job_runs (job_id, run_id, point) SELECT ?, ?, "
                    "coalesce(max(point) + 1, 0) FROM job_runs WHERE job_id = ?",
                    {jobs.back(), run_id, jobs.back()});
            }
        }
        writer->run(
            "UPDATE jobs SET status = 'interrupted', ended_utc = ?, message = ? WHERE status IN "
            "('running', 'paused')",
            {restarted, "interrupted: the service stopped during this job; restarted at " +
                            restarted + " (its runs show what was done)"});
    }
    for (const auto job_id : jobs) {
        log::notice("job " + std::to_string(job_id) + ": interrupted (found running at start)");
    }
    for (const auto run_id : interrupted) {
        const auto found = last.find(run_id);
        const auto& sample = found != last.end() ? found->second : std::nullopt;
        const double t_s = sample ? sample->t_s : 0.0;
        event(run_id, t_s, "interrupted",
              sample ? "interrupted: the service stopped at " + sample->t_wall_utc + " (t_s " +
                           fixed(sample->t_s, 1) + " s); restarted at " + restarted
                     : "interrupted: the service stopped before the first sample; restarted "
                       "at " +
                           restarted);
        if (run_id == interrupted.back()) {
            // Only the latest run can have had the instrument; never resume cycling.
            safe_state(run_id, t_s);
        }
    }
    store->flush();  // the record of the gap is in the file before anything else runs
    if (interrupted.empty() && !jobs.empty()) {
        log::warning("a job was running but no run was: the instrument is left as it is");
    }
}

void JobService::Impl::safe_state(std::int64_t run_id, double t_s) {
    std::string text, sample_id;
    {
        std::lock_guard read(read_mutex);
        reader->query("SELECT job_text, sample_id FROM runs WHERE id = ?", {run_id},
                      [&](const store::SqlRow& row) {
                          text = row.text(0);
                          sample_id = row.text(1);
                      });
    }
    // Not against today's profiles: the safe state needs only the pre-tension and the stress
    // rate, and a profile changed since must not leave the frame held at the run's stress.
    const auto file = protocols::parse_job(text, std::numeric_limits<double>::infinity());
    const protocols::Job* job = protocols::run_of_sample(file, sample_id);
    const bool ramping = job != nullptr && job->dmta.has_value();  // a scan's rate limit to undo
    std::string frame_note;
    try {
        auto driver = drivers::make_frame(rig.frame);
        driver->connect(drivers::deadline_in(safe_state_connect_timeout));
        if (job == nullptr) {
            driver->hold();
            frame_note = "frame held where it is (the run's job text does not parse: " +
                         (file.errors.empty() ? std::string("no runs")
                                              : file.errors.front().to_string("job.yaml")) +
                         ")";
        } else {
            const auto plan = protocols::make_plan(*job, file.frame_force_limit_n);
            driver->configure_geometry(
                {job->sample.width_m, job->sample.thickness_m, job->sample.gauge_length_m});
            const auto unloaded = runner::unload_frame(*driver, *job, plan);
            if (!unloaded.tripped) {
                unload = PendingUnload{run_id, t_s, unloaded.duration_s + unload_margin_s};
            }
            frame_note = unloaded.note;
        }
        driver->disconnect();
    } catch (const std::exception& error) {
        frame_note = std::string("unload failed: ") + error.what();
    }
    std::string furnace_note;
    const runner::RunnerOptions defaults;
    try {
        auto driver = drivers::make_furnace(rig.furnace);
        driver->connect_by(drivers::deadline_in(safe_state_connect_timeout));
        furnace_note = runner::furnace_to_standby(*driver, defaults.standby_temperature_k, ramping);
        driver->disconnect();
    } catch (const std::exception& error) {
        furnace_note = std::string("furnace standby failed: ") + error.what();
    }
    event(run_id, t_s, "safe_state", "after restart: " + frame_note);
    event(run_id, t_s, "safe_state", "after restart: " + furnace_note);
}

// --- executor -------------------------------------------------------------------------------

// The next job must not take a frame still ramping down from the interrupted run: the queue
// waits until it holds, at most the ramp's duration plus a margin (the API serves meanwhile).
void JobService::Impl::await_unload(std::unique_lock<std::mutex>& lock) {
    const auto pending = *unload;
    unload.reset();
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    const auto waited_s = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    };
    std::string note;
    try {
        auto driver = drivers::make_frame(rig.frame);
        driver->connect(drivers::deadline_in(safe_state_connect_timeout));
        while (note.empty()) {
            const auto state = driver->state();
            const std::string at = fixed(state.stress_pa / 1e6, 3) + " MPa";
            if (state.mode != "RAMP") {
                note = "the frame is in " + state.mode + " at " + at + " after " +
                       fixed(waited_s(), 1) + " s; the queue goes on";
            } else if (waited_s() > pending.bound_s) {
                note = "the frame is still ramping (" + at + ") after " + fixed(waited_s(), 1) +
                       " s; the queue goes on";
            } else {
                lock.lock();
                const bool stop =
                    wake.wait_for(lock, std::chrono::milliseconds(100), [&] { return stopping; });
                lock.unlock();
                if (stop) {
                    note = "the service stopped while the frame was ramping (" + at + ")";
                }
            }
        }
        driver->disconnect();
    } catch (const std::exception& error) {
        note = std::string("cannot follow the unload ramp: ") + error.what();
    }
    event(pending.run_id, pending.t_s, "safe_state", "after restart: " + note);
    store->flush();
    lock.lock();
}

}  // namespace dmacycle::service

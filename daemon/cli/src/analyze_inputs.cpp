#include "analyze_inputs.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "analyze_common.hpp"
#include "dmacycle/io/reptate_file.hpp"
#include "dmacycle/io/text.hpp"
#include "dmacycle/store/recovery_reading.hpp"
#include "dmacycle/store/run_archive.hpp"

namespace dmacycle::cli::detail {

using store::Json;

namespace {

// Every stored sample of the run, read as the runner read them (store::RecoveryReading).
RecoveryInput recovery_from_store(const std::string& db, std::int64_t run_id) {
    const store::RunArchive archive(db);
    archive.run(run_id);  // an unknown run is refused by name
    store::RecoveryReading reading;
    archive.for_each_trace(run_id, [&](const store::ArchivedTrace& sample) {
        reading.add(sample.t_s, sample.segment, sample.stress_pa, sample.strain);
    });
    const std::string source = "run " + std::to_string(run_id) + " in " + db;
    if (!reading.has_recovery()) {
        throw io::InputError(db + ": run " + std::to_string(run_id) +
                             " has no recovery samples after a loading");
    }
    return {reading.history(),
            source,
            Json{{"db", db}, {"run_id", run_id}},
            "t0 from the run's segments",
            reading.curve(),
            reading.t0_s()};
}

// A run's own CSV export (dmacycle export): its segment column gives t0, as in the store.
RecoveryInput recovery_from_export(const std::string& path) {
    const auto table = io::read_csv(path, {"t_s", "stress_pa", "strain"}, {"segment"});
    require_rows(table, min_rows, "rows");
    io::require_not_decreasing(table, "t_s");
    const auto& t_s = table.column("t_s");
    const auto& stress_pa = table.column("stress_pa");
    const auto& strain = table.column("strain");
    store::RecoveryReading reading;
    for (std::size_t row = 0; row < table.rows(); ++row) {
        reading.add(t_s[row], table.text[0][row], stress_pa[row], strain[row]);
    }
    if (!reading.has_recovery()) {
        throw io::InputError(path +
                             ": no rows tagged recovery after rows tagged load, cycle or creep");
    }
    return {reading.history(), path,          Json{{"file", path}}, "t0 from the export's segments",
            reading.curve(),   reading.t0_s()};
}

// time_s,strain rows; those after --t0 are the recovery. Repeated time stamps are averaged.
RecoveryInput recovery_from_csv(const std::string& path, double t0_s) {
    const auto table = io::read_csv(path, {"time_s", "strain"});
    require_rows(table, 1, "rows");
    io::require_not_decreasing(table, "time_s");
    const auto& time_s = table.column("time_s");
    // A row at t0 itself is the strain at unloading (log_bins.hpp).
    const auto first = static_cast<std::size_t>(
        std::lower_bound(time_s.begin(), time_s.end(), t0_s) - time_s.begin());
    if (first == time_s.size()) {
        throw io::InputError(
            io::format("%s: no recovery rows after t0 = %g s (last time_s is %g at "
                       "line %zu)",
                       path.c_str(), t0_s, time_s.back(), table.line_of_row.back()));
    }
    if (time_s.size() - first < min_rows) {
        throw io::InputError(
            io::format("%s: too few recovery rows after t0 = %g s (%zu); need at least %zu",
                       path.c_str(), t0_s, time_s.size() - first, min_rows));
    }
    return {{},
            path,
            Json{{"file", path}},
            "t0 given",
            analysis::bin_recovery(time_s, table.column("strain"), t0_s),
            t0_s};
}

// A run's samples tagged creep at their mean stress, timed from the start of the hold: the
// samples tagged load before it are the ramp (analysis::CreepRamp). Without a ramp the load is
// a step one sample step before the first creep sample.
class CreepReading {
  public:
    void add(double t_s, std::string_view segment, double stress_pa, double strain) {
        if (segment == "load" && input_.time_s.empty()) {
            ramp_.add(t_s, stress_pa);
            hold_start_s_ = t_s;
        } else if (segment == "creep") {
            if (!hold_start_s_) {
                first_creep_s_ = t_s;
                hold_start_s_ = t_s;
            }
            input_.time_s.push_back(t_s - *hold_start_s_);
            input_.strain.push_back(strain);
            stress_sum_pa_ += stress_pa;
        }
    }

    CreepInput finish(std::string source, Json source_json, const std::string& what) && {
        if (input_.time_s.size() < min_rows) {
            throw io::InputError(io::format(
                "%s: %zu samples tagged creep; a creep fit needs at least %zu (a cycling run has "
                "no constant-stress segment: fit its recovery)",
                what.c_str(), input_.time_s.size(), min_rows));
        }
        input_.stress_pa = stress_sum_pa_ / static_cast<double>(input_.time_s.size());
        if (first_creep_s_) {
            const double step_s = input_.time_s[1] - input_.time_s[0];
            for (double& t : input_.time_s) {
                t += step_s;
            }
            input_.how = "the samples tagged creep, after a step load";
        } else {
            input_.ramp = analysis::CreepRamp{std::move(ramp_), input_.stress_pa};
            input_.how = "the samples tagged creep, after the recorded load ramp";
        }
        input_.source = std::move(source);
        input_.source_json = std::move(source_json);
        return std::move(input_);
    }

  private:
    analysis::LoadingHistory ramp_;
    std::optional<double> hold_start_s_, first_creep_s_;
    double stress_sum_pa_ = 0;
    CreepInput input_;
};

CreepInput creep_from_store(const std::string& db, std::int64_t run_id) {
    const store::RunArchive archive(db);
    archive.run(run_id);  // an unknown run is refused by name
    CreepReading reading;
    archive.for_each_trace(run_id, [&](const store::ArchivedTrace& sample) {
        reading.add(sample.t_s, sample.segment, sample.stress_pa, sample.strain);
    });
    const std::string source = "run " + std::to_string(run_id) + " in " + db;
    return std::move(reading).finish(source, Json{{"db", db}, {"run_id", run_id}},
                                     db + ": run " + std::to_string(run_id));
}

CreepInput creep_from_export(const std::string& path) {
    const auto table = io::read_csv(path, {"t_s", "stress_pa", "strain"}, {"segment"});
    io::require_not_decreasing(table, "t_s");
    CreepReading reading;
    for (std::size_t row = 0; row < table.rows(); ++row) {
        reading.add(table.column("t_s")[row], table.text[0][row], table.column("stress_pa")[row],
                    table.column("strain")[row]);
    }
    return std::move(reading).finish(path, Json{{"file", path}}, path);
}

// time_s,strain rows since loading, at the stress given.
CreepInput creep_from_csv(const std::string& path, double stress_mpa) {
    const auto table = io::read_csv(path, {"time_s", "strain"});
    require_rows(table, min_rows, "rows");
    io::require_not_decreasing(table, "time_s");
    const auto& time_s = table.column("time_s");
    if (time_s.front() <= 0) {
        throw io::InputError(io::format("%s:%zu: time_s %g must be > 0 (time since loading)",
                                        path.c_str(), table.line_of_row.front(), time_s.front()));
    }
    CreepInput input{path,        Json{{"file", path}},   "stress given, a step load at time 0",
                     time_s,      table.column("strain"), stress_mpa * 1e6,
                     std::nullopt};
    return input;
}

// A RepTate creep file's t and strain columns, and its last row (t0 and the strain at
// unloading for the recovery after it).
io::RepTateFile reptate_creep(const std::string& path) {
    auto file = io::read_reptate(path, {"t", "strain"});
    require_rows(file.table, min_rows, "rows");
    io::require_not_decreasing(file.table, "t");
    if (file.number("rec").value_or(0) != 0) {
        throw io::InputError(path +
                             ": a recovery (rec=1): fit it with analyze recovery FILE "
                             "--after CREEP");
    }
    return file;
}

// RepTate's recovery gives the strain recovered since unloading, γ_r(t'); eq. (2) wants the
// strain, ε(t0 + t') = ε(t0) − γ_r(t'), with t0 and ε(t0) the last row of the creep before it.
RecoveryInput recovery_from_reptate(const std::string& path, const std::string& creep_path) {
    const auto recovery = io::read_reptate(path, {"t", "strain"});
    if (recovery.number("rec").value_or(0) == 0) {
        throw io::InputError(path +
                             ": not a recovery (no rec=1 parameter): fit it with analyze "
                             "creep");
    }
    require_rows(recovery.table, min_rows, "rows");
    io::require_not_decreasing(recovery.table, "t");
    const auto creep = reptate_creep(creep_path);
    const double t0_s = creep.table.column("t").back();
    const double strain_at_unload = creep.table.column("strain").back();
    std::vector<double> time_s, strain;
    for (std::size_t row = 0; row < recovery.table.rows(); ++row) {
        time_s.push_back(t0_s + recovery.table.column("t")[row]);
        strain.push_back(strain_at_unload - recovery.table.column("strain")[row]);
    }
    return {{},
            path,
            Json{{"file", path}, {"after", creep_path}},
            "a RepTate recovery: t0 and the strain at unloading from the creep's last row, " +
                creep_path,
            analysis::bin_recovery(time_s, strain, t0_s),
            t0_s};
}

CreepInput creep_from_reptate(const std::string& path, std::optional<double> stress_mpa) {
    const auto file = reptate_creep(path);
    const auto stress_pa = stress_mpa ? std::optional(*stress_mpa * 1e6) : file.number("stress");
    if (!stress_pa || *stress_pa <= 0) {
        throw io::UsageError(path + ": no positive stress= parameter: give --stress-mpa S");
    }
    if (file.table.column("t").front() <= 0) {
        throw io::InputError(io::format("%s:%zu: t %g must be > 0 (time since loading)",
                                        path.c_str(), file.table.line_of_row.front(),
                                        file.table.column("t").front()));
    }
    CreepInput input{path,
                     Json{{"file", path}},
                     stress_mpa ? "a RepTate creep, the stress given"
                                : "a RepTate creep, its stress parameter (Pa)",
                     file.table.column("t"),
                     file.table.column("strain"),
                     *stress_pa,
                     std::nullopt};
    return input;
}

// --db STORE --run ID, or nullopt when neither is given. Refuses one without the other, and a
// FILE or --OPTION beside them: the run's own samples give what these would.
std::optional<std::pair<std::string, std::int64_t>> stored_run(const io::Arguments& arguments,
                                                               bool option_given,
                                                               const std::string& option) {
    const auto db = arguments.text("db");
    const auto run_id = arguments.integer("run");
    if (db.has_value() != run_id.has_value()) {
        throw io::UsageError("--db STORE and --run ID go together");
    }
    if (!db) {
        return std::nullopt;
    }
    if (!arguments.positionals().empty() || option_given) {
        throw io::UsageError("--db --run reads the run's own samples: no FILE, no --" + option);
    }
    return std::pair{*db, *run_id};
}

// A run's CSV export (dmacycle export): its header names t_s and segment.
bool is_run_export(const std::string& path) {
    const auto header = io::read_csv_header(path);
    return std::ranges::find(header, "t_s") != header.end() &&
           std::ranges::find(header, "segment") != header.end();
}

}  // namespace

RecoveryInput read_recovery(const io::Arguments& arguments) {
    const auto t0_s = arguments.number("t0");
    if (const auto run = stored_run(arguments, t0_s.has_value(), "t0")) {
        return recovery_from_store(run->first, run->second);
    }
    const auto path = single_file(arguments);
    const auto after = arguments.text("after");
    if (io::is_reptate_file(path)) {
        if (!after || t0_s) {
            throw io::UsageError(path +
                                 " is a RepTate file: name the creep before it with "
                                 "--after CREEP (its last row gives t0), no --t0");
        }
        return recovery_from_reptate(path, *after);
    }
    if (after) {
        throw io::UsageError("--after CREEP goes with a RepTate recovery file only");
    }
    if (is_run_export(path)) {
        if (t0_s) {
            throw io::UsageError(path + " is a run's export: its segments give t0, drop --t0");
        }
        return recovery_from_export(path);
    }
    if (!t0_s) {
        throw io::UsageError(
            "--t0 SECONDS is required (time of unloading, from the start of loading)");
    }
    if (*t0_s <= 0) {
        throw io::UsageError("--t0 must be > 0 s");
    }
    return recovery_from_csv(path, *t0_s);
}

CreepInput read_creep(const io::Arguments& arguments) {
    const auto stress_mpa = arguments.number("stress-mpa");
    if (const auto run = stored_run(arguments, stress_mpa.has_value(), "stress-mpa")) {
        return creep_from_store(run->first, run->second);
    }
    const auto path = single_file(arguments);
    if (io::is_reptate_file(path)) {
        return creep_from_reptate(path, stress_mpa);
    }
    if (is_run_export(path)) {
        if (stress_mpa) {
            throw io::UsageError(path +
                                 " is a run's export: its rows give the stress, drop "
                                 "--stress-mpa");
        }
        return creep_from_export(path);
    }
    if (!stress_mpa) {
        throw io::UsageError("--stress-mpa S is required (the creep stress)");
    }
    if (*stress_mpa <= 0) {
        throw io::UsageError("--stress-mpa must be > 0");
    }
    return creep_from_csv(path, *stress_mpa);
}

}  // namespace dmacycle::cli::detail

#include "dmacycle/exports/run_export.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <set>
#include <span>
#include <stdexcept>
#include <variant>

#include "dmacycle/io/ta_text.hpp"
#include "dmacycle/io/text.hpp"
#include "dmacycle/protocols/job.hpp"
#include "dmacycle/protocols/plan.hpp"
#include "dmacycle/store/names.hpp"

namespace dmacycle::exports {
namespace {

using Json = nlohmann::json;

constexpr double kelvin_at_0_celsius = 273.15;

// The shortest text that reads back as exactly `value`.
void append_number(std::string& out, double value) {
    char buffer[32];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
    out.append(buffer, end);
}

void append_cell(std::string& out, std::string_view text) {
    if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
        out += text;
        return;
    }
    out += '"';
    for (const char c : text) {
        out += c;
        if (c == '"') {
            out += '"';
        }
    }
    out += '"';
}

void write_csv_header(std::ostream& out, std::span<const store::names::Column> columns) {
    out << store::names::joined(columns, ",") << '\n';
}

// A row's cells in the order of its names table.
using Cell = std::variant<std::int64_t, double, std::string_view>;

// One row; `line` is the caller's buffer, reused from row to row.
template <std::size_t N>
void write_csv_row(std::ostream& out, std::string& line, const std::array<Cell, N>& cells) {
    line.clear();
    for (const auto& cell : cells) {
        if (!line.empty()) {
            line += ',';
        }
        if (const auto* number = std::get_if<double>(&cell)) {
            append_number(line, *number);
        } else if (const auto* text = std::get_if<std::string_view>(&cell)) {
            append_cell(line, *text);
        } else {
            line += std::to_string(std::get<std::int64_t>(cell));
        }
    }
    line += '\n';
    out.write(line.data(), static_cast<std::streamsize>(line.size()));
}

// Each field into its column's cell; a column added to a table without a cell here, or a name
// not in it, does not compile.
std::array<Cell, store::names::samples.size()> cells_of(const store::ArchivedSample& s) {
    constexpr auto& at = store::names::samples;
    static_assert(at.size() == 9, "every sample column needs its cell here");
    std::array<Cell, at.size()> cells;
    cells[store::names::index_of(at, "seq")] = s.seq;
    cells[store::names::index_of(at, "t_s")] = s.t_s;
    cells[store::names::index_of(at, "t_wall_utc")] = std::string_view(s.t_wall_utc);
    cells[store::names::index_of(at, "segment")] = std::string_view(s.segment);
    cells[store::names::index_of(at, "temperature_k")] = s.temperature_k;
    cells[store::names::index_of(at, "force_n")] = s.force_n;
    cells[store::names::index_of(at, "displacement_m")] = s.displacement_m;
    cells[store::names::index_of(at, "stress_pa")] = s.stress_pa;
    cells[store::names::index_of(at, "strain")] = s.strain;
    return cells;
}

std::array<Cell, store::names::dmta.size()> cells_of(const store::ArchivedDmta& d) {
    constexpr auto& at = store::names::dmta;
    static_assert(at.size() == 8, "every DMTA column needs its cell here");
    std::array<Cell, at.size()> cells;
    cells[store::names::index_of(at, "seq")] = d.seq;
    cells[store::names::index_of(at, "t_s")] = d.t_s;
    cells[store::names::index_of(at, "t_wall_utc")] = std::string_view(d.t_wall_utc);
    cells[store::names::index_of(at, "frequency_hz")] = d.frequency_hz;
    cells[store::names::index_of(at, "temperature_k")] = d.temperature_k;
    cells[store::names::index_of(at, "storage_pa")] = d.storage_pa;
    cells[store::names::index_of(at, "loss_pa")] = d.loss_pa;
    cells[store::names::index_of(at, "tan_delta")] = d.tan_delta;
    return cells;
}

class CsvSampleWriter final : public SampleWriter {
  public:
    explicit CsvSampleWriter(std::ostream& out) : out_(out) {
        write_csv_header(out_, store::names::samples);
    }

    void write(const store::ArchivedSample& s) override { write_csv_row(out_, line_, cells_of(s)); }

  private:
    std::ostream& out_;
    std::string line_;
};

// The six TA signals: name, unit, and the value from a sample in SI.
struct TaColumn {
    const char* name;
    const char* unit;
    double (*value)(const store::ArchivedSample&);
};
const TaColumn ta_columns[] = {
    {"Time", "min", [](const store::ArchivedSample& s) { return s.t_s / 60.0; }},
    {"Temperature", "°C",
     [](const store::ArchivedSample& s) { return s.temperature_k - kelvin_at_0_celsius; }},
    {"Static Force", "N", [](const store::ArchivedSample& s) { return s.force_n; }},
    {"Displacement", "µm", [](const store::ArchivedSample& s) { return s.displacement_m * 1e6; }},
    {"Stress", "MPa", [](const store::ArchivedSample& s) { return s.stress_pa / 1e6; }},
    {"Strain", "%", [](const store::ArchivedSample& s) { return s.strain * 100.0; }},
};

std::string celsius(double kelvin) {
    return io::format("%.2f °C", kelvin - kelvin_at_0_celsius);
}
std::string minutes(double seconds) {
    return io::format("%.2f min", seconds / 60.0);
}
std::string mpa(double pascal) {
    return io::format("%.2f MPa", pascal / 1e6);
}

// The plan's segments as TA method steps ("N: step").
std::vector<std::string> method_steps(const protocols::Job& job) {
    protocols::Plan plan;
    try {
        plan = protocols::make_plan(job, std::numeric_limits<double>::infinity());
    } catch (const std::invalid_argument&) {
        return {};  // a job parse_job accepted always has a plan; nothing to show otherwise
    }
    using protocols::SegmentKind;
    std::vector<std::string> steps;
    for (const auto& segment : plan.segments) {
        std::string step;
        switch (segment.kind) {
            case SegmentKind::equilibrate:
                step = "Equilibrate at " + celsius(segment.temperature_k);
                break;
            case SegmentKind::hold:
                step = "Isothermal for " + minutes(segment.duration_s);
                break;
            case SegmentKind::pre_tension:
                step = io::format("Preload force %.4f N", segment.force_n);
                break;
            case SegmentKind::load:
            case SegmentKind::unload:
                step = io::format("Ramp stress %.2f MPa/min to ",
                                  segment.stress_rate_pa_s * 60 / 1e6) +
                       mpa(segment.stress_end_pa);
                break;
            case SegmentKind::cycle:
                step = "Stress cycling " + mpa(segment.stress_min_pa) + " to " +
                       mpa(segment.stress_max_pa) +
                       io::format(" at %.2f MPa/min, %d cycles for ",
                                  segment.stress_rate_pa_s * 60 / 1e6, segment.cycles) +
                       minutes(segment.duration_s);
                break;
            case SegmentKind::creep:
                step = "Creep at " + mpa(segment.stress_start_pa) + " for " +
                       minutes(segment.duration_s);
                break;
            case SegmentKind::dmta_scan:
                step = io::format("Ramp %.2f °C/min to ", segment.temperature_rate_k_s * 60) +
                       celsius(segment.temperature_end_k) +
                       io::format(", %zu frequencies, every %.1f s", segment.frequencies_hz.size(),
                                  segment.interval_s);
                break;
            case SegmentKind::recovery:
                step = io::format("Recovery at force %.4f N for ", segment.force_n) +
                       minutes(segment.duration_s);
                break;
        }
        steps.push_back(std::to_string(steps.size() + 1) + ": " + step);
    }
    return steps;
}

// What the run did, for ProcName: "Stress cycling (amplitude)", "Creep", "DMTA scan", or the
// cycling then the scan.
std::string procedure(const protocols::Job& job) {
    const std::string cycling =
        job.cycling.creep()
            ? "Creep"
            : "Stress cycling (" + std::string(protocols::to_string(job.cycling.mode)) + ")";
    switch (job.kind) {
        case protocols::JobKind::cycling:
            return cycling;
        case protocols::JobKind::dmta:
            return "DMTA scan";
        case protocols::JobKind::cycling_dmta:
            return cycling + ", then DMTA scan";
    }
    return cycling;
}

// The TA header lines (UTF-8, without line ends) of a run; docs/exports.md says which and why.
std::vector<std::string> ta_header(const store::ArchivedRun& run) {
    const auto file = protocols::parse_job(run.job_text, std::numeric_limits<double>::infinity());
    const protocols::Job* job = protocols::run_of_sample(file, run.sample_id);
    std::vector<std::string> lines;
    const auto line = [&](std::string_view key, const std::string& value) {
        lines.push_back(std::string(key) + (value.empty() ? "" : "\t" + value));
    };
    line("Instrument", run.instrument_identity);
    line("Run", std::to_string(run.id));
    line("ProcName", job == nullptr ? "" : procedure(*job));
    line("Sample", run.sample_id);
    if (job != nullptr) {
        const auto& sample = job->sample;
        line("Size", io::format("%.4f x %.4f x %.4f\tmm", sample.gauge_length_m * 1e3,
                                sample.width_m * 1e3, sample.thickness_m * 1e3));
    }
    line("Method", job == nullptr ? "" : job->name);
    line("Comment", job == nullptr ? "" : job->sweep_point);
    if (job != nullptr) {
        line("Composition", job->sample.composition);
        line("Density", io::format("%.4f\tg/cm³", job->sample.density_kg_m3 / 1e3));
    }
    line("Profile", run.profile);
    line("Software", "dmacycle " + run.software_version);
    line("Status", run.status);
    line("Started", run.started_utc);
    line("Ended", run.ended_utc);
    line("Nsig", std::to_string(std::size(ta_columns)));
    for (std::size_t k = 0; k < std::size(ta_columns); ++k) {
        line("Sig" + std::to_string(k + 1),
             std::string(ta_columns[k].name) + " (" + ta_columns[k].unit + ")");
    }
    // "2026-11-29T04:22:08.236Z": UA's Date and Time of the run's start, here in UTC.
    const std::string& start = run.started_utc.empty() ? run.created_utc : run.started_utc;
    line("Date", start.substr(0, 10));
    line("Time", start.size() >= 19 ? start.substr(11, 8) : "");
    if (job != nullptr) {
        for (const auto& step : method_steps(*job)) {
            line("OrgMethod", step);
        }
    }
    lines.emplace_back("StartOfData");
    return lines;
}

class TaSampleWriter final : public SampleWriter {
  public:
    TaSampleWriter(std::ostream& out, const store::ArchivedRun& run) : out_(out) {
        std::string bytes = "\xFF\xFE";  // the UTF-16LE byte-order mark
        for (const auto& line : ta_header(run)) {
            io::append_utf16le(bytes, line + "\r\n");
        }
        out_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }

    void write(const store::ArchivedSample& sample) override {
        line_.clear();
        for (const auto& column : ta_columns) {
            char buffer[32];
            const auto end = std::to_chars(buffer, buffer + sizeof buffer, column.value(sample),
                                           std::chars_format::general, 8)
                                 .ptr;
            for (const char* c = buffer; c != end; ++c) {
                // ASCII: each character is one UTF-16LE unit; TA writes the exponent as E.
                line_ += *c == 'e' ? 'E' : *c;
                line_ += '\0';
            }
            line_ += '\t';
            line_ += '\0';
        }
        line_.resize(line_.size() - 2);  // the last tab
        line_.append("\r\0\n\0", 4);
        out_.write(line_.data(), static_cast<std::streamsize>(line_.size()));
    }

  private:
    std::ostream& out_;
    std::string line_;
};

// ---- results ----

void append_json_value(std::string& out, const Json& value) {
    if (value.is_number_float()) {
        append_number(out, value.get<double>());
    } else if (value.is_number() || value.is_boolean()) {
        out += value.dump();
    } else if (value.is_string()) {
        append_cell(out, value.get_ref<const std::string&>());
    } else if (!value.is_null()) {
        append_cell(out, value.dump());
    }
}

// The key holding the standard error of `name` in the same object: NAME_stderr, or with the
// unit kept last (temperature_k -> temperature_stderr_k).
const Json* stderr_of(const Json& object, const std::string& name) {
    if (const auto found = object.find(name + "_stderr"); found != object.end()) {
        return &*found;
    }
    const auto last = name.rfind('_');
    if (last != std::string::npos) {
        const auto found = object.find(name.substr(0, last) + "_stderr" + name.substr(last));
        if (found != object.end()) {
            return &*found;
        }
    }
    return nullptr;
}

// Columns people read along first: the index, then the abscissae; the rest alphabetically.
void order_columns(std::vector<std::string>& names) {
    static const std::vector<std::string> first = {"time_s", "t_s", "t_start_s", "t_end_s",
                                                   "tau_s"};
    std::stable_sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
        const auto rank = [](const std::string& name) {
            return std::find(first.begin(), first.end(), name) - first.begin();
        };
        return rank(a) < rank(b);
    });
}

std::string table_name(const std::vector<std::string>& parts) {
    std::string name;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i == 0 || parts[i] != parts[i - 1]) {
            name += (name.empty() ? "" : "-") + parts[i];
        }
    }
    return name;
}

class ResultsFlattener {
  public:
    explicit ResultsFlattener(ResultsCsv& out) : out_(out) {
        out_.scalars = "kind,quantity,value,stderr,unit\n";
    }

    // Every scalar of `object` a row, each array (group) a table; nested objects recursively.
    void object(const std::string& kind, const std::vector<std::string>& path, const Json& object) {
        std::set<const Json*> errors;  // stderr values shown beside their quantity
        for (const auto& [key, value] : object.items()) {
            if (value.is_number() && key.find("_stderr") == std::string::npos) {
                if (const Json* error = stderr_of(object, key); error && error->is_number()) {
                    errors.insert(error);
                }
            }
        }
        std::vector<std::string> parallel;  // arrays of scalars, tabled together if equally long
        for (const auto& [key, value] : object.items()) {
            auto here = path;
            here.push_back(key);
            if (value.is_object()) {
                this->object(kind, here, value);
            } else if (value.is_array()) {
                if (!value.empty() && value.front().is_object()) {
                    objects_table(kind, here, value);
                } else if (!value.empty()) {
                    parallel.push_back(key);
                }
            } else if (errors.count(&value) == 0) {
                std::string quantity;
                for (const auto& part : here) {
                    quantity += (quantity.empty() ? "" : ".") + part;
                }
                scalar(kind, quantity, value, stderr_of(object, key), key);
            }
        }
        const bool same_length =
            std::all_of(parallel.begin(), parallel.end(), [&](const std::string& key) {
                return object[key].size() == object[parallel.front()].size();
            });
        if (same_length && !parallel.empty()) {
            arrays_table(kind, path, object, parallel);
        } else {
            for (const auto& key : parallel) {
                auto here = path;
                here.push_back(key);
                arrays_table(kind, here, object, {key});
            }
        }
    }

  private:
    void scalar(const std::string& kind, const std::string& quantity, const Json& value,
                const Json* error, const std::string& key) {
        std::string& out = out_.scalars;
        append_cell(out, kind);
        out += ',';
        append_cell(out, quantity);
        out += ',';
        append_json_value(out, value);
        out += ',';
        if (error != nullptr) {
            append_json_value(out, *error);
        }
        out += ',';
        if (value.is_number()) {
            out += store::names::unit_of(key);
        }
        out += '\n';
    }

    void arrays_table(const std::string& kind, const std::vector<std::string>& path,
                      const Json& object, std::vector<std::string> keys) {
        order_columns(keys);
        std::vector<std::string> parts{kind};
        parts.insert(parts.end(), path.begin(), path.end());
        std::string text;
        for (std::size_t k = 0; k < keys.size(); ++k) {
            text += (k ? "," : "") + keys[k];
        }
        text += '\n';
        std::size_t rows = 0;
        for (const auto& key : keys) {
            rows = std::max(rows, object[key].size());
        }
        for (std::size_t row = 0; row < rows; ++row) {
            for (std::size_t k = 0; k < keys.size(); ++k) {
                if (k) {
                    text += ',';
                }
                if (const auto& array = object[keys[k]]; row < array.size()) {
                    append_json_value(text, array[row]);
                }
            }
            text += '\n';
        }
        out_.tables.push_back({table_name(parts), std::move(text)});
    }

    // An array of objects ("peaks", "per_cycle"): one row per element, one column per key;
    // `per_X` gets a first column X numbering the elements from 1.
    void objects_table(const std::string& kind, const std::vector<std::string>& path,
                       const Json& array) {
        std::vector<std::string> keys;
        for (const auto& element : array) {
            for (const auto& [key, value] : element.items()) {
                if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
                    keys.push_back(key);
                }
            }
        }
        order_columns(keys);
        const std::string& last = path.back();
        const std::string index = last.rfind("per_", 0) == 0 ? last.substr(4) : "";
        std::string text = index.empty() ? "" : index + ",";
        for (std::size_t k = 0; k < keys.size(); ++k) {
            text += (k ? "," : "") + keys[k];
        }
        text += '\n';
        std::size_t number = 0;
        for (const auto& element : array) {
            if (!index.empty()) {
                text += std::to_string(++number) + ",";
            }
            for (std::size_t k = 0; k < keys.size(); ++k) {
                if (k) {
                    text += ',';
                }
                if (const auto found = element.find(keys[k]); found != element.end()) {
                    append_json_value(text, *found);
                }
            }
            text += '\n';
        }
        std::vector<std::string> parts{kind};
        parts.insert(parts.end(), path.begin(), path.end());
        out_.tables.push_back({table_name(parts), std::move(text)});
    }

    ResultsCsv& out_;
};

}  // namespace

std::unique_ptr<SampleWriter> csv_sample_writer(std::ostream& out) {
    return std::make_unique<CsvSampleWriter>(out);
}

void write_dmta_csv_header(std::ostream& out) {
    write_csv_header(out, store::names::dmta);
}

void write_dmta_csv_row(std::ostream& out, const store::ArchivedDmta& row) {
    std::string line;
    write_csv_row(out, line, cells_of(row));
}

std::unique_ptr<SampleWriter> ta_sample_writer(std::ostream& out, const store::ArchivedRun& run) {
    return std::make_unique<TaSampleWriter>(out, run);
}

ResultsCsv results_csv(const Json& results) {
    ResultsCsv csv;
    ResultsFlattener flattener(csv);
    for (const auto& [kind, doc] : results.items()) {
        if (doc.is_object()) {
            flattener.object(kind, {}, doc);
        }
    }
    return csv;
}

}  // namespace dmacycle::exports

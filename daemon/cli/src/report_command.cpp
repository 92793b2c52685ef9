// `dmacycle report RUN [RUN ...] [--db FILE] --out DIR` and `dmacycle report --job JOB [--db FILE]
// --out DIR`: the report of a stored run, or the campaign report of several; docs/report.md.
#include <charconv>

#include "dmacycle/cli/commands.hpp"
#include "dmacycle/cli/help.hpp"
#include "dmacycle/io/arguments.hpp"
#include "dmacycle/io/csv_table.hpp"
#include "dmacycle/report/report.hpp"
#include "dmacycle/store/run_archive.hpp"

namespace dmacycle::cli {
namespace {

// The service's store (config/dmacycled.yaml): reports are usually of the service's runs.
const char* const default_store = "/var/lib/dmacycled/dmacycle.db";

std::int64_t positive_id(const std::string& text, const char* what) {
    std::int64_t id = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (error != std::errc() || end != text.data() + text.size() || id < 1) {
        throw io::UsageError(std::string(what) + " must be a positive integer, not '" + text + "'");
    }
    return id;
}

}  // namespace

int run_report(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    try {
        const io::Arguments arguments(args, {"db", "out", "job"}, {});
        const auto out_dir = arguments.text("out");
        if (!out_dir || out_dir->empty()) {
            throw io::UsageError("missing --out DIR");
        }
        const auto job = arguments.text("job");
        if (job && !arguments.positionals().empty()) {
            throw io::UsageError("give runs or --job JOB, not both");
        }
        if (!job && arguments.positionals().empty()) {
            throw io::UsageError("missing RUN");
        }
        std::vector<std::int64_t> runs;
        for (const auto& text : arguments.positionals()) {
            runs.push_back(positive_id(text, "RUN"));
        }
        const std::int64_t job_id = job ? positive_id(*job, "--job") : 0;
        report::check_report_dir(*out_dir);
        const store::RunArchive archive(arguments.text("db").value_or(default_store));
        if (job) {
            runs = archive.runs_of_job(job_id);
        }
        for (auto id : runs) {
            archive.run(id);  // every run known before anything is written
        }
        const auto index = job || runs.size() > 1
                               ? report::write_campaign_report(
                                     archive, runs,
                                     job ? "Campaign: job " + std::to_string(job_id)
                                         : "Campaign: " + std::to_string(runs.size()) + " runs",
                                     *out_dir)
                               : report::write_run_report(archive, runs.front(), *out_dir);
        out << index.string() << "\n";
        return exit_ok;
    } catch (const io::UsageError& error) {
        err << "dmacycle report: " << error.what() << " (" << usage_of("report") << ")\n";
    } catch (const io::InputError& error) {
        err << "dmacycle report: " << error.what() << "\n";
    } catch (const std::exception& error) {
        err << "dmacycle report: " << error.what() << "\n";
    }
    return exit_bad_input;
}

}  // namespace dmacycle::cli

#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

// Reports of stored runs (docs/report.md): OUT/index.html, one self-contained page, and each
// figure as OUT/figures/NAME.svg, read through RunArchive only.
namespace dmacycle::store {
class RunArchive;
}

namespace dmacycle::report {

// Throws InputError unless OUT can take a report: missing, an empty directory, or a directory
// holding a previous report only (index.html, figures/), which is then replaced.
void check_report_dir(const std::filesystem::path& out_dir);

// The report of one run, written into a directory beside OUT and renamed into place, so a
// failure leaves no half page. Returns the path of index.html.
std::filesystem::path write_run_report(const store::RunArchive& archive, std::int64_t run_id,
                                       const std::filesystem::path& out_dir);

// The campaign report of several runs (the points of a sweep): conditions side by side.
std::filesystem::path write_campaign_report(const store::RunArchive& archive,
                                            const std::vector<std::int64_t>& run_ids,
                                            const std::string& title,
                                            const std::filesystem::path& out_dir);

}  // namespace dmacycle::report

#pragma once
#include <cstddef>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dmacycle/analysis/fit_summary.hpp"
#include "dmacycle/analysis/spectrum.hpp"
#include "dmacycle/io/arguments.hpp"
#include "dmacycle/io/csv_table.hpp"
#include "dmacycle/store/analysis_json.hpp"

// Private: what the `analyze` subcommands share.
namespace dmacycle::cli::detail {

// Fewer rows than this cannot support even the single-τ fit with its standard errors.
inline constexpr std::size_t min_rows = 10;

// File names need not be UTF-8; JSON must be, so invalid bytes become U+FFFD.
void print_json(std::ostream& out, const store::Json& doc);
std::string single_file(const io::Arguments& arguments);
void require_rows(const io::CsvTable& table, std::size_t needed, const std::string& what);
analysis::SpectrumOptions spectrum_options(const io::Arguments& arguments);
// Names every fit that is not usable on stderr; a partial result is never silent.
int report_fits(std::ostream& err,
                const std::vector<std::pair<std::string, analysis::FitSummary>>& fits);

int analyze_recovery(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
int analyze_creep(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

}  // namespace dmacycle::cli::detail

#pragma once
#include <string>

#include "report_data.hpp"

// The summary tables of a run (docs/report.md "The summary tables") and the cells they are made
// of. Every number carries its exact stored value in data-value.
namespace dmacycle::report {

// A number shown with its exact value (%.17g: reads back to the same double) in data-value:
// the contract a test checks against the store.
std::string number(const RunData& data, const std::string& key, double value,
                   const std::string& shown);
// 4 significant digits.
std::string shown(double value);
// A stored result's number, with its standard error when `stderr_key` is given; "–" when the
// result does not have it.
std::string result_cell(const RunData& data, const std::string& key,
                        const std::string& stderr_key = "");
// A stored stress result (Pa) shown in MPa, "–" when missing.
std::string mpa_cell(const RunData& data, const std::string& key);
// A stored result as text (escaped), "–" when missing.
std::string text_of(const RunData& data, const std::string& key);

// All tables of one run: run, segments, cycles and recovery, then each stored result, events.
std::string run_tables(const RunData& data);

// Why a run has no results, in a sentence for the top of its report ("" when it has some).
std::string results_note(const RunData& data);

}  // namespace dmacycle::report

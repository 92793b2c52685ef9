#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dmacycle/io/csv_table.hpp"

// RepTate's text-column data files, as its TXTColumnFile reads them (jorge-ramirez-upm/RepTate,
// RepTate/core/FileType.py; e.g. its data/Creep/*.creep): a first line of `name=value;`
// parameters, then optional header lines (a units line among them), an optional line naming the
// columns, and rows of numbers separated by blanks or tabs. A row may leave out trailing columns.
namespace dmacycle::io {

struct RepTateFile {
    std::map<std::string, std::string> parameters;  // as written, e.g. "stress" -> "10"
    CsvTable table;                                 // the columns asked for, by name
    // A parameter's finite number; nullopt when absent, InputError when not a number.
    std::optional<double> number(const std::string& name) const;
};

// Whether FILE's first line is a line of RepTate parameters (`name=value;` …).
bool is_reptate_file(const std::string& path);

// The named columns of a RepTate file; the names line must name each. Rows as read_csv's:
// finite numbers, '#' lines skipped; InputError naming the file, the line and the problem.
RepTateFile read_reptate(const std::string& path, const std::vector<std::string>& columns);

}  // namespace dmacycle::io

#include "dmacycle/io/csv_table.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace dmacycle::io {
namespace {

std::string where(const std::string& path, std::size_t line) {
    return path + ":" + std::to_string(line) + ": ";
}

// The line's comma-separated cells, trimmed, into `cells` (reused: no allocation per row).
void split_cells(std::string_view line, std::vector<std::string_view>& cells) {
    cells.clear();
    std::size_t start = 0;
    while (true) {
        const auto comma = line.find(',', start);
        cells.push_back(trim_blanks(line.substr(start, comma - start)));
        if (comma == std::string_view::npos) {
            return;
        }
        start = comma + 1;
    }
}

std::vector<std::string_view> split_cells(std::string_view line) {
    std::vector<std::string_view> cells;
    split_cells(line, cells);
    return cells;
}

// Refuses binary data: a NUL byte on the line.
void require_no_nul(const std::string& path, std::size_t line_number, std::string_view line) {
    if (line.find('\0') != std::string_view::npos) {
        throw InputError(where(path, line_number) +
                         "binary data (NUL bytes); expected a UTF-8 or ASCII CSV file");
    }
}

// The cell index of each required column in the header line, each of which it names once.
std::vector<std::size_t> header_index(const std::string& path, std::size_t line_number,
                                      std::string_view line,
                                      const std::vector<std::string_view>& cells,
                                      const std::vector<std::string>& required_columns) {
    std::vector<std::size_t> index;
    for (const auto& name : required_columns) {
        const auto found = std::find(cells.begin(), cells.end(), name);
        if (found == cells.end()) {
            std::string expected;
            for (const auto& n : required_columns) {
                expected += (expected.empty() ? "" : ",") + n;
            }
            throw InputError(where(path, line_number) + "wrong header " + quote_for_message(line) +
                             ": expected columns " + expected);
        }
        if (std::count(cells.begin(), cells.end(), name) > 1) {
            throw InputError(where(path, line_number) + "column '" + name +
                             "' appears twice in the header");
        }
        index.push_back(static_cast<std::size_t>(found - cells.begin()));
    }
    return index;
}

// The required cells of a data row, each a finite number, appended to the table's columns.
void read_row(const std::string& path, std::size_t line_number,
              const std::vector<std::string_view>& cells,
              const std::vector<std::size_t>& source_index, CsvTable& table) {
    for (std::size_t k = 0; k < source_index.size(); ++k) {
        const std::string_view cell = cells[source_index[k]];
        double value = 0;
        const char* const end = cell.data() + cell.size();
        const auto [ptr, ec] = std::from_chars(cell.data(), end, value);
        if (cell.empty() || ec != std::errc() || ptr != end) {
            throw InputError(
                where(path, line_number) + "column '" + table.names[k] +
                "': " + (cell.empty() ? "empty cell" : "not a number " + quote_for_message(cell)));
        }
        if (!std::isfinite(value)) {
            throw InputError(where(path, line_number) + "column '" + table.names[k] +
                             "': " + quote_for_message(cell) + " is not a finite number");
        }
        table.columns[k].push_back(value);
    }
    table.line_of_row.push_back(line_number);
}

}  // namespace

std::string_view trim_blanks(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(" \t\r");
    return text.substr(first, last - first + 1);
}

std::optional<double> parse_finite(std::string_view text) {
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
        !std::isfinite(value)) {
        return std::nullopt;
    }
    return value;
}

void require_text_line(const std::string& path, std::size_t line_number, std::string_view line) {
    const auto control = std::find_if(line.begin(), line.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\r';
    });
    if (control != line.end()) {
        throw InputError(where(path, line_number) + "binary data (control byte " +
                         std::to_string(static_cast<unsigned char>(*control)) +
                         "); expected a text export");
    }
}

std::string quote_for_message(std::string_view text) {
    constexpr std::size_t max_shown = 40;
    std::string shown(text.substr(0, max_shown));
    if (text.size() > max_shown) {
        shown += "...";
    }
    return "'" + shown + "'";
}

const std::vector<double>& CsvTable::column(std::string_view name) const {
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) {
        throw std::logic_error("no column " + std::string(name));
    }
    return columns[static_cast<std::size_t>(it - names.begin())];
}

CsvTable read_csv(const std::string& path, const std::vector<std::string>& required_columns,
                  const std::vector<std::string>& text_columns) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw InputError(path + ": cannot open file");
    }
    CsvTable table;
    table.path = path;
    table.names = required_columns;
    table.columns.resize(required_columns.size());
    table.text_names = text_columns;
    table.text.resize(text_columns.size());

    // Line by line into buffers kept across rows: memory is the table's columns, not the file.
    std::vector<std::size_t> source_index;  // cell index of each required column
    std::vector<std::size_t> text_index;    // cell index of each text column
    std::vector<std::string_view> cells;
    std::size_t header_cells = 0;
    bool have_header = false;
    std::string raw;
    for (std::size_t line_number = 1; std::getline(file, raw); ++line_number) {
        require_no_nul(path, line_number, raw);
        std::string_view line = raw;
        if (line_number == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") {
            line.remove_prefix(3);  // a UTF-8 byte-order mark
        }
        line = trim_blanks(line);
        if (line.empty() || line.front() == '#') {
            continue;
        }
        split_cells(line, cells);
        if (!have_header) {
            source_index = header_index(path, line_number, line, cells, required_columns);
            text_index = header_index(path, line_number, line, cells, text_columns);
            header_cells = cells.size();
            have_header = true;
            continue;
        }
        if (cells.size() != header_cells) {
            throw InputError(where(path, line_number) + std::to_string(cells.size()) +
                             " cells, but the header has " + std::to_string(header_cells));
        }
        read_row(path, line_number, cells, source_index, table);
        for (std::size_t k = 0; k < text_index.size(); ++k) {
            const std::string_view cell = cells[text_index[k]];
            if (cell.find('"') != std::string_view::npos) {
                throw InputError(where(path, line_number) + "column '" + text_columns[k] +
                                 "': a quoted cell " + quote_for_message(cell));
            }
            table.text[k].emplace_back(cell);
        }
    }
    if (!have_header) {
        throw InputError(path + ": empty file (no header line)");
    }
    return table;
}

std::vector<std::string> read_csv_header(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw InputError(path + ": cannot open file");
    }
    for (std::string raw; std::getline(file, raw);) {
        std::string_view line = trim_blanks(raw);
        if (line.substr(0, 3) == "\xEF\xBB\xBF") {
            line = trim_blanks(line.substr(3));
        }
        if (!line.empty() && line.front() != '#') {
            const auto cells = split_cells(line);
            return {cells.begin(), cells.end()};
        }
    }
    return {};
}

namespace {

// Throws for the first row below (or, without ties, not above) the one before; returns the ties.
std::size_t check_order(const CsvTable& table, std::string_view column, bool allow_ties) {
    const auto& values = table.column(column);
    std::size_t ties = 0;
    for (std::size_t row = 1; row < values.size(); ++row) {
        if (allow_ties && values[row] == values[row - 1]) {
            ++ties;
            continue;
        }
        if (!(values[row] > values[row - 1])) {
            std::ostringstream message;
            message.precision(10);
            message << where(table.path, table.line_of_row[row]) << column << " " << values[row]
                    << (allow_ties ? " goes back" : " does not increase")
                    << " (previous row: " << values[row - 1] << ")";
            throw InputError(message.str());
        }
    }
    return ties;
}

}  // namespace

void require_increasing(const CsvTable& table, std::string_view column) {
    check_order(table, column, false);
}

std::size_t require_not_decreasing(const CsvTable& table, std::string_view column) {
    return check_order(table, column, true);
}

}  // namespace dmacycle::io

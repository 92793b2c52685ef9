#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dmacycle/io/input_error.hpp"

// Numeric CSV tables as exported by instruments and by `dmacycle export`: one header line of
// column names, then rows of finite numbers.
namespace dmacycle::io {

struct CsvTable {
    std::string path;
    std::vector<std::string> names;              // the requested columns, in the requested order
    std::vector<std::vector<double>> columns;    // columns[k][row]
    std::vector<std::size_t> line_of_row;        // 1-based file line of each row, for messages
    std::vector<std::string> text_names;         // the requested text columns
    std::vector<std::vector<std::string>> text;  // text[k][row], as written (unquoted)

    std::size_t rows() const { return line_of_row.size(); }
    const std::vector<double>& column(std::string_view name) const;
};

// Reads FILE and returns the required columns (the header must name each of them once; other
// columns are ignored). Every cell of every row must be a finite number. Lines starting with '#'
// and blank lines are skipped; CRLF and a UTF-8 byte-order mark are accepted.
// Throws InputError naming the file, the line and the problem.
// Text columns (`text_columns`, e.g. an export's `segment`) are kept as they are; a quoted cell
// is refused (none of ours needs quoting).
CsvTable read_csv(const std::string& path, const std::vector<std::string>& required_columns,
                  const std::vector<std::string>& text_columns = {});

// The column names of FILE's header line (its first line that is neither blank nor a '#'
// comment), so a caller can choose among names a file may use; empty for a file without one.
// Throws InputError when FILE cannot be opened.
std::vector<std::string> read_csv_header(const std::string& path);

// `text` without leading and trailing spaces, tabs and carriage returns.
std::string_view trim_blanks(std::string_view text);

// The finite number `text` spells exactly (std::from_chars: no blanks, no leading '+');
// nullopt for anything else.
std::optional<double> parse_finite(std::string_view text);

// Throws InputError "FILE:LINE: binary data (control byte N); expected a text export" when
// `line` holds a control character other than tab and carriage return.
void require_text_line(const std::string& path, std::size_t line_number, std::string_view line);

// 'TEXT' for a message, cut to 40 characters ("...'" when cut).
std::string quote_for_message(std::string_view text);

// Throws InputError unless `column` strictly increases down the table.
void require_increasing(const CsvTable& table, std::string_view column);
// The same, letting a row repeat the previous value (real files repeat time stamps); returns
// how many rows do.
std::size_t require_not_decreasing(const CsvTable& table, std::string_view column);

}  // namespace dmacycle::io

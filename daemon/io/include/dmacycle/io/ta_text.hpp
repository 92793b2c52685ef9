#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Text exports in the layout of TA Instruments Universal Analysis ("Export Data File"):
// tab-separated `Key<TAB>value` header lines, one `SigN<TAB>Name (unit)` line per column,
// a `StartOfData` line, then one tab-separated row of numbers per line (docs/exports.md).
// `dmacycle export --format ta` writes them; the reader serves re-import and, later, DSC data.
namespace dmacycle::io {

struct TaSignal {
    std::string name;  // "Temperature"
    std::string unit;  // "°C"; "" when the line has no "(unit)"
};

struct TaText {
    std::string path;
    // Every header line but the SigN lines, in file order: key, value (the rest of the line
    // after the first tab, inner tabs kept: "Size" -> "28.0000\tmg"). Keys repeat (OrgMethod).
    std::vector<std::pair<std::string, std::string>> header;
    std::vector<TaSignal> signals;
    std::vector<std::vector<double>> columns;  // columns[k][row], k as in signals
    std::vector<std::size_t> line_of_row;      // 1-based file line of each row, for messages

    std::size_t rows() const { return line_of_row.size(); }
    // The first header value of `key`; nullptr when there is none.
    const std::string* value(std::string_view key) const;
    // The column of the signal named `name` (without its unit); std::out_of_range if none.
    const std::vector<double>& column(std::string_view name) const;
};

// Reads FILE: UTF-16 (LE or BE, with a byte-order mark, as Universal Analysis writes it),
// UTF-8 (with or without a byte-order mark) or, failing UTF-8, Windows-1252 text; LF or CRLF.
// Every data row must have one finite number per signal. Throws InputError
// ("FILE:LINE: problem", LINE omitted when it does not apply) for a malformed file.
TaText read_ta_text(const std::string& path);

// UTF-8 text as UTF-16LE bytes (the encoding the TA export is written in).
void append_utf16le(std::string& out, std::string_view utf8);

}  // namespace dmacycle::io

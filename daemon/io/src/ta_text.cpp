#include "dmacycle/io/ta_text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "dmacycle/io/csv_table.hpp"

namespace dmacycle::io {
namespace {

constexpr std::string_view start_of_data = "StartOfData";

[[noreturn]] void refuse(const std::string& path, std::size_t line, const std::string& problem) {
    throw InputError(path + ":" + (line ? std::to_string(line) + ": " : " ") + problem);
}

void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

// The code point at `at` (then advanced past it); -1 when the bytes there are not UTF-8.
long next_utf8(std::string_view text, std::size_t& at) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(at);
    if (lead < 0x80) {
        ++at;
        return lead;
    }
    const int extra = lead >= 0xF0 && lead < 0xF5 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC2 ? 1 : -1;
    if (extra < 0 || at + static_cast<std::size_t>(extra) >= text.size()) {
        return -1;
    }
    long code = lead & (0x3F >> extra);
    for (int k = 1; k <= extra; ++k) {
        const unsigned char next = byte(at + static_cast<std::size_t>(k));
        if ((next & 0xC0) != 0x80) {
            return -1;
        }
        code = (code << 6) | (next & 0x3F);
    }
    static constexpr long smallest[] = {0, 0x80, 0x800, 0x10000};
    if (code < smallest[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
        return -1;
    }
    at += static_cast<std::size_t>(extra) + 1;
    return code;
}

bool is_utf8(std::string_view text) {
    for (std::size_t at = 0; at < text.size();) {
        if (next_utf8(text, at) < 0) {
            return false;
        }
    }
    return true;
}

std::string from_utf16(const std::string& path, std::string_view bytes, bool little_endian) {
    if (bytes.size() % 2 != 0) {
        refuse(path, 0, "truncated UTF-16 text (an odd number of bytes)");
    }
    const auto unit = [&](std::size_t i) {
        const auto a = static_cast<unsigned char>(bytes[i]);
        const auto b = static_cast<unsigned char>(bytes[i + 1]);
        return static_cast<char32_t>(little_endian ? a | (b << 8) : (a << 8) | b);
    };
    std::string text;
    text.reserve(bytes.size() / 2);
    for (std::size_t i = 0; i < bytes.size(); i += 2) {
        char32_t c = unit(i);
        if (c >= 0xD800 && c <= 0xDBFF && i + 3 < bytes.size()) {
            const char32_t low = unit(i + 2);
            if (low >= 0xDC00 && low <= 0xDFFF) {
                c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
                i += 2;
            }
        }
        if (c >= 0xD800 && c <= 0xDFFF) {
            refuse(path, 0, "invalid UTF-16 text (an unpaired surrogate)");
        }
        append_utf8(text, c);
    }
    return text;
}

// The file's text as UTF-8, whatever of the accepted encodings it came in.
std::string decoded_text(const std::string& path, const std::string& bytes) {
    const std::string_view view(bytes);
    if (view.substr(0, 2) == "\xFF\xFE") {
        return from_utf16(path, view.substr(2), true);
    }
    if (view.substr(0, 2) == "\xFE\xFF") {
        return from_utf16(path, view.substr(2), false);
    }
    const std::string_view body = view.substr(0, 3) == "\xEF\xBB\xBF" ? view.substr(3) : view;
    if (body.find('\0') != std::string_view::npos) {
        refuse(path, 0,
               "binary data (NUL bytes without a UTF-16 byte-order mark); expected a text export");
    }
    if (is_utf8(body)) {
        return std::string(body);
    }
    std::string text;  // Latin-1, as older exports were written: each byte is its code point
    text.reserve(body.size() + body.size() / 8);
    for (const char c : body) {
        append_utf8(text, static_cast<unsigned char>(c));
    }
    return text;
}

// "Sig12" -> 12; 0 for any other key.
std::size_t signal_number(std::string_view key) {
    if (key.size() < 4 || key.substr(0, 3) != "Sig") {
        return 0;
    }
    std::size_t number = 0;
    const auto [end, error] = std::from_chars(key.data() + 3, key.data() + key.size(), number);
    return error == std::errc() && end == key.data() + key.size() ? number : 0;
}

// "Temperature (°C)" -> {"Temperature", "°C"}: the unit is the last parenthesised group when it
// ends the text.
TaSignal parse_signal(std::string_view text) {
    if (!text.empty() && text.back() == ')') {
        const auto open = text.rfind('(');
        if (open != std::string_view::npos && open > 0) {
            return {std::string(trim_blanks(text.substr(0, open))),
                    std::string(trim_blanks(text.substr(open + 1, text.size() - open - 2)))};
        }
    }
    return {std::string(text), ""};
}

// The file's text as UTF-8; refuses a file that cannot be opened or is empty.
std::string read_text(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        refuse(path, 0, "cannot open file");
    }
    const std::string bytes{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
    if (bytes.empty()) {
        refuse(path, 0, "empty file");
    }
    return decoded_text(path, bytes);
}

// Nsig, as the header declared it.
struct DeclaredSignals {
    std::size_t count = 0;
    std::size_t line = 0;  // 0 when there is no Nsig line
};

// A header line before StartOfData: `SigN<tab>name (unit)`, or another `key<tab>value` (Nsig
// among them), kept in order.
void read_header_line(const std::string& path, std::size_t line_number, std::string_view line,
                      TaText& table, DeclaredSignals& declared) {
    const auto tab = line.find('\t');
    const std::string_view key = trim_blanks(line.substr(0, tab));
    const std::string_view value =
        tab == std::string_view::npos ? std::string_view() : trim_blanks(line.substr(tab + 1));
    if (const auto number = signal_number(key)) {
        if (number != table.signals.size() + 1) {
            refuse(path, line_number,
                   std::string(key) + " where Sig" + std::to_string(table.signals.size() + 1) +
                       " was expected");
        }
        auto signal = parse_signal(value);
        if (signal.name.empty()) {
            refuse(path, line_number, std::string(key) + " names no signal");
        }
        table.signals.push_back(std::move(signal));
        return;
    }
    if (key == "Nsig") {
        const auto [end, error] =
            std::from_chars(value.data(), value.data() + value.size(), declared.count);
        if (value.empty() || error != std::errc() || end != value.data() + value.size()) {
            refuse(path, line_number, "Nsig " + quote_for_message(value) + " is not a count");
        }
        declared.line = line_number;
    }
    table.header.emplace_back(std::string(key), std::string(value));
}

// The StartOfData line: the signals are complete, and as many as Nsig said.
void start_data(const std::string& path, std::size_t line_number, TaText& table,
                const DeclaredSignals& declared) {
    if (table.signals.empty()) {
        refuse(path, line_number, "StartOfData before any SigN line");
    }
    if (declared.line && declared.count != table.signals.size()) {
        refuse(path, declared.line,
               "Nsig says " + std::to_string(declared.count) + " signals, but " +
                   std::to_string(table.signals.size()) + " SigN lines follow");
    }
    table.columns.resize(table.signals.size());
}

// A data row: one finite number per signal, separated by tabs.
void read_data_row(const std::string& path, std::size_t line_number, std::string_view raw,
                   TaText& table) {
    // Tabs separate cells, so only spaces are trimmed: a leading tab is an empty cell.
    const std::string_view row = raw.substr(raw.find_first_not_of(' '));
    std::size_t column = 0;
    std::size_t start = 0;
    while (true) {
        const auto tab = row.find('\t', start);
        const std::string_view cell = trim_blanks(row.substr(start, tab - start));
        if (column == table.signals.size()) {
            refuse(path, line_number,
                   "more cells than the " + std::to_string(table.signals.size()) + " signals");
        }
        double number = 0;
        const auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), number);
        if (cell.empty() || error != std::errc() || end != cell.data() + cell.size() ||
            !std::isfinite(number)) {
            refuse(path, line_number,
                   "Sig" + std::to_string(column + 1) + " (" + table.signals[column].name + "): " +
                       (cell.empty() ? "empty cell"
                                     : quote_for_message(cell) + " is not a finite number"));
        }
        table.columns[column++].push_back(number);
        if (tab == std::string_view::npos) {
            break;
        }
        start = tab + 1;
    }
    if (column != table.signals.size()) {
        refuse(path, line_number,
               std::to_string(column) + " cells, but " + std::to_string(table.signals.size()) +
                   " signals");
    }
    table.line_of_row.push_back(line_number);
}

}  // namespace

const std::string* TaText::value(std::string_view key) const {
    const auto found = std::find_if(header.begin(), header.end(),
                                    [&](const auto& line) { return line.first == key; });
    return found == header.end() ? nullptr : &found->second;
}

const std::vector<double>& TaText::column(std::string_view name) const {
    const auto found = std::find_if(signals.begin(), signals.end(),
                                    [&](const TaSignal& signal) { return signal.name == name; });
    if (found == signals.end()) {
        throw std::out_of_range(path + ": no signal '" + std::string(name) + "'");
    }
    return columns[static_cast<std::size_t>(found - signals.begin())];
}

TaText read_ta_text(const std::string& path) {
    const std::string text = read_text(path);
    TaText table;
    table.path = path;
    bool in_data = false;
    DeclaredSignals declared;
    std::string_view rest(text);
    for (std::size_t line_number = 1; !rest.empty(); ++line_number) {
        const auto newline = rest.find('\n');
        std::string_view raw = rest.substr(0, newline);
        rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
        if (!raw.empty() && raw.back() == '\r') {
            raw.remove_suffix(1);
        }
        require_text_line(path, line_number, raw);
        const std::string_view line = trim_blanks(raw);
        if (line.empty()) {
            continue;
        }
        if (in_data) {
            read_data_row(path, line_number, raw, table);
        } else if (line == start_of_data) {
            start_data(path, line_number, table, declared);
            in_data = true;
        } else {
            read_header_line(path, line_number, line, table, declared);
        }
    }
    if (!in_data) {
        refuse(path, 0, "no StartOfData line: not a TA-style text export");
    }
    return table;
}

void append_utf16le(std::string& out, std::string_view utf8) {
    const auto unit = [&](char32_t c) {
        out += static_cast<char>(c & 0xFF);
        out += static_cast<char>(c >> 8);
    };
    for (std::size_t at = 0; at < utf8.size();) {
        const long code = next_utf8(utf8, at);
        if (code < 0) {
            throw std::invalid_argument("append_utf16le: the text is not UTF-8");
        }
        const auto c = static_cast<char32_t>(code);
        if (c < 0x10000) {
            unit(c);
        } else {
            unit(0xD800 + ((c - 0x10000) >> 10));
            unit(0xDC00 + ((c - 0x10000) & 0x3FF));
        }
    }
}

}  // namespace dmacycle::io

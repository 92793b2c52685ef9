#include "dmacycle/io/dsc_file.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string_view>

#include "dmacycle/io/csv_table.hpp"
#include "dmacycle/io/ta_text.hpp"

namespace dmacycle::io {
namespace {

constexpr std::size_t min_points = 10;
constexpr double celsius_to_kelvin = 273.15;

[[noreturn]] void refuse(const std::string& path, std::size_t line, const std::string& problem) {
    throw InputError(path + ":" + (line ? std::to_string(line) + ": " : " ") + problem);
}

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// What the header said about the sign of exothermic heat flow, and where.
struct ExoStatement {
    bool exo_up = true;
    std::size_t line = 0;  // 0 when the format keeps no line numbers for its header
    std::string text;      // as written, for messages
};

// The scan as read, before the common conversion: each column with its unit as written.
struct RawScan {
    std::vector<double> time, temperature, heat_flow;
    std::string time_unit, temperature_unit, heat_flow_unit;
    std::vector<std::size_t> line_of_row;
    std::optional<ExoStatement> exo;
    std::optional<double> header_mass_mg;
};

std::string read_bytes(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        refuse(path, 0, "cannot open file");
    }
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// The format, from the content: a UTF-16 byte-order mark or a StartOfData line is TA; a `##`
// column line or a first line like `#EXPORTTYPE:` is Netzsch; anything else is CSV.
std::string detect_format(std::string_view bytes) {
    if (bytes.substr(0, 2) == "\xFF\xFE" || bytes.substr(0, 2) == "\xFE\xFF") {
        return "ta";
    }
    if (bytes.substr(0, 3) == "\xEF\xBB\xBF") {
        bytes.remove_prefix(3);
    }
    bool first = true;
    for (std::string_view rest = bytes; !rest.empty();) {
        const auto newline = rest.find('\n');
        const std::string_view line = trim_blanks(rest.substr(0, newline));
        rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
        if (line.empty()) {
            continue;
        }
        if (line == "StartOfData") {
            return "ta";
        }
        if (line.substr(0, 2) == "##") {
            return "netzsch";
        }
        // Proteus' keys are capitals (#EXPORTTYPE:, #FILE:); a CSV comment rarely is.
        const auto colon = line.find(':');
        if (first && line[0] == '#' && colon != std::string_view::npos && colon > 1 &&
            std::all_of(
                line.begin() + 1, line.begin() + static_cast<std::ptrdiff_t>(colon),
                [](char c) { return std::isupper(static_cast<unsigned char>(c)) || c == ' '; })) {
            return "netzsch";
        }
        first = false;
    }
    return "csv";
}

RawScan read_csv_scan(const std::string& path) {
    const auto table = read_csv(path, {"time_s", "temperature_k", "heat_flow_w_g"});
    return {table.column("time_s"),
            table.column("temperature_k"),
            table.column("heat_flow_w_g"),
            "s",
            "K",
            "W/g",
            table.line_of_row,
            std::nullopt,
            std::nullopt};
}

// `TEXT` "Size 12.3400 mg" style header value: the mass in mg, if the unit is mg.
std::optional<double> mass_from_ta_size(const std::string& value) {
    const auto tab = value.find('\t');
    if (tab == std::string::npos || trim_blanks(std::string_view(value).substr(tab + 1)) != "mg") {
        return std::nullopt;
    }
    return parse_finite(trim_blanks(std::string_view(value).substr(0, tab)));
}

RawScan read_ta_scan(const std::string& path) {
    const auto text = read_ta_text(path);
    RawScan raw;
    const auto take = [&](std::string_view name, std::vector<double>& column, std::string& unit) {
        const auto found = std::find_if(text.signals.begin(), text.signals.end(),
                                        [&](const TaSignal& s) { return s.name == name; });
        if (found == text.signals.end()) {
            std::string names;
            for (const auto& signal : text.signals) {
                names += (names.empty() ? "" : ", ") + signal.name;
            }
            refuse(path, 0,
                   "no '" + std::string(name) + "' signal (the file has " + names +
                       "); a DSC export needs Time, Temperature and Heat Flow");
        }
        column = text.columns[static_cast<std::size_t>(found - text.signals.begin())];
        unit = found->unit;
    };
    take("Time", raw.time, raw.time_unit);
    take("Temperature", raw.temperature, raw.temperature_unit);
    take("Heat Flow", raw.heat_flow, raw.heat_flow_unit);
    raw.line_of_row = text.line_of_row;
    for (const auto& [key, value] : text.header) {
        const std::string line = lower(key + " " + value);
        const bool up = line.find("exo up") != std::string::npos;
        const bool down = line.find("exo down") != std::string::npos;
        if (up || down) {
            raw.exo = ExoStatement{up, 0, key + " " + value};
        }
        if (key == "Size") {
            raw.header_mass_mg = mass_from_ta_size(value);
        }
    }
    return raw;
}

// "DSC/(mW/mg)" -> {"DSC", "mW/mg"}; "Temp./°C" -> {"Temp.", "°C"}.
std::pair<std::string, std::string> netzsch_column(std::string_view text) {
    if (!text.empty() && text.back() == ')') {
        const auto open = text.find("/(");
        if (open != std::string_view::npos) {
            return {std::string(trim_blanks(text.substr(0, open))),
                    std::string(text.substr(open + 2, text.size() - open - 3))};
        }
    }
    const auto slash = text.rfind('/');
    if (slash == std::string_view::npos) {
        return {std::string(trim_blanks(text)), ""};
    }
    return {std::string(trim_blanks(text.substr(0, slash))),
            std::string(trim_blanks(text.substr(slash + 1)))};
}

std::vector<std::string_view> split(std::string_view line, char separator) {
    std::vector<std::string_view> cells;
    for (std::size_t start = 0;;) {
        const auto at = line.find(separator, start);
        cells.push_back(trim_blanks(line.substr(start, at - start)));
        if (at == std::string_view::npos) {
            return cells;
        }
        start = at + 1;
    }
}

// What the lines of a Netzsch export read so far say about how its rows are written.
struct NetzschLayout {
    char separator = 0;  // 0 until #SEPARATOR or the ## column line
    std::optional<bool> decimal_comma;
    std::vector<std::string> columns;  // as written on the ## line
    std::size_t columns_line = 0;      // 0 before the ## line
    int time_at = -1, temperature_at = -1, heat_flow_at = -1;
};

// The `##` line: the column names with units (`##Temp./°C;Time/min;DSC/(mW/mg)`).
void read_netzsch_columns(const std::string& path, std::size_t line_number, std::string_view line,
                          NetzschLayout& layout, RawScan& raw) {
    const std::string_view names = line.substr(2);
    if (layout.separator == 0) {
        layout.separator = names.find(';') != std::string_view::npos    ? ';'
                           : names.find('\t') != std::string_view::npos ? '\t'
                                                                        : ',';
    }
    layout.columns_line = line_number;
    layout.columns.clear();
    for (const auto cell : split(names, layout.separator)) {
        const auto [name, unit] = netzsch_column(cell);
        const int at = static_cast<int>(layout.columns.size());
        const std::string key = lower(name);
        if (key.rfind("temp", 0) == 0 && layout.temperature_at < 0) {
            layout.temperature_at = at;
            raw.temperature_unit = unit;
        } else if (key.rfind("time", 0) == 0 && layout.time_at < 0) {
            layout.time_at = at;
            raw.time_unit = unit;
        } else if (key.rfind("dsc", 0) == 0 && layout.heat_flow_at < 0) {
            layout.heat_flow_at = at;
            raw.heat_flow_unit = unit;
        }
        layout.columns.emplace_back(cell);
    }
    if (layout.time_at < 0 || layout.temperature_at < 0 || layout.heat_flow_at < 0) {
        refuse(path, line_number,
               "column line " + quote_for_message(line) + " lacks " +
                   (layout.temperature_at < 0 ? "Temp."
                    : layout.time_at < 0      ? "Time"
                                              : "DSC") +
                   "; expected columns like ##Temp./°C;Time/min;DSC/(mW/mg)");
    }
}

// A `#KEY:<separator>value` header line; the keys that say how rows are written, the sign of
// exothermic effects and the sample mass are read, others ignored.
void read_netzsch_header(const std::string& path, std::size_t line_number, std::string_view line,
                         NetzschLayout& layout, RawScan& raw) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
        return;
    }
    const std::string key(trim_blanks(line.substr(1, colon - 1)));
    std::string_view value = trim_blanks(line.substr(colon + 1));
    if (!value.empty() && (value.front() == ';' || value.front() == ',')) {
        value = trim_blanks(value.substr(1));
    }
    if (key == "SEPARATOR") {
        layout.separator = value == "SEMICOLON" ? ';'
                           : value == "COMMA"   ? ','
                           : value == "TAB"     ? '\t'
                                                : 0;
        if (layout.separator == 0) {
            refuse(path, line_number,
                   "#SEPARATOR " + quote_for_message(value) + " is not SEMICOLON, COMMA or TAB");
        }
    } else if (key == "DECIMAL") {
        if (value != "COMMA" && value != "POINT") {
            refuse(path, line_number,
                   "#DECIMAL " + quote_for_message(value) + " is not COMMA or POINT");
        }
        layout.decimal_comma = value == "COMMA";
    } else if (key == "EXO") {
        if (value != "1" && value != "+1" && value != "-1") {
            refuse(path, line_number, "#EXO " + quote_for_message(value) + " is neither +1 nor -1");
        }
        raw.exo = ExoStatement{value != "-1", line_number, "#EXO: " + std::string(value)};
    } else if (key == "SAMPLE MASS /mg") {
        std::string number(value);
        std::replace(number.begin(), number.end(), ',', '.');
        raw.header_mass_mg = parse_finite(number);
        if (!raw.header_mass_mg || *raw.header_mass_mg <= 0) {
            refuse(path, line_number,
                   "#SAMPLE MASS /mg " + quote_for_message(value) + " is not a positive number");
        }
    }
}

// A data row after the ## line: its time, temperature and heat flow cells.
void read_netzsch_row(const std::string& path, std::size_t line_number, std::string_view line,
                      const NetzschLayout& layout, RawScan& raw) {
    if (layout.columns_line == 0) {
        refuse(path, line_number,
               "data before the ## column line (expected e.g. ##Temp./°C;Time/min;"
               "DSC/(mW/mg))");
    }
    const auto cells = split(line, layout.separator);
    if (cells.size() != layout.columns.size()) {
        refuse(path, line_number,
               std::to_string(cells.size()) + " cells, but the ## column line (line " +
                   std::to_string(layout.columns_line) + ") has " +
                   std::to_string(layout.columns.size()));
    }
    // Without #DECIMAL, a comma in a cell can only be a decimal comma when it is not the
    // separator.
    const bool comma = layout.decimal_comma.value_or(layout.separator != ',');
    const auto cell_value = [&](int at) {
        std::string cell(cells[static_cast<std::size_t>(at)]);
        if (comma) {
            std::replace(cell.begin(), cell.end(), ',', '.');
        }
        const auto value = parse_finite(cell);
        if (!value) {
            refuse(path, line_number,
                   "column '" + layout.columns[static_cast<std::size_t>(at)] + "': " +
                       (cell.empty() ? "empty cell"
                                     : quote_for_message(cells[static_cast<std::size_t>(at)]) +
                                           " is not a finite number"));
        }
        return *value;
    };
    raw.temperature.push_back(cell_value(layout.temperature_at));
    raw.time.push_back(cell_value(layout.time_at));
    raw.heat_flow.push_back(cell_value(layout.heat_flow_at));
    raw.line_of_row.push_back(line_number);
}

// Netzsch Proteus "Export data" text: `#KEY:<separator>value` header lines, one `##` line of
// column names with units (`##Temp./°C;Time/min;DSC/(mW/mg)`), then rows; #SEPARATOR and
// #DECIMAL (COMMA or POINT) say how rows are written, #EXO the sign of exothermic effects.
RawScan read_netzsch_scan(const std::string& path) {
    std::string bytes = read_bytes(path);
    std::string_view rest(bytes);
    if (rest.substr(0, 3) == "\xEF\xBB\xBF") {
        rest.remove_prefix(3);
    }
    RawScan raw;
    NetzschLayout layout;
    for (std::size_t line_number = 1; !rest.empty(); ++line_number) {
        const auto newline = rest.find('\n');
        const std::string_view raw_line = rest.substr(0, newline);
        rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
        require_text_line(path, line_number, raw_line);
        const std::string_view line = trim_blanks(raw_line);
        if (line.empty()) {
            continue;
        }
        if (line.substr(0, 2) == "##") {
            read_netzsch_columns(path, line_number, line, layout, raw);
        } else if (line.front() != '#') {
            read_netzsch_row(path, line_number, line, layout, raw);
        } else if (layout.columns_line == 0) {
            read_netzsch_header(path, line_number, line, layout, raw);
        }  // a `#` line after the column line is a remark: the rows are what follows it
    }
    if (layout.columns_line == 0) {
        refuse(path, 0,
               "no ## column line (e.g. ##Temp./°C;Time/min;DSC/(mW/mg)): not a Netzsch text "
               "export");
    }
    return raw;
}

// Seconds per unit of time.
double time_factor(const std::string& path, const std::string& unit) {
    if (unit == "s" || unit == "sec") {
        return 1;
    }
    if (unit == "min") {
        return 60;
    }
    refuse(path, 0, "time in " + quote_for_message(unit) + ": expected min or s");
}

double to_kelvin(const std::string& path, const std::string& unit, double value) {
    if (unit == "K") {
        return value;
    }
    // "\xB0C": a Netzsch export in Windows-1252 (ANSI), as it writes by default.
    if (unit == "°C" ||
        unit ==
            "\xB0"
            "C" ||
        unit == "C") {
        return value + celsius_to_kelvin;
    }
    refuse(path, 0, "temperature in " + quote_for_message(unit) + ": expected °C or K");
}

}  // namespace

DscFile read_dsc_file(const std::string& path, const DscReadOptions& options) {
    const std::string format = detect_format(read_bytes(path));
    RawScan raw = format == "ta"        ? read_ta_scan(path)
                  : format == "netzsch" ? read_netzsch_scan(path)
                                        : read_csv_scan(path);
    DscFile file;
    file.path = path;
    file.format = format;
    file.line_of_row = raw.line_of_row;
    if (raw.line_of_row.size() < min_points) {
        refuse(path, 0,
               raw.line_of_row.empty() ? std::string("no data rows")
                                       : "too few rows (" + std::to_string(raw.line_of_row.size()) +
                                             "); need at least " + std::to_string(min_points));
    }

    // Heat flow per gram: mW/mg is W/g; mW or W need the sample's mass.
    double flow_factor = 1;
    const std::string& unit = raw.heat_flow_unit;
    if (unit == "mW" || unit == "W") {
        file.mass_mg = options.mass_mg ? options.mass_mg : raw.header_mass_mg;
        if (!file.mass_mg) {
            refuse(path, 0,
                   "heat flow in " + unit + " and no sample mass in the file: give --mass-mg");
        }
        flow_factor = (unit == "W" ? 1e3 : 1.0) / *file.mass_mg;
    } else if (unit != "W/g" && unit != "mW/mg") {
        refuse(path, 0,
               "heat flow in " + quote_for_message(unit) +
                   ": expected W/g, mW/mg, or mW or W with a sample mass" +
                   (lower(unit).find('v') != std::string::npos
                        ? " (a voltage is not calibrated; export the heat flow)"
                        : ""));
    }

    bool exo_up = !options.exo_down;
    if (raw.exo) {
        const std::string where =
            path + ":" + (raw.exo->line ? std::to_string(raw.exo->line) + ":" : "");
        if (options.exo_down && raw.exo->exo_up) {
            throw InputError(where + " the header says exothermic up (" + raw.exo->text +
                             "), but --exo-down was given");
        }
        exo_up = raw.exo->exo_up;
        file.exo_convention = std::string(exo_up ? "exothermic positive" : "exothermic negative") +
                              " (header: " + raw.exo->text + ")";
    } else {
        file.exo_convention =
            exo_up ? "exothermic positive (the default)" : "exothermic negative (--exo-down)";
    }

    const double seconds = time_factor(path, raw.time_unit);
    auto& scan = file.scan;
    for (std::size_t row = 0; row < raw.line_of_row.size(); ++row) {
        scan.time_s.push_back(raw.time[row] * seconds);
        scan.temperature_k.push_back(to_kelvin(path, raw.temperature_unit, raw.temperature[row]));
        scan.heat_flow_w_g.push_back((exo_up ? 1 : -1) * raw.heat_flow[row] * flow_factor);
        if (scan.temperature_k.back() <= 0) {
            refuse(path, raw.line_of_row[row], "temperature below 0 K");
        }
        if (row == 0) {
            continue;
        }
        const auto increases = [&](const std::vector<double>& column, const char* what,
                                   const char* why) {
            if (!(column[row] > column[row - 1])) {
                std::ostringstream message;
                message.precision(10);
                message << what << " " << column[row]
                        << " does not increase (previous row: " << column[row - 1] << ")" << why;
                refuse(path, raw.line_of_row[row], message.str());
            }
        };
        increases(scan.time_s, "time_s", "");
        increases(scan.temperature_k, "temperature_k", "; a heating scan is needed");
    }
    return file;
}

}  // namespace dmacycle::io

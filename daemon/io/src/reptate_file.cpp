#include "dmacycle/io/reptate_file.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace dmacycle::io {
namespace {

std::string where(const std::string& path, std::size_t line) {
    return path + ":" + std::to_string(line) + ": ";
}

std::vector<std::string> blank_separated(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string word; in >> word;) {
        words.push_back(word);
    }
    return words;
}

bool all_numbers(const std::vector<std::string>& words) {
    return !words.empty() && std::all_of(words.begin(), words.end(), [](const std::string& w) {
        return parse_finite(w).has_value();
    });
}

std::map<std::string, std::string> parameters_of(std::string_view line) {
    std::map<std::string, std::string> parameters;
    std::size_t start = 0;
    while (start < line.size()) {
        const auto end = std::min(line.find(';', start), line.size());
        const auto item = line.substr(start, end - start);
        if (const auto equals = item.find('='); equals != std::string_view::npos) {
            parameters[std::string(trim_blanks(item.substr(0, equals)))] =
                std::string(trim_blanks(item.substr(equals + 1)));
        }
        start = end + 1;
    }
    return parameters;
}

}  // namespace

std::optional<double> RepTateFile::number(const std::string& name) const {
    const auto found = parameters.find(name);
    if (found == parameters.end()) {
        return std::nullopt;
    }
    const auto value = parse_finite(found->second);
    if (!value) {
        throw InputError(table.path + ":1: parameter " + name + "=" +
                         quote_for_message(found->second) + " is not a number");
    }
    return value;
}

bool is_reptate_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string first;
    std::getline(in, first);
    const auto line = trim_blanks(first);
    return line.find('=') != std::string_view::npos && line.find(';') != std::string_view::npos &&
           line.find(',') == std::string_view::npos;
}

RepTateFile read_reptate(const std::string& path, const std::vector<std::string>& columns) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw InputError(path + ": cannot open");
    }
    RepTateFile file;
    file.table.path = path;
    file.table.names = columns;
    file.table.columns.resize(columns.size());
    std::vector<std::size_t> index;  // of each column asked for, from the names line
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
        require_text_line(path, number, line);
        if (number == 1) {
            file.parameters = parameters_of(trim_blanks(line));
            continue;
        }
        const auto words = blank_separated(line);
        if (words.empty() || words.front().starts_with('#')) {
            continue;
        }
        if (!all_numbers(words)) {
            const bool names_all = std::all_of(columns.begin(), columns.end(), [&](const auto& c) {
                return std::count(words.begin(), words.end(), c) == 1;
            });
            if (index.empty() && names_all) {
                for (const auto& column : columns) {
                    index.push_back(static_cast<std::size_t>(
                        std::find(words.begin(), words.end(), column) - words.begin()));
                }
            } else if (!index.empty() && file.table.rows() > 0) {
                throw InputError(where(path, number) +
                                 "not a row of numbers: " + quote_for_message(trim_blanks(line)));
            }
            continue;  // a header line, or the units line
        }
        if (index.empty()) {
            std::string wanted;
            for (const auto& column : columns) {
                wanted += (wanted.empty() ? "" : " ") + column;
            }
            throw InputError(where(path, number) + "data before a line naming the columns " +
                             wanted);
        }
        for (std::size_t k = 0; k < index.size(); ++k) {
            if (index[k] >= words.size()) {
                throw InputError(where(path, number) + "column '" + columns[k] + "': missing");
            }
            file.table.columns[k].push_back(*parse_finite(words[index[k]]));
        }
        file.table.line_of_row.push_back(number);
    }
    return file;
}

}  // namespace dmacycle::io

#include "job_reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <set>

namespace dmacycle::protocols::detail {

std::string number_text(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", value);
    return buffer;
}

std::string join(Keys words) {
    std::string text;
    for (const auto word : words) {
        text += (text.empty() ? "" : ", ") + std::string(word);
    }
    return text;
}

std::string kind_of(const YAML::Node& node) {
    if (node.IsMap()) {
        return "a mapping";
    }
    if (node.IsSequence()) {
        return "a list";
    }
    if (node.IsNull()) {
        return "nothing";
    }
    // Long enough to recognize, short enough to keep the message on one screen line.
    constexpr std::size_t max_shown = 40;
    const auto& text = node.Scalar();
    // Appended: g++ 12 warns falsely (-Wrestrict) on "literal" + string.
    return std::string("'")
        .append(text, 0, max_shown)
        .append(text.size() > max_shown ? "...'" : "'");
}

std::string mpa(double pa) {
    return number_text(pa / 1e6);
}

void Reader::error(const YAML::Mark& mark, std::string path, std::string message) {
    // yaml-cpp marks are 0-based; a null mark (−1) means "unknown".
    errors.push_back({mark.line >= 0 ? mark.line + 1 : 0, mark.column >= 0 ? mark.column + 1 : 0,
                      std::move(path), std::move(message)});
}

YAML::Mark Reader::mark_of(const Entry& entry) {
    const auto mark = entry.value.Mark();
    return mark.line >= 0 ? mark : entry.key.Mark();
}

std::vector<Entry> Reader::mapping(const YAML::Node& node, const YAML::Mark& where,
                                   const std::string& path, Keys allowed, std::string_view what) {
    std::vector<Entry> entries;
    if (!node.IsMap()) {
        error(node.Mark().line >= 0 ? node.Mark() : where, path,
              "expected " + std::string(what) + " (keys " + join(allowed) + "), got " +
                  kind_of(node));
        return entries;
    }
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
        // Copies: yaml-cpp's iterator yields a temporary pair, so references would dangle.
        const YAML::Node key = it->first;
        const YAML::Node value = it->second;
        if (!key.IsScalar()) {
            error(key.Mark(), path, "keys must be plain names, got " + kind_of(key));
            continue;
        }
        const std::string name = key.Scalar();
        const std::string field = path.empty() ? name : path + "." + name;
        if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
            error(key.Mark(), field.empty() ? path : field,
                  "unknown key '" + name + "' (allowed: " + join(allowed) + ")");
            continue;
        }
        if (!seen.insert(name).second) {
            error(key.Mark(), field, "duplicate key");
            continue;
        }
        entries.push_back({key, value, field, name});
    }
    return entries;
}

std::vector<Entry> Reader::mapping(const YAML::Node& node, const YAML::Mark& where,
                                   const std::string& path,
                                   std::initializer_list<std::string_view> allowed,
                                   std::string_view what) {
    return mapping(node, where, path, Keys(allowed.begin(), allowed.size()), what);
}

const Entry* Reader::find(const std::vector<Entry>& entries, std::string_view key) {
    for (const auto& entry : entries) {
        if (entry.name == key) {
            return &entry;
        }
    }
    return nullptr;
}

void Reader::missing(const YAML::Mark& where, const std::string& path, std::string_view hint) {
    error(where, path, "missing (" + std::string(hint) + ")");
}

std::optional<double> Reader::quantity(const Entry& entry, const Range& range) {
    if (!entry.value.IsScalar()) {
        const std::string expected = "a " + std::string(dimension_name(range.dimension)) +
                                     " with a unit (" + allowed_units(range.dimension) + ")";
        error(mark_of(entry), entry.path,
              entry.value.IsNull() ? "missing value: expected " + expected
                                   : "expected " + expected + ", got " + kind_of(entry.value));
        return std::nullopt;
    }
    const auto parsed = parse_quantity(entry.value.Scalar(), range.dimension);
    if (!parsed.si) {
        error(mark_of(entry), entry.path, parsed.problem);
        return std::nullopt;
    }
    if (!range.contains(*parsed.si)) {
        error(mark_of(entry), entry.path,
              entry.value.Scalar() + " is out of range (" + range.text() + ")");
        return std::nullopt;
    }
    return parsed.si;
}

double Reader::quantity_or(const std::vector<Entry>& entries, std::string_view key,
                           const Range& range, double fallback) {
    const Entry* const entry = find(entries, key);
    if (entry == nullptr) {
        return fallback;
    }
    return quantity(*entry, range).value_or(fallback);
}

std::optional<double> Reader::required(const std::vector<Entry>& entries, const YAML::Mark& where,
                                       const std::string& path, std::string_view key,
                                       const Range& range, std::string_view hint) {
    const Entry* const entry = find(entries, key);
    if (entry == nullptr) {
        missing(where, join_path(path, key), hint);
        return std::nullopt;
    }
    return quantity(*entry, range);
}

std::optional<Swept> Reader::quantities(const Entry& entry, const Range& range,
                                        std::size_t max_count, std::string_view what) {
    Swept result;
    if (!entry.value.IsSequence()) {
        const auto value = quantity(entry, range);
        if (!value) {
            return std::nullopt;
        }
        result.values_si.push_back(*value);
        result.sources.push_back({mark_of(entry), entry.path});
        return result;
    }
    if (entry.value.size() == 0 || entry.value.size() > max_count) {
        error(mark_of(entry), entry.path,
              std::string(what) + " needs 1 to " + std::to_string(max_count) + " values, got " +
                  std::to_string(entry.value.size()));
        return std::nullopt;
    }
    bool ok = true;
    for (std::size_t i = 0; i < entry.value.size(); ++i) {
        const Entry item{entry.key, entry.value[i], entry.path + "[" + std::to_string(i) + "]",
                         entry.name};
        if (const auto value = quantity(item, range)) {
            result.values_si.push_back(*value);
            result.sources.push_back({mark_of(item), item.path});
        } else {
            ok = false;
        }
    }
    return ok ? std::optional<Swept>(result) : std::nullopt;
}

std::optional<Swept> Reader::swept(const Entry& entry, const Range& range, bool sweepable,
                                   std::string_view mode_name) {
    if (entry.value.IsSequence() && !sweepable) {
        error(mark_of(entry), entry.path,
              "a list (a sweep) is allowed only for the swept parameter of mode " +
                  std::string(mode_name));
        return std::nullopt;
    }
    return quantities(entry, range, max_sweep_points, "a sweep");
}

std::optional<std::string> Reader::name(const Entry& entry) {
    if (!entry.value.IsScalar() || entry.value.Scalar().empty()) {
        error(mark_of(entry), entry.path, "expected a name, got " + kind_of(entry.value));
        return std::nullopt;
    }
    const auto& text = entry.value.Scalar();
    const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
    if (!plain || !std::isalnum(static_cast<unsigned char>(text.front())) ||
        text.size() > max_name_length) {
        error(mark_of(entry), entry.path,
              kind_of(entry.value) + " is not a name: 1 to " + std::to_string(max_name_length) +
                  " letters, digits, '.', '_' and '-', starting with a letter or digit");
        return std::nullopt;
    }
    return text;
}

std::optional<int> Reader::integer(const Entry& entry, int min, int max) {
    const std::string text = entry.value.IsScalar() ? entry.value.Scalar() : std::string();
    int value = 0;
    const auto [stop, code] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!entry.value.IsScalar() || text.empty() || code != std::errc() ||
        stop != text.data() + text.size()) {
        error(mark_of(entry), entry.path, "expected a whole number, got " + kind_of(entry.value));
        return std::nullopt;
    }
    if (value < min || value > max) {
        error(mark_of(entry), entry.path,
              text + " is out of range (allowed range " + std::to_string(min) + " … " +
                  std::to_string(max) + ")");
        return std::nullopt;
    }
    return value;
}

std::string Reader::join_path(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
}

}  // namespace dmacycle::protocols::detail

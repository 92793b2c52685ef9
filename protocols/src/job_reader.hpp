#pragma once
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dmacycle/protocols/job.hpp"
#include "dmacycle/protocols/units.hpp"

// Private: the YAML walking shared by the job-file section readers. Converts and range-checks
// fields and collects every problem as a Diagnostic at its line and column.
namespace dmacycle::protocols::detail {

// More points than this is almost certainly a typo, and each point is a fresh sample.
inline constexpr std::size_t max_sweep_points = 20;
// Names and ids become file names and table keys: short enough for any file system.
inline constexpr std::size_t max_name_length = 64;

// An allowed range, each bound shown in its own unit so that messages read naturally
// ("1 min … 168 h").
struct Range {
    Dimension dimension;
    double min_si;
    std::string_view min_unit;
    double max_si;
    std::string_view max_unit;

    // Relative slack: a bound written in another unit ("-150 °C", "1000 MPa/min") converts to
    // SI with rounding and must still be accepted; 1e-9 is far below any meaningful digit.
    bool contains(double si) const {
        constexpr double slack = 1e-9;
        return si >= min_si - slack * std::abs(min_si) && si <= max_si + slack * std::abs(max_si);
    }
    std::string text() const {
        return "allowed range " + format_quantity(min_si, min_unit, dimension) + " … " +
               format_quantity(max_si, max_unit, dimension);
    }
};

// "%g" of a value, for messages.
std::string number_text(double value);
// A stress in MPa, for messages.
std::string mpa(double pa);

using Keys = std::span<const std::string_view>;

// "a, b, c": allowed keys in messages.
std::string join(Keys words);

// What a node is, for "got ..." in messages: a mapping, a list, nothing or its quoted text.
std::string kind_of(const YAML::Node& node);

// A value in the file, with where it came from for messages.
struct Entry {
    YAML::Node key;
    YAML::Node value;
    std::string path;  // dotted field path
    std::string name;  // the key
};

// Where a derived value came from, so a cross-field problem points at the right line.
struct Source {
    YAML::Mark mark;
    std::string path;
};

// A quantity that may be a list of values (the swept parameter of a mode).
struct Swept {
    std::vector<double> values_si;
    std::vector<Source> sources;
};

// Walks the YAML tree, converting and range-checking fields and collecting every problem.
class Reader {
  public:
    std::vector<Diagnostic> errors;

    void error(const YAML::Mark& mark, std::string path, std::string message);

    // The mark of a value, or of its key when the value has none (an empty value).
    static YAML::Mark mark_of(const Entry& entry);

    // Checks that `node` is a mapping whose keys are all in `allowed`, each once. Returns its
    // entries by key; nothing when it is not a mapping.
    std::vector<Entry> mapping(const YAML::Node& node, const YAML::Mark& where,
                               const std::string& path, Keys allowed, std::string_view what);
    std::vector<Entry> mapping(const YAML::Node& node, const YAML::Mark& where,
                               const std::string& path,
                               std::initializer_list<std::string_view> allowed,
                               std::string_view what);

    static const Entry* find(const std::vector<Entry>& entries, std::string_view key);

    // A required key is missing: reported at `where`, the parent's key (or the document).
    void missing(const YAML::Mark& where, const std::string& path, std::string_view hint);

    // A scalar quantity with a unit, range-checked. nullopt after reporting a problem.
    std::optional<double> quantity(const Entry& entry, const Range& range);

    // An optional quantity: the default when absent.
    double quantity_or(const std::vector<Entry>& entries, std::string_view key, const Range& range,
                       double fallback);

    // A required quantity.
    std::optional<double> required(const std::vector<Entry>& entries, const YAML::Mark& where,
                                   const std::string& path, std::string_view key,
                                   const Range& range, std::string_view hint);

    // A quantity, or a list of 1 to max_count of them (`what` names such a list in messages).
    std::optional<Swept> quantities(const Entry& entry, const Range& range, std::size_t max_count,
                                    std::string_view what);

    // A quantity, or a non-empty list of them when `sweepable` (one run per value).
    std::optional<Swept> swept(const Entry& entry, const Range& range, bool sweepable,
                               std::string_view mode_name);

    // A plain word or name (ids end up in file names): 1 to max_name_length of letters, digits
    // and . _ -, starting with a letter or digit (so never ".", ".." or a hidden file).
    std::optional<std::string> name(const Entry& entry);

    std::optional<int> integer(const Entry& entry, int min, int max);

    static std::string join_path(const std::string& path, std::string_view key);
};

}  // namespace dmacycle::protocols::detail

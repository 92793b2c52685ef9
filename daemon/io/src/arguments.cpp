#include "dmacycle/io/arguments.hpp"

#include <charconv>
#include <cmath>

namespace dmacycle::io {

Arguments::Arguments(std::span<const std::string_view> args, const std::set<std::string>& valued,
                     const std::set<std::string>& flags) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        if (arg.size() < 3 || arg.substr(0, 2) != "--") {
            positionals_.emplace_back(arg);
            continue;
        }
        std::string name(arg.substr(2));
        std::optional<std::string> value;
        if (const auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name.resize(eq);
        }
        if (flags.count(name)) {
            if (value) {
                throw UsageError("--" + name + " takes no value");
            }
            flags_.insert(name);
        } else if (valued.count(name)) {
            if (!value) {
                if (i + 1 >= args.size()) {
                    throw UsageError("--" + name + " needs a value");
                }
                value = std::string(args[++i]);
            }
            values_[name] = *value;
        } else {
            throw UsageError("unknown option --" + name);
        }
    }
}

std::optional<std::string> Arguments::text(const std::string& name) const {
    const auto it = values_.find(name);
    if (it == values_.end()) {
        return std::nullopt;
    }
    return it->second;
}

std::optional<double> Arguments::number(const std::string& name) const {
    const auto raw = text(name);
    if (!raw) {
        return std::nullopt;
    }
    double value = 0;
    const char* const end = raw->data() + raw->size();
    const auto [ptr, ec] = std::from_chars(raw->data(), end, value);
    if (raw->empty() || ec != std::errc() || ptr != end || !std::isfinite(value)) {
        throw UsageError("--" + name + ": '" + *raw + "' is not a finite number");
    }
    return value;
}

std::optional<int> Arguments::integer(const std::string& name) const {
    const auto raw = text(name);
    if (!raw) {
        return std::nullopt;
    }
    int value = 0;
    const char* const end = raw->data() + raw->size();
    const auto [ptr, ec] = std::from_chars(raw->data(), end, value);
    if (raw->empty() || ec != std::errc() || ptr != end) {
        throw UsageError("--" + name + ": '" + *raw + "' is not an integer");
    }
    return value;
}

}  // namespace dmacycle::io

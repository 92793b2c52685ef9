#pragma once
#include <map>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dmacycle::io {

class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// `--name value`, `--name=value` and bare `--flag` options plus positionals. Every option must be
// declared, so a typo is an error rather than silently ignored.
class Arguments {
  public:
    Arguments(std::span<const std::string_view> args, const std::set<std::string>& valued,
              const std::set<std::string>& flags);

    const std::vector<std::string>& positionals() const { return positionals_; }
    bool flag(const std::string& name) const { return flags_.count(name) > 0; }
    std::optional<std::string> text(const std::string& name) const;
    std::optional<double> number(const std::string& name) const;
    std::optional<int> integer(const std::string& name) const;

  private:
    std::vector<std::string> positionals_;
    std::map<std::string, std::string> values_;
    std::set<std::string> flags_;
};

}  // namespace dmacycle::io

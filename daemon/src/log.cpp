#include "dmacycle/daemon/log.hpp"

#include <unistd.h>

#include <string>

namespace dmacycle::daemon::log {

void write(Priority priority, std::string_view message) {
    std::string line = "<" + std::to_string(static_cast<int>(priority)) + ">";
    line.append(message);
    line += '\n';
    // One write per line, so lines from several threads never interleave; a failing stderr
    // must not take the service down.
    [[maybe_unused]] const auto written = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace dmacycle::daemon::log

#include "dmacycle/service/log.hpp"

#include <unistd.h>

#include <string>

namespace dmacycle::service::log {

std::string escape_controls(std::string_view message) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string escaped;
    escaped.reserve(message.size());
    for (const char c : message) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\\') {
            escaped += "\\\\";
        } else if (c == '\n') {
            escaped += "\\n";
        } else if (c == '\r') {
            escaped += "\\r";
        } else if (c == '\t') {
            escaped += "\\t";
        } else if (byte < 0x20 || byte == 0x7f) {
            escaped += "\\x";
            escaped += hex[byte >> 4];
            escaped += hex[byte & 0xf];
        } else {
            escaped += c;
        }
    }
    return escaped;
}

void write(Priority priority, std::string_view message) {
    // Messages quote untrusted text (spool file names, request paths, job fields): escaped, a
    // newline in them cannot start a forged "<N>" line in the journal.
    // Appended piece by piece: g++ 12 warns falsely (-Wrestrict) on `"<" + std::to_string(…)`.
    std::string line = "<";
    line += std::to_string(static_cast<int>(priority));
    line += '>';
    line += escape_controls(message);
    line += '\n';
    // One write per line, so lines from several threads never interleave; a failing stderr
    // must not take the service down.
    [[maybe_unused]] const auto written = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace dmacycle::service::log

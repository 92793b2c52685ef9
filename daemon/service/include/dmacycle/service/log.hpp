#pragma once
#include <string>
#include <string_view>

// The service's log: one line per message on stderr, prefixed "<N>" with the syslog priority,
// which journald reads as the line's priority (sd-daemon(3)); on a terminal the prefix is
// harmless. Thread-safe: each line is written with one write(2).
namespace dmacycle::service::log {

enum class Priority { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

// `message` with control characters written as escapes (\n, \r, \t, \xNN for the other bytes
// below 0x20 and 0x7f; a backslash doubled), so that one message is always one line.
std::string escape_controls(std::string_view message);

// Writes the message escaped (escape_controls).
void write(Priority priority, std::string_view message);
inline void error(std::string_view message) {
    write(Priority::error, message);
}
inline void warning(std::string_view message) {
    write(Priority::warning, message);
}
inline void notice(std::string_view message) {
    write(Priority::notice, message);
}
inline void info(std::string_view message) {
    write(Priority::info, message);
}

}  // namespace dmacycle::service::log

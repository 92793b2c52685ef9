#include "dmacycle/drivers/error.hpp"

namespace dmacycle::drivers {

std::string printable(std::string_view text, std::size_t max_chars) {
    std::string out;
    for (const char c : text.substr(0, max_chars)) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte < 0x7F) {
            out += c;
        } else {
            constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[byte >> 4];
            out += hex[byte & 0xF];
        }
    }
    if (text.size() > max_chars) {
        out += "...";
    }
    return out;
}

const char* to_string(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::config:
            return "config";
        case ErrorKind::link:
            return "link";
        case ErrorKind::timeout:
            return "timeout";
        case ErrorKind::protocol:
            return "protocol";
        case ErrorKind::device:
            return "device";
    }
    return "?";
}

}  // namespace dmacycle::drivers

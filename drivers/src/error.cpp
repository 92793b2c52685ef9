#include "dmacycle/drivers/error.hpp"

namespace dmacycle::drivers {

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

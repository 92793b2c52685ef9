#include "dmacycle/io/shipped_config.hpp"

#include <cstdlib>
#include <system_error>

namespace dmacycle::io {

std::filesystem::path shipped_config_dir() {
    if (const char* dir = std::getenv("DMACYCLE_CONFIG_DIR"); dir != nullptr && *dir != '\0') {
        return dir;
    }
    std::error_code error;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
    if (error) {
        return "share/dmacycle";  // relative to the working directory: named in any message
    }
    return self.parent_path().parent_path() / "share" / "dmacycle";
}

}  // namespace dmacycle::io

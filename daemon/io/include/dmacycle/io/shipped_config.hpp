#pragma once
#include <filesystem>

namespace dmacycle::io {

// The shipped configuration folder (instruments/, rigs/, jobs/): $DMACYCLE_CONFIG_DIR when set,
// else share/dmacycle beside the running program's bin/ folder. `cmake --install` fills
// PREFIX/share/dmacycle, and the build tree's build/share/dmacycle links to the sources'
// config/, so an installed program never looks into the checkout it was built from.
std::filesystem::path shipped_config_dir();

}  // namespace dmacycle::io

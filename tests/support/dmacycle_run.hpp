#pragma once
// The built `dmacycle` executable run through the shell, as users and scripts run it, with its
// exit code, stdout and stderr (through files in a directory of the caller's).
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace test_support {

struct DmacycleRun {
    int exit_code = -1;  // -1 when it did not exit normally
    std::string out, err;
};

inline std::string slurp(const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

// `dmacycle ARGS` (ARGS as the shell reads them); its output goes through `dir`/stdout|stderr.
inline DmacycleRun run_dmacycle(const std::filesystem::path& dir, const std::string& args) {
    const auto out = dir / "stdout", err = dir / "stderr";
    const std::string command = std::string(DMACYCLE_BIN_DIR) + "/dmacycle " + args + " >" +
                                out.string() + " 2>" + err.string();
    const int status = std::system(command.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

}  // namespace test_support

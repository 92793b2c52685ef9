// `dmacycle analyze` on an arbitrary file: the CSV reader (read_csv, require_increasing) for
// each analysis' columns, then the whole command as the CLI runs it. Byte 0 picks the
// analysis; the rest is the file. The reader may refuse only with InputError; the command
// must answer with an exit code, never crash.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "dmacycle/cli/commands.hpp"
#include "dmacycle/io/csv_table.hpp"

using namespace dmacycle::cli;
using namespace dmacycle::io;

namespace {

struct Analysis {
    std::vector<std::string> columns;
    std::vector<std::string_view> extra_args;
};

const Analysis analyses[] = {
    {{"time_s", "strain"}, {"recovery", "--t0", "1"}},
    {{"time_s", "strain"}, {"creep", "--stress-mpa", "100"}},
    {{"time_s", "stress_mpa", "strain"}, {"cycling"}},
    {{"temperature_k", "frequency_hz", "tan_delta"}, {"arrhenius"}},
};

// One file per process (several fuzzers may run at once), removed at exit.
const std::string& input_path() {
    static const std::string path = [] {
        const auto p = std::filesystem::temp_directory_path() /
                       ("dmacycle-fuzz-analyze-" + std::to_string(::getpid()) + ".csv");
        std::atexit([] { std::remove(input_path().c_str()); });
        return p.string();
    }();
    return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) {
        return 0;
    }
    const Analysis& analysis = analyses[data[0] % std::size(analyses)];
    const std::string& path = input_path();
    {
        std::ofstream file(path, std::ios::binary | std::ios::trunc);
        file.write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
    }
    try {
        const auto table = read_csv(path, analysis.columns);
        if (analysis.columns.front() == "time_s") {
            require_increasing(table, "time_s");
        }
    } catch (const InputError&) {
    }
    std::vector<std::string_view> args{analysis.extra_args.front(), path};
    args.insert(args.end(), analysis.extra_args.begin() + 1, analysis.extra_args.end());
    args.push_back("--json");
    std::ostringstream out, err;
    (void)run_analyze(args, out, err);
    return 0;
}

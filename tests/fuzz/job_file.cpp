// Job-file validation (docs/job-files.md) on arbitrary text: parse_job must report every
// problem in `errors` and never throw; a file it accepts must plan. Byte 0 picks the frame
// limit, or a profile resolver (found, not found) as dmacycled uses.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dmacycle/protocols/job.hpp"
#include "dmacycle/protocols/plan.hpp"

using namespace dmacycle::protocols;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) {
        return 0;
    }
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    JobFile job;
    switch (data[0] % 4) {
        case 0:
            job = parse_job(text);
            break;
        case 1:
            job = parse_job(text, 20.0);
            break;
        case 2:
            job = parse_job(text, [](const std::string&) { return ProfileLimit{18.0, {}}; });
            break;
        default:
            job = parse_job(text, [](const std::string& name) {
                return ProfileLimit{{}, "no profile '" + name + "'"};
            });
            break;
    }
    for (const auto& error : job.errors) {
        (void)error.to_string("job.yaml");
    }
    if (job.ok()) {
        for (const auto& run : job.runs) {
            (void)make_plan(run, job.frame_force_limit_n);
        }
    }
    return 0;
}

// The simulator's command parser (FrameSession::handle) on arbitrary client lines: the input
// is split at newlines and each line handled as the frame server does at max speed (*OPC?
// replies released by moving the clock, two stream samples taken after each line).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dmacycle/sim/frame_session.hpp"
#include "dmacycle/sim/profile.hpp"

using namespace dmacycle::sim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const Profile profile = default_profile();
    Instrument instrument(profile, SimClock::max_speed());
    FrameSession session(instrument);
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    while (!rest.empty()) {
        const auto newline = rest.find('\n');
        const std::string_view line = rest.substr(0, newline);
        rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
        const FrameReply reply = session.handle(line);
        if (reply.not_before_s) {
            instrument.advance_clock_to(*reply.not_before_s);
        }
        for (int i = 0; i < 2 && session.streaming(); ++i) {
            session.take_sample();
        }
    }
    return 0;
}

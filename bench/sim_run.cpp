// The simulator alone, at max speed, producing a full run of domain.md §1 at 10 Hz:
// 10 min isothermal hold, 8 h of 0-200 MPa cycling at 50 MPa/min, 8 h recovery
// (about 582,000 samples), streamed over loopback TCP to a plain reader that checks every
// sequence number. Prints one line of figures; docs/benchmarks.md records them.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "dmacycle/sim/frame_server.hpp"
#include "dmacycle/sim/instrument.hpp"

using namespace dmacycle::sim;

int main() {
    const auto wall_start = std::chrono::steady_clock::now();
    Instrument instrument(default_profile(), SimClock::max_speed());
    FrameServer server(instrument);
    const auto port = server.listen_tcp("127.0.0.1", 0);
    server.start();

    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::perror("connect");
        return 1;
    }
    // Pre-tension 0.01 N = 0.278 MPa on 1.2 mm × 30 µm; 50 MPa/min = 833333.333 Pa/s.
    const std::string program =
        "SOUR:PRET 0.01\n"
        "PROG:DWEL 600\n"
        "PROG:CYCL 0,200e6,833333.333333,60\n"
        "PROG:RAMP 277777.778,833333.333333\n"
        "PROG:DWEL 28800\n"
        "STR:RATE 10\n"
        "STR:STAR\n"
        "*OPC?\n";
    if (write(fd, program.data(), program.size()) != static_cast<ssize_t>(program.size())) {
        std::perror("write");
        return 1;
    }
    long samples = 0, expected_seq = 0, gaps = 0;
    double last_t_s = 0;
    std::string buffer;
    char chunk[1 << 16];
    bool done = false;
    while (!done) {
        const auto n = read(fd, chunk, sizeof chunk);
        if (n <= 0) {
            std::fprintf(stderr, "connection closed early\n");
            return 1;
        }
        buffer.append(chunk, static_cast<std::size_t>(n));
        std::size_t start = 0;
        for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n', start)) {
            const char* line = buffer.data() + start;
            if (line[0] == 'S' && line[1] == ',') {
                char* end = nullptr;
                const long seq = std::strtol(line + 2, &end, 10);
                gaps += seq != expected_seq;
                expected_seq = seq + 1;
                last_t_s = std::strtod(end + 1, nullptr);
                ++samples;
            } else if (line[0] == '1') {
                done = true;  // *OPC?: the program has ended
                break;
            }
            start = nl + 1;
        }
        buffer.erase(0, start);
    }
    close(fd);
    server.stop();
    const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - wall_start;
    const auto truth = instrument.true_state();
    std::printf(
        "samples %ld  simulated %.1f s  wall %.2f s  %.0f samples/s  sequence gaps %ld  "
        "final strain %.6f (viscoplastic %.6f)\n",
        samples, last_t_s, wall.count(), static_cast<double>(samples) / wall.count(), gaps,
        truth.strain, truth.viscoplastic_strain);
    return gaps == 0 && samples > 580000 ? 0 : 1;
}

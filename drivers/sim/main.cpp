// dmacycle-sim: the simulated DMA (load frame + furnace) on real wire protocols.
// Prints one line per endpoint once all of them accept connections, then serves until
// SIGINT/SIGTERM.
#include <arpa/inet.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "dmacycle/sim/frame_server.hpp"
#include "dmacycle/sim/furnace_server.hpp"
#include "dmacycle/sim/instrument.hpp"
#include "dmacycle/sim/profile.hpp"

using namespace dmacycle::sim;

namespace {

constexpr std::string_view usage =
    "usage: dmacycle-sim [--profile FILE] [--listen ADDR] [--frame-port N] [--furnace-port N]\n"
    "                    [--frame-pty] [--furnace-rtu-pty] [--speed X|max]\n"
    "  --profile FILE     instrument profile YAML (default: built-in domain.md defaults)\n"
    "  --listen ADDR      IPv4 address for the TCP endpoints (default 127.0.0.1)\n"
    "  --frame-port N     load frame SCPI port (default 0: any free port)\n"
    "  --furnace-port N   furnace Modbus TCP port (default 0: any free port)\n"
    "  --frame-pty        also serve the load frame on a pseudo-terminal\n"
    "  --furnace-rtu-pty  also serve the furnace as Modbus RTU on a pseudo-terminal\n"
    "  --speed X|max      simulated seconds per wall second (default 1); max: as fast as\n"
    "                     the clients consume\n"
    "  --help, --version  this text, the version\n";

struct Options {
    std::optional<std::string> profile;
    std::string listen = "127.0.0.1";
    std::uint16_t frame_port = 0;
    std::uint16_t furnace_port = 0;
    bool frame_pty = false;
    bool furnace_rtu_pty = false;
    std::string speed = "1";
};

struct UsageError {
    std::string message;
};

std::uint16_t parse_port(std::string_view flag, const std::string& text) {
    std::size_t used = 0;
    unsigned long value = 0;
    try {
        value = std::stoul(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || text.empty() || value > 65535) {
        throw UsageError{std::string(flag) + ": expected a port 0-65535, got '" + text + "'"};
    }
    return static_cast<std::uint16_t>(value);
}

Options parse(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                throw UsageError{std::string(flag) + ": missing value"};
            }
            return argv[++i];
        };
        if (flag == "--profile") {
            options.profile = value();
        } else if (flag == "--listen") {
            options.listen = value();
            in_addr parsed{};
            if (inet_pton(AF_INET, options.listen.c_str(), &parsed) != 1) {
                throw UsageError{"--listen: expected an IPv4 address, got '" + options.listen +
                                 "'"};
            }
        } else if (flag == "--frame-port") {
            options.frame_port = parse_port(flag, value());
        } else if (flag == "--furnace-port") {
            options.furnace_port = parse_port(flag, value());
        } else if (flag == "--frame-pty") {
            options.frame_pty = true;
        } else if (flag == "--furnace-rtu-pty") {
            options.furnace_rtu_pty = true;
        } else if (flag == "--speed") {
            options.speed = value();
        } else if (flag == "--help" || flag == "-h") {
            std::cout << usage;
            std::exit(0);
        } else if (flag == "--version") {
            std::cout << "dmacycle-sim " DMACYCLE_VERSION "\n";
            std::exit(0);
        } else {
            throw UsageError{"unknown option '" + std::string(flag) + "'"};
        }
    }
    return options;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    try {
        options = parse(argc, argv);
    } catch (const UsageError& e) {
        std::cerr << "dmacycle-sim: " << e.message << "\n" << usage;
        return 2;
    }
    const auto clock = SimClock::parse(options.speed);
    if (!clock) {
        std::cerr << "dmacycle-sim: --speed: expected a positive number or 'max', got '"
                  << options.speed << "'\n";
        return 2;
    }
    // Block the stop signals before any thread starts, so only sigwait below sees them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);  // a client hanging up is an error code, not a signal

    try {
        Profile profile = options.profile ? load_profile(*options.profile) : default_profile();
        Instrument instrument(std::move(profile), *clock);
        FrameServer frame(instrument);
        FurnaceServer furnace(instrument);
        const auto frame_port = frame.listen_tcp(options.listen, options.frame_port);
        std::optional<std::string> frame_pty;
        if (options.frame_pty) {
            frame_pty = frame.open_pty();
        }
        frame.start();
        const auto furnace_port = furnace.listen_tcp(options.listen, options.furnace_port);
        std::optional<std::string> furnace_pty;
        if (options.furnace_rtu_pty) {
            furnace_pty = furnace.open_rtu_pty();
        }
        std::cout << "frame tcp://" << options.listen << ':' << frame_port << '\n'
                  << "furnace modbus-tcp://" << options.listen << ':' << furnace_port << '\n';
        if (frame_pty) {
            std::cout << "frame serial://" << *frame_pty << '\n';
        }
        if (furnace_pty) {
            std::cout << "furnace modbus-rtu://" << *furnace_pty << '\n';
        }
        std::cout << std::flush;
        int signal = 0;
        sigwait(&stop_signals, &signal);
        frame.stop();
        furnace.stop();
    } catch (const ProfileError& e) {
        std::cerr << "dmacycle-sim: " << e.what() << '\n';
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "dmacycle-sim: " << e.what() << '\n';
        return 1;
    }
    return 0;
}

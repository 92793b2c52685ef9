#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include "dmacycle/service/job_service.hpp"

// The command line of dmacycled, apart from main() so it is tested without a running service.
namespace dmacycle::service {

extern const char* const dmacycled_usage;

struct ServiceOptions {
    bool help = false;
    bool version = false;
    bool check = false;  // the configuration read and checked, then exit
    std::string config;  // required unless help or version
    std::optional<std::string> listen, database, spool, tokens;
};

// Throws UsageError (arguments.hpp) on an unknown flag, a missing value, a stray argument or a
// missing --config.
ServiceOptions parse_service_options(std::span<const std::string_view> args);

// The flags given replace the config file's values; paths given on the command line are taken
// from the current folder.
void apply_overrides(ServiceConfig& config, const ServiceOptions& options);

// "ADDR:PORT" or "[IPv6]:PORT", numeric addresses only (no name lookups at start-up); throws
// InputError naming `what` otherwise.
boost::asio::ip::tcp::endpoint parse_listen_address(const std::string& text,
                                                    const std::string& what);

}  // namespace dmacycle::service

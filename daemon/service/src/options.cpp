#include "dmacycle/service/options.hpp"

#include <charconv>
#include <filesystem>

#include "dmacycle/io/arguments.hpp"
#include "dmacycle/io/csv_table.hpp"

namespace dmacycle::service {

const char* const dmacycled_usage =
    "usage: dmacycled --config FILE [--listen ADDR:PORT] [--db FILE] [--spool DIR]\n"
    "                 [--tokens FILE] [--check]\n"
    "The dmacycle service: the job queue, the HTTP API and the spool folder (docs/service.md).\n"
    "  --config FILE       the service's configuration (e.g. /etc/dmacycled/dmacycled.yaml)\n"
    "  --listen ADDR:PORT  address to serve HTTP on; port 0 picks a free one\n"
    "  --db FILE           the SQLite store\n"
    "  --spool DIR         the spool folder watched for job files\n"
    "  --tokens FILE       the bearer tokens file (mode 600)\n"
    "  --check             check the configuration (the instrument, the sample rate, the\n"
    "                      tokens, the address) and exit; opens nothing and drives nothing\n"
    "  --help              this text\n"
    "  --version           the version\n"
    "The flags override the config file. Exit codes: 0 stopped by SIGTERM/SIGINT, 1 the service\n"
    "could not start or failed, 2 bad arguments or configuration.\n";

ServiceOptions parse_service_options(std::span<const std::string_view> args) {
    const io::Arguments parsed(args, {"config", "listen", "db", "spool", "tokens"},
                               {"help", "check", "version"});
    ServiceOptions options;
    options.help = parsed.flag("help");
    options.version = parsed.flag("version");
    options.check = parsed.flag("check");
    if (!parsed.positionals().empty()) {
        throw io::UsageError("unexpected argument '" + parsed.positionals().front() + "'");
    }
    if (options.help || options.version) {
        return options;
    }
    const auto config = parsed.text("config");
    if (!config || config->empty()) {
        throw io::UsageError("--config FILE is required");
    }
    options.config = *config;
    options.listen = parsed.text("listen");
    options.database = parsed.text("db");
    options.spool = parsed.text("spool");
    options.tokens = parsed.text("tokens");
    for (const auto* value : {&options.database, &options.spool, &options.tokens}) {
        if (*value && (*value)->empty()) {
            throw io::UsageError("a path flag was given an empty value");
        }
    }
    if (options.listen) {
        try {
            parse_listen_address(*options.listen, "--listen");
        } catch (const io::InputError& error) {
            throw io::UsageError(error.what());
        }
    }
    return options;
}

void apply_overrides(ServiceConfig& config, const ServiceOptions& options) {
    if (options.listen) {
        config.listen = *options.listen;
    }
    if (options.database) {
        config.database = std::filesystem::absolute(*options.database);
    }
    if (options.spool) {
        config.spool = std::filesystem::absolute(*options.spool);
    }
    if (options.tokens) {
        config.tokens = std::filesystem::absolute(*options.tokens);
    }
}

boost::asio::ip::tcp::endpoint parse_listen_address(const std::string& text,
                                                    const std::string& what) {
    const auto colon = text.rfind(':');
    const auto problem = [&](const std::string& why) {
        return io::InputError(what + ": '" + text + "' " + why + " (expected ADDR:PORT, e.g. " +
                              "127.0.0.1:8470 or [::1]:8470)");
    };
    if (colon == std::string::npos || colon == 0) {
        throw problem("has no address and port");
    }
    std::string host = text.substr(0, colon);
    if (host.front() == '[') {
        if (host.back() != ']') {
            throw problem("has an unclosed '['");
        }
        host = host.substr(1, host.size() - 2);
    }
    const auto port_text = std::string_view(text).substr(colon + 1);
    unsigned port = 0;
    const auto [ptr, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() ||
        port > 65535) {
        throw problem("has no port from 0 to 65535");
    }
    boost::system::error_code address_error;
    const auto address = boost::asio::ip::make_address(host, address_error);
    if (address_error) {
        throw problem("has no numeric IP address");
    }
    return {address, static_cast<unsigned short>(port)};
}

}  // namespace dmacycle::service

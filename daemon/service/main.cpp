// dmacycled: the service (docs/service.md). One event loop runs the HTTP server, the spool
// timer, the watchdog and the signals; JobService runs the jobs on its own thread.
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include <csignal>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "dmacycle/io/arguments.hpp"
#include "dmacycle/io/csv_table.hpp"
#include "dmacycle/service/http_server.hpp"
#include "dmacycle/service/job_service.hpp"
#include "dmacycle/service/log.hpp"
#include "dmacycle/service/options.hpp"
#include "dmacycle/service/tokens.hpp"

namespace {

namespace asio = boost::asio;
namespace svc = dmacycle::service;

constexpr int exit_ok = 0;
constexpr int exit_failed = 1;
constexpr int exit_bad_config = 2;

// Calls `tick` every `period` on the event loop, for as long as the loop runs.
class Ticker {
  public:
    Ticker(asio::io_context& io, std::chrono::steady_clock::duration period,
           std::function<void()> tick)
        : timer_(io), period_(period), tick_(std::move(tick)) {
        arm();
    }
    void cancel() { timer_.cancel(); }

  private:
    void arm() {
        timer_.expires_after(period_);
        timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec) {
                return;
            }
            tick_();
            arm();
        });
    }
    asio::steady_timer timer_;
    std::chrono::steady_clock::duration period_;
    std::function<void()> tick_;
};

std::string url_of(const asio::ip::tcp::endpoint& endpoint) {
    std::ostringstream url;
    url << "http://";
    if (endpoint.address().is_v6()) {
        url << "[" << endpoint.address().to_string() << "]";
    } else {
        url << endpoint.address().to_string();
    }
    url << ":" << endpoint.port();
    return url.str();
}

// What the service needs before it touches anything: its configuration, tokens and address.
struct Setup {
    svc::ServiceConfig config;
    svc::TokenStore tokens;
    asio::ip::tcp::endpoint listen;
};

// The setup, or nullopt after logging why the configuration is refused.
std::optional<Setup> read_setup(const svc::ServiceOptions& options) {
    try {
        svc::ServiceConfig config = svc::load_service_config(options.config);
        svc::apply_overrides(config, options);
        if (config.tokens.empty()) {
            throw dmacycle::io::InputError(options.config +
                                           ": tokens: no tokens file (set 'tokens:' or --tokens); "
                                           "the API needs one");
        }
        auto tokens = svc::TokenStore::load(config.tokens);
        const auto listen = svc::parse_listen_address(config.listen, "listen");
        return Setup{std::move(config), std::move(tokens), listen};
    } catch (const std::exception& error) {
        svc::log::error(std::string("dmacycled: ") + error.what());
        return std::nullopt;
    }
}

// The watchdog is fed from the event loop itself, so a loop stuck in a handler stops feeding it
// and systemd restarts the service; the spool folder is scanned from it too.
void start_tickers(asio::io_context& io, const svc::ServiceConfig& config, svc::JobService& jobs,
                   std::optional<Ticker>& watchdog, std::optional<Ticker>& spool) {
    std::uint64_t watchdog_us = 0;
    if (sd_watchdog_enabled(0, &watchdog_us) > 0 && watchdog_us > 0) {
        watchdog.emplace(io, std::chrono::microseconds(watchdog_us / 2),
                         [] { sd_notify(0, "WATCHDOG=1"); });
    }
    if (!config.spool.empty()) {
        spool.emplace(io, config.spool_poll, [&jobs] {
            try {
                jobs.scan_spool();
            } catch (const std::exception& error) {
                svc::log::error(std::string("spool: ") + error.what());
            }
        });
    }
}

int serve(const svc::ServiceOptions& options) {
    auto setup = read_setup(options);
    if (!setup) {
        return exit_bad_config;
    }
    if (options.check) {
        std::cout << "dmacycled: " << options.config << ": ok (" << setup->config.sample_rate_hz
                  << " Hz, listening on " << setup->config.listen << ")\n";
        return exit_ok;
    }
    const svc::ServiceConfig& config = setup->config;

    asio::io_context io;
    std::unique_ptr<svc::JobService> jobs;
    std::optional<svc::HttpServer> server;
    try {
        // First the lock and the store (a second dmacycled stops here), then the listener: a
        // failure of either leaves the instrument and the queue untouched.
        jobs = std::make_unique<svc::JobService>(config);
        svc::HttpLimits limits;
        limits.max_request_bytes = config.max_request_bytes;
        server.emplace(io, *jobs, setup->tokens, setup->listen, limits);
    } catch (const dmacycle::io::InputError& error) {
        svc::log::error(error.what());  // "dmacycled: …" already
        return exit_bad_config;
    } catch (const std::exception& error) {
        svc::log::error(std::string("dmacycled: cannot start: ") + error.what());
        return exit_failed;
    }

    std::optional<Ticker> watchdog, spool;
    // Before start(): a SIGTERM during the recovery waits here and then stops the service
    // through the safe path instead of killing it.
    asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
        if (ec) {
            return;
        }
        svc::log::notice(std::string("dmacycled: ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT") +
                         ": stopping");
        sd_notify(0, "STOPPING=1\nSTATUS=stopping");
        server->stop();
        if (watchdog) {
            watchdog->cancel();
        }
        if (spool) {
            spool->cancel();
        }
        io.stop();
    });
    try {
        jobs->start();
    } catch (const std::exception& error) {
        svc::log::error(std::string("dmacycled: cannot start: ") + error.what());
        server->stop();
        jobs.reset();
        return exit_failed;
    }

    const auto url = url_of(server->local_endpoint());
    std::cout << "listening " << url << std::endl;  // flushed: tests and scripts wait for it
    svc::log::notice("dmacycled " DMACYCLE_VERSION ": listening " + url);
    sd_notify(0, ("READY=1\nSTATUS=listening " + url).c_str());

    start_tickers(io, config, *jobs, watchdog, spool);

    try {
        io.run();
    } catch (const std::exception& error) {
        // Handlers catch what they expect; anything else is a bug to restart from.
        svc::log::error(std::string("dmacycled: event loop failed: ") + error.what());
        server->stop();
        jobs.reset();
        return exit_failed;
    }
    // A run in progress goes to the safe state and ends `interrupted` here.
    jobs.reset();
    svc::log::notice("dmacycled: stopped");
    return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    svc::ServiceOptions options;
    try {
        options = svc::parse_service_options(args);
    } catch (const dmacycle::io::UsageError& error) {
        std::cerr << "dmacycled: " << error.what() << "\n" << svc::dmacycled_usage;
        return exit_bad_config;
    }
    if (options.help) {
        std::cout << svc::dmacycled_usage;
        return exit_ok;
    }
    if (options.version) {
        std::cout << "dmacycled " DMACYCLE_VERSION "\n";
        return exit_ok;
    }
    // What the service creates (the store and its -wal/-shm, the lock, spool outcomes) is for
    // its user and group only, as with the unit's UMask=0027 also when started by hand; a
    // stricter umask stays.
    ::umask(::umask(0) | 027);
    // Writing to a client that went away must be an error to handle, not a signal that kills.
    std::signal(SIGPIPE, SIG_IGN);
    return serve(options);
}

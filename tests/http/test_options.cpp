// dmacycled's command line, in-process: what it accepts and how it refuses.
#include <doctest/doctest.h>

#include <string_view>
#include <vector>

#include "dmacycle/io/arguments.hpp"
#include "dmacycle/io/csv_table.hpp"
#include "dmacycle/service/options.hpp"

using namespace dmacycle::service;
using namespace dmacycle::io;

namespace {

ServiceOptions parse(std::vector<std::string_view> args) {
    return parse_service_options(args);
}

}  // namespace

TEST_CASE("dmacycled options: flags are read and override the config") {
    const auto options = parse({"--config", "/etc/d.yaml", "--listen=127.0.0.1:0", "--db",
                                "/var/x.db", "--spool", "/s", "--tokens", "/t.yaml"});
    CHECK(options.config == "/etc/d.yaml");
    ServiceConfig config;
    config.listen = "127.0.0.1:8470";
    config.database = "/old.db";
    apply_overrides(config, options);
    CHECK(config.listen == "127.0.0.1:0");
    CHECK(config.database == "/var/x.db");
    CHECK(config.spool == "/s");
    CHECK(config.tokens == "/t.yaml");

    // Without flags the config file's values stay.
    ServiceConfig untouched;
    untouched.database = "/old.db";
    apply_overrides(untouched, parse({"--config", "c.yaml"}));
    CHECK(untouched.database == "/old.db");
    CHECK(untouched.listen == "127.0.0.1:8470");
    CHECK(parse({"--help"}).help);
}

TEST_CASE("dmacycled options: bad flags are usage errors naming the flag") {
    CHECK_THROWS_WITH_AS(parse({}), "--config FILE is required", UsageError);
    CHECK_THROWS_WITH_AS(parse({"--config", "c.yaml", "--port", "1"}), "unknown option --port",
                         UsageError);
    CHECK_THROWS_WITH_AS(parse({"--config"}), "--config needs a value", UsageError);
    CHECK_THROWS_WITH_AS(parse({"--config", "c.yaml", "extra"}), "unexpected argument 'extra'",
                         UsageError);
    CHECK_THROWS_AS(parse({"--config", "c.yaml", "--listen", "localhost:80"}), UsageError);
    CHECK_THROWS_AS(parse({"--config", "c.yaml", "--listen", "127.0.0.1:70000"}), UsageError);
    CHECK_THROWS_AS(parse({"--config", "c.yaml", "--listen", "127.0.0.1"}), UsageError);
    CHECK_THROWS_AS(parse({"--config", "c.yaml", "--db", ""}), UsageError);
}

TEST_CASE("dmacycled options: listen addresses, IPv4 and IPv6, numeric only") {
    const auto v4 = parse_listen_address("127.0.0.1:8470", "listen");
    CHECK(v4.address().to_string() == "127.0.0.1");
    CHECK(v4.port() == 8470);
    const auto v6 = parse_listen_address("[::1]:0", "listen");
    CHECK(v6.address().is_v6());
    CHECK(v6.port() == 0);
    CHECK_THROWS_WITH_AS(parse_listen_address("example.org:80", "listen"),
                         "listen: 'example.org:80' has no numeric IP address (expected "
                         "ADDR:PORT, e.g. 127.0.0.1:8470 or [::1]:8470)",
                         InputError);
    CHECK_THROWS_AS(parse_listen_address(":80", "listen"), InputError);
    CHECK_THROWS_AS(parse_listen_address("[::1:80", "listen"), InputError);
    CHECK_THROWS_AS(parse_listen_address("127.0.0.1:-1", "listen"), InputError);
    CHECK_THROWS_AS(parse_listen_address("127.0.0.1:80x", "listen"), InputError);
}

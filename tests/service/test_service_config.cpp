// The service's configuration (config/dmacycled.yaml, docs/service.md): every key read and every
// mistake named by file, line and field; the instrument as `simulate:` or a rig, a rig of
// `driver: sim` running a job like `simulate:` does.
#include <doctest/doctest.h>

#include "dmacycle/io/csv_table.hpp"
#include "service_fixture.hpp"

using namespace service_test;
using dmacycle::io::InputError;
using runner_test::Db;

namespace {

std::string config_error(const std::string& text) {
    TempDir dir;
    fs::create_directories(dir.path / "instruments");
    fs::copy_file(fs::path(DMACYCLE_SOURCE_DIR) / "config" / "instruments" / "sim-la30.yaml",
                  dir.path / "instruments" / "sim-la30.yaml");
    write_file(
        dir.path / "instruments" / "slow.yaml",
        runner_test::shipped_profile({{"stream_rate_max_hz: 1000.0", "stream_rate_max_hz: 50.0"}}));
    write_file(dir.path / "d.yaml", text);
    try {
        dmacycle::service::load_service_config(dir.path / "d.yaml");
    } catch (const InputError& error) {
        const std::string message = error.what();
        const auto at = message.find("d.yaml:");
        return at == std::string::npos ? message : message.substr(at);
    }
    return "";
}

const std::string sim_instrument =
    "instrument:\n  simulate: {profile: instruments/sim-la30.yaml, speed: max}\n";

}  // namespace

TEST_CASE("config: the shipped file and relative paths") {
    const auto shipped = dmacycle::service::load_service_config(fs::path(DMACYCLE_SOURCE_DIR) /
                                                                "config" / "dmacycled.yaml");
    CHECK(shipped.listen == "127.0.0.1:8470");
    CHECK(shipped.database == "/var/lib/dmacycled/dmacycle.db");
    CHECK(shipped.spool == "/var/lib/dmacycled/spool");
    CHECK(shipped.tokens.filename() == "tokens.yaml");
    CHECK(shipped.tokens.parent_path() == fs::path(DMACYCLE_SOURCE_DIR) / "config");
    REQUIRE(shipped.instrument);
    REQUIRE(shipped.instrument->simulator);
    CHECK(fs::path(shipped.instrument->simulator->profile.source).filename() == "sim-la30.yaml");
    CHECK(shipped.instrument->simulator->clock.speed() == 1.0);
    CHECK_FALSE(shipped.instrument->simulator->clock.is_max());
    CHECK(shipped.max_job_bytes == 262144);
    CHECK(shipped.max_database_bytes == 0);
    CHECK(shipped.spool_poll == std::chrono::milliseconds(500));

    const ServiceDir dir(
        "limits: {max_request_bytes: 2000, max_job_bytes: 1000, max_database_bytes: 2097152}\n"
        "spool_poll: 50\n");
    const auto config = dir.config();
    CHECK(config.database == dir.db);
    CHECK(config.spool == dir.spool);
    CHECK(config.sample_rate_hz == 2.0);
    CHECK(config.max_request_bytes == 2000);
    CHECK(config.max_job_bytes == 1000);
    CHECK(config.max_database_bytes == 2097152);
    CHECK(config.spool_poll == std::chrono::milliseconds(50));
    REQUIRE(config.instrument);
    REQUIRE(config.instrument->simulator);
    CHECK(config.instrument->simulator->clock.is_max());
}

TEST_CASE("config: every error names file line and field") {
    CHECK(config_error(sim_instrument + "databse: x.db\n") ==
          "d.yaml:3: databse: unknown key (expected one of: listen, database, spool, tokens, "
          "profiles, "
          "instrument, sample_rate, limits, spool_poll)");
    CHECK(config_error("listen: localhost\n" + sim_instrument) ==
          "d.yaml:1: listen: 'localhost': expected ADDR:PORT, e.g. 127.0.0.1:8470 (port 0: any "
          "free)");
    CHECK(
        config_error("listen: 127.0.0.1:70000\n" + sim_instrument).rfind("d.yaml:1: listen:", 0) ==
        0);
    CHECK(config_error("database: x.db\n") ==
          "d.yaml:1: instrument: missing (simulate: {profile, speed} or rig: PATH)");
    CHECK(config_error(
              "instrument:\n  rig: r.yaml\n  simulate: {profile: instruments/sim-la30.yaml}\n") ==
          "d.yaml:2: instrument: either simulate or rig, not both");
    CHECK(config_error("instrument:\n  simulate: {profile: instruments/sim-la30.yaml, speed: "
                       "fast}\n") ==
          "d.yaml:2: instrument.simulate.speed: 'fast': expected a positive number or max");
    CHECK(
        config_error("instrument:\n  simulate: {profile: instruments/sim-la30.yaml, sped: 1}\n") ==
        "d.yaml:2: instrument.simulate.sped: unknown key (expected one of: profile, speed)");
    CHECK(config_error("instrument:\n  simulate:\n    profile: nowhere.yaml\n")
              .rfind("d.yaml:3: instrument.simulate.profile: ", 0) == 0);
    CHECK(
        config_error("instrument:\n  rig: nowhere.yaml\n").rfind("d.yaml:2: instrument.rig: ", 0) ==
        0);
    CHECK(config_error(sim_instrument + "limits:\n  max_job_bytes: 0\n") ==
          "d.yaml:4: limits.max_job_bytes: '0': expected a whole number from 1 to 1073741824");
    CHECK(config_error(sim_instrument + "limits: {max_database_bytes: 4096}\n") ==
          "d.yaml:3: limits.max_database_bytes: at least 1048576 (1 MiB)");
    CHECK(config_error(sim_instrument + "sample_rate: -1\n") ==
          "d.yaml:3: sample_rate: '-1': expected a positive number");
    // A rate the frame cannot stream is refused at start, not when the first run starts: the
    // simulator's profile, then the frame driver's limit of a real rig.
    CHECK(config_error(sim_instrument + "sample_rate: 5000\n") ==
          "d.yaml:3: sample_rate: 5000 Hz is above the 1000 Hz the frame can stream (its driver, "
          "docs/frame-protocol.md)");
    CHECK(config_error(sim_instrument + "sample_rate: 0.0001\n") ==
          "d.yaml:3: sample_rate: 0.0001 Hz is below the frame's slowest stream, 0.001 Hz");
    CHECK(config_error("instrument:\n  simulate: {profile: instruments/slow.yaml}\n"
                       "sample_rate: 100\n") ==
          "d.yaml:3: sample_rate: 100 Hz is above the 50 Hz the frame can stream (the simulator's "
          "profile, frame.stream_rate_max_hz)");
    CHECK(config_error(sim_instrument + "spool_poll: [1]\n") ==
          "d.yaml:3: spool_poll: expected a non-empty value");
    CHECK(config_error("listen: [\n").rfind("d.yaml:", 0) == 0);

    // A rig file is read with the drivers' parser and checked as `dmacycle run --rig` does:
    // both devices named, a simulator's profile and speed usable.
    const fs::path rigs = fs::path(DMACYCLE_SOURCE_DIR) / "config" / "rigs";
    CHECK(config_error("instrument:\n  rig: " + (rigs / "sim-loopback.yaml").string() + "\n") ==
          "");
    CHECK(config_error("instrument:\n  rig: " + (rigs / "sim.yaml").string() + "\n") == "");
    TempDir dir;
    write_file(dir.path / "slow.yaml",
               std::string("frame: {driver: sim, profile: ") + DMACYCLE_SOURCE_DIR +
                   "/config/instruments/sim-la30.yaml, speed: slow}\nfurnace: {driver: sim}\n");
    CHECK(config_error("instrument:\n  rig: " + (dir.path / "slow.yaml").string() + "\n") ==
          "d.yaml:2: instrument.rig: " + (dir.path / "slow.yaml").string() +
              ":1: frame.speed: 'slow': expected a positive number or max");
    write_file(dir.path / "frame-only.yaml", "frame: {uri: 'tcp://127.0.0.1:5025'}\n");
    CHECK(config_error("instrument:\n  rig: " + (dir.path / "frame-only.yaml").string() + "\n") ==
          "d.yaml:2: instrument.rig: " + (dir.path / "frame-only.yaml").string() +
              ": must name both a frame and a furnace");
}

TEST_CASE("a rig of driver sim is the service's instrument: a job runs on the rig's simulator") {
    const ServiceDir dir;
    // The rig's own profile (another serial), found from the rig's folder.
    write_file(dir.dir.path / "instruments" / "rig-sim.yaml",
               runner_test::shipped_profile({{"serial: SIM0001", "serial: RIG0042"}}));
    fs::create_directories(dir.dir.path / "rigs");
    write_file(dir.dir.path / "rigs" / "sim.yaml",
               "frame: {driver: sim, profile: ../instruments/rig-sim.yaml, speed: max}\n"
               "furnace: {driver: sim}\n");
    write_file(dir.config_path,
               "database: store.db\ninstrument: {rig: rigs/sim.yaml}\nsample_rate: 2\n");
    JobService service(dir.config());
    CHECK(service.health()["instrument"] == "simulated");
    service.start();
    const auto job_id = service.submit(short_job(), "api:alice")["job_id"].get<std::int64_t>();
    const auto job = wait_job(service, job_id);
    INFO(job.dump(2));
    REQUIRE(job["status"] == "completed");
    const auto run_id = job["run_ids"][0].get<std::int64_t>();
    const auto run = service.run(run_id);
    CHECK(run["samples"].get<std::int64_t>() > 100);
    Db store(dir.db);
    CHECK(store.number("SELECT count(*) FROM samples WHERE run_id = " + std::to_string(run_id)) ==
          run["samples"].get<double>());
    CHECK(
        store.value("SELECT instrument_identity FROM runs WHERE id = " + std::to_string(run_id)) ==
        "frame: dmacycle,SIM-DMA,RIG0042,0.1.0; furnace: eurotherm-2400,unit 1");
}

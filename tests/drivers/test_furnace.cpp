#include <doctest/doctest.h>
#include <modbus/modbus.h>

#include <bit>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "dmacycle/sim/frame_server.hpp"
#include "dmacycle/sim/furnace_server.hpp"
#include "dmacycle/sim/instrument.hpp"
#include "line_client.hpp"
#include "time_scale.hpp"

using namespace dmacycle::sim;
using test_support::LineClient;

TEST_SUITE_BEGIN("drivers");

namespace {

constexpr double celsius_offset_k = 273.15;

struct ModbusDeleter {
    void operator()(modbus_t* ctx) const {
        modbus_close(ctx);
        modbus_free(ctx);
    }
};
using Client = std::unique_ptr<modbus_t, ModbusDeleter>;

// A plain libmodbus master with a bounded response timeout.
Client connect_tcp(std::uint16_t port) {
    Client ctx(modbus_new_tcp("127.0.0.1", port));
    REQUIRE(ctx);
    modbus_set_response_timeout(ctx.get(), 2, 0);
    REQUIRE(modbus_connect(ctx.get()) == 0);
    return ctx;
}

Client connect_rtu(const std::string& path) {
    Client ctx(modbus_new_rtu(path.c_str(), 19200, 'N', 8, 1));
    REQUIRE(ctx);
    modbus_set_slave(ctx.get(), 1);
    modbus_set_response_timeout(ctx.get(), 2, 0);
    REQUIRE(modbus_connect(ctx.get()) == 0);
    return ctx;
}

int read_one(modbus_t* ctx, int address) {
    std::uint16_t value = 0;
    REQUIRE(modbus_read_registers(ctx, address, 1, &value) == 1);
    return static_cast<std::int16_t>(value);
}

float read_float(modbus_t* ctx, int tag) {
    std::uint16_t words[2] = {};
    REQUIRE(modbus_read_registers(ctx, 0x8000 + 2 * tag, 2, words) == 2);
    return std::bit_cast<float>((std::uint32_t{words[0]} << 16) | words[1]);  // high word first
}

struct TcpFurnace {
    explicit TcpFurnace(SimClock clock = SimClock::max_speed())
        : instrument(default_profile(), clock), server(instrument) {
        port = server.listen_tcp("127.0.0.1", 0);
    }
    Instrument instrument;
    FurnaceServer server;
    std::uint16_t port = 0;
};

}  // namespace

TEST_CASE("furnace modbus-tcp: FC3 on register 1 is PV in °C with one implied decimal") {
    TcpFurnace furnace;
    auto ctx = connect_tcp(furnace.port);
    const int pv = read_one(ctx.get(), 1);
    // 365 K = 91.85 °C → about 918 or 919, give or take the 0.1 K ripple.
    CHECK(pv / 10.0 == doctest::Approx(365.0 - celsius_offset_k).epsilon(0.005));
    CHECK(read_float(ctx.get(), 1) == doctest::Approx(91.85).epsilon(0.005));
    CHECK(read_one(ctx.get(), 2) == 919);  // target SP 91.85 °C rounds to 91.9
    CHECK(read_one(ctx.get(), 5) == 919);  // working SP
    CHECK(read_one(ctx.get(), 273) == 0);  // auto
    // Several parameters in one read when they are contiguous in the map: 1..5.
    std::uint16_t block[5] = {};
    CHECK(modbus_read_registers(ctx.get(), 1, 5, block) == 5);
}

TEST_CASE("furnace modbus-tcp: reads outside the map get exception 2") {
    TcpFurnace furnace;
    auto ctx = connect_tcp(furnace.port);
    std::uint16_t value = 0;
    for (const int address : {0, 6, 100, 274, 0x8000, 0x8000 + 2 * 6}) {
        CAPTURE(address);
        CHECK(modbus_read_registers(ctx.get(), address, 1, &value) == -1);
        CHECK(errno == EMBXILADD);
    }
    std::uint16_t block[3] = {};
    CHECK(modbus_read_registers(ctx.get(), 4, 3, block) == -1);  // 4, 5 mapped; 6 is not
    CHECK(errno == EMBXILADD);
    CHECK(read_one(ctx.get(), 1) > 0);  // the link is fine afterwards
}

TEST_CASE("furnace modbus-tcp: writes - comms setpoint / rate limit / read-only refused") {
    TcpFurnace furnace;
    auto ctx = connect_tcp(furnace.port);
    CHECK(modbus_write_register(ctx.get(), 35, 50) == 1);    // 5.0 °C/min
    CHECK(modbus_write_register(ctx.get(), 26, 1000) == 1);  // 100.0 °C
    CHECK(read_one(ctx.get(), 2) == 1000);
    CHECK(read_one(ctx.get(), 35) == 50);
    CHECK((read_one(ctx.get(), 75) & (1 << 13)) != 0);      // ramp running
    CHECK(read_one(ctx.get(), 5) == 919);                   // max speed: no time has passed
    CHECK(modbus_write_register(ctx.get(), 1, 500) == -1);  // PV is read-only
    CHECK(errno == EMBXILVAL);
    CHECK(modbus_write_register(ctx.get(), 26, 30000) == -1);  // 3000 °C
    CHECK(errno == EMBXILVAL);
    // The float region takes whole high/low pairs.
    const auto bits = std::bit_cast<std::uint32_t>(95.25f);
    const std::uint16_t words[2] = {static_cast<std::uint16_t>(bits >> 16),
                                    static_cast<std::uint16_t>(bits & 0xFFFF)};
    CHECK(modbus_write_registers(ctx.get(), 0x8000 + 2 * 26, 2, words) == 2);
    CHECK(read_float(ctx.get(), 2) == doctest::Approx(95.25));
    CHECK(modbus_write_registers(ctx.get(), 0x8000 + 2 * 26 + 1, 1, words) == -1);
    CHECK(errno == EMBXILVAL);
}

TEST_CASE("furnace: PID drives the plant to a new setpoint and the sample lags") {
    TcpFurnace furnace(SimClock(2000.0));
    auto ctx = connect_tcp(furnace.port);
    CHECK(modbus_write_register(ctx.get(), 26, 1000) == 1);  // 91.85 → 100.0 °C
    bool lagging = false;
    double pv_c = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        const auto truth = furnace.instrument.true_state();
        lagging = lagging || truth.sample_temperature_k < truth.furnace_temperature_k - 0.5;
        pv_c = read_float(ctx.get(), 1);
        if (std::abs(pv_c - 100.0) < 0.3 && truth.t_s > 3000) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // 10 simulated seconds
    }
    CHECK(pv_c == doctest::Approx(100.0).epsilon(0.003));
    CHECK(lagging);
    const auto settled = furnace.instrument.true_state();
    CHECK(settled.sample_temperature_k == doctest::Approx(373.15).epsilon(0.002));
}

TEST_CASE("furnace: sensor-break bit and forced exceptions on demand via the frame's SIM:") {
    TcpFurnace furnace;
    FrameServer frame(furnace.instrument);
    const auto frame_port = frame.listen_tcp("127.0.0.1", 0);
    frame.start();
    auto control = LineClient::tcp(frame_port);
    auto ctx = connect_tcp(furnace.port);
    CHECK((read_one(ctx.get(), 75) & (1 << 5)) == 0);
    control.send("SIM:FURN:SBR 1");
    CHECK(control.query("SYST:ERR?") == "0,\"No error\"");  // also: the command was handled
    CHECK((read_one(ctx.get(), 75) & (1 << 5)) != 0);
    CHECK(read_one(ctx.get(), 4) == 0);  // sensor break: output off
    control.send("SIM:FURN:EXC 4");
    CHECK(control.query("SYST:ERR?") == "0,\"No error\"");
    std::uint16_t value = 0;
    CHECK(modbus_read_registers(ctx.get(), 1, 1, &value) == -1);
    CHECK(errno == EMBXSFAIL);
    control.send("SIM:FURN:EXC 12");  // libmodbus cannot send it; the setting stays at 4
    CHECK(control.query("SYST:ERR?") == "-222,\"Data out of range\"");
    CHECK(modbus_read_registers(ctx.get(), 1, 1, &value) == -1);
    CHECK(errno == EMBXSFAIL);
    control.send("SIM:FURN:EXC 0");
    CHECK(control.query("SYST:ERR?") == "0,\"No error\"");
    CHECK(modbus_read_registers(ctx.get(), 1, 1, &value) == 1);
}

TEST_CASE("furnace: link drop / late replies / a garbled reply on demand via the frame's SIM:") {
    TcpFurnace furnace;
    FrameServer frame(furnace.instrument);
    const auto frame_port = frame.listen_tcp("127.0.0.1", 0);
    frame.start();
    auto control = LineClient::tcp(frame_port);
    auto ctx = connect_tcp(furnace.port);
    const int pv = read_one(ctx.get(), 1);
    control.send("SIM:FURN:GARB");
    CHECK(control.query("SYST:ERR?") == "0,\"No error\"");
    std::uint16_t value = 0;
    CHECK(modbus_read_registers(ctx.get(), 1, 1, &value) == -1);  // once
    modbus_flush(ctx.get());
    CHECK(std::abs(read_one(ctx.get(), 1) - pv) < 20);

    control.send("SIM:FURN:DEL 0.5");
    CHECK(control.query("SYST:ERR?") == "0,\"No error\"");
    modbus_set_response_timeout(ctx.get(), 0, 200000);
    CHECK(modbus_read_registers(ctx.get(), 1, 1, &value) == -1);
    CHECK(errno == ETIMEDOUT);
    control.send("SIM:FURN:DEL 0");
    std::this_thread::sleep_for(std::chrono::milliseconds(600));  // the late reply arrives
    modbus_flush(ctx.get());
    modbus_set_response_timeout(ctx.get(), 2, 0);
    CHECK(std::abs(read_one(ctx.get(), 1) - pv) < 20);

    control.send("SIM:FURN:DROP 0.5");
    CHECK(control.query("SYST:ERR?") == "0,\"No error\"");
    std::this_thread::sleep_for(std::chrono::milliseconds(150));  // the server's next wake-up
    CHECK(modbus_read_registers(ctx.get(), 1, 1, &value) == -1);  // closed
    modbus_close(ctx.get());
    // During the outage a new connection is cut at once; after it, served again.
    if (modbus_connect(ctx.get()) == 0) {
        CHECK(modbus_read_registers(ctx.get(), 1, 1, &value) == -1);
        modbus_close(ctx.get());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    REQUIRE(modbus_connect(ctx.get()) == 0);
    CHECK(std::abs(read_one(ctx.get(), 1) - pv) < 20);
}

TEST_CASE("furnace modbus-rtu over a pty: same map / same exceptions") {
    Instrument instrument(default_profile(), SimClock::max_speed());
    FurnaceServer server(instrument);
    const std::string path = server.open_rtu_pty();
    auto ctx = connect_rtu(path);
    CHECK(read_one(ctx.get(), 1) / 10.0 == doctest::Approx(91.85).epsilon(0.005));
    std::uint16_t value = 0;
    CHECK(modbus_read_registers(ctx.get(), 0, 1, &value) == -1);
    CHECK(errno == EMBXILADD);
    CHECK(modbus_write_register(ctx.get(), 273, 1) == 1);  // manual
    CHECK(modbus_write_register(ctx.get(), 3, 250) == 1);  // 25.0 %
    CHECK(read_one(ctx.get(), 4) == 250);
}

TEST_CASE("furnace: a kelvin-display profile serves K with one implied decimal") {
    auto profile = default_profile();
    profile.furnace.kelvin_display = true;
    Instrument instrument(profile, SimClock::max_speed());
    FurnaceServer server(instrument);
    auto ctx = connect_tcp(server.listen_tcp("127.0.0.1", 0));
    CHECK(read_one(ctx.get(), 2) == 3650);
    CHECK(read_one(ctx.get(), 1) / 10.0 == doctest::Approx(365.0).epsilon(0.002));
}

TEST_CASE("furnace modbus-tcp: garbage on one connection does not hurt the server") {
    TcpFurnace furnace;
    {
        auto garbage = test_support::LineClient::tcp(furnace.port);
        // A frame of an unknown function (embedded NULs: sized from the literal), then junk.
        static constexpr char frame[] = "\x00\x01\x00\x00\x00\x02\x01\x2a garbage\xff\xff";
        garbage.send(std::string(frame, sizeof frame - 1));
        garbage.send(std::string(300, '\x7f'));
        garbage.read_line(std::chrono::milliseconds(200));  // whatever comes back, if anything
    }
    auto ctx = connect_tcp(furnace.port);
    CHECK(read_one(ctx.get(), 1) / 10.0 == doctest::Approx(91.85).epsilon(0.005));
}

namespace {

// A raw request (unit id, function, data) through libmodbus; the exception code of the reply,
// 0 for a normal reply, -1 for none.
int raw_exception(modbus_t* ctx, std::vector<std::uint8_t> request) {
    if (modbus_send_raw_request(ctx, request.data(), static_cast<int>(request.size())) < 0) {
        return -1;
    }
    std::uint8_t reply[MODBUS_TCP_MAX_ADU_LENGTH];
    const int length = modbus_receive_confirmation(ctx, reply);
    if (length < 9) {
        return -1;
    }
    return (reply[7] & 0x80) != 0 ? reply[8] : 0;  // after the 7-byte MBAP header
}

}  // namespace

TEST_CASE("furnace modbus-tcp: unknown functions get exception 1 / whatever their length") {
    TcpFurnace furnace;
    auto ctx = connect_tcp(furnace.port);
    CHECK(raw_exception(ctx.get(), {1, 0x41}) == 1);              // no data at all
    CHECK(raw_exception(ctx.get(), {1, 0x2b, 0x0e, 1, 0}) == 1);  // short device-id request
    CHECK(raw_exception(ctx.get(), {1, 0x01, 0, 0, 0, 1}) == 1);  // coils
    CHECK(raw_exception(ctx.get(), {1, 0x03, 0, 1, 0, 1}) == 0);  // and FC3 still works
}

TEST_CASE("furnace modbus-tcp: bad register counts get exception 3") {
    TcpFurnace furnace;
    auto ctx = connect_tcp(furnace.port);
    CHECK(raw_exception(ctx.get(), {1, 0x03, 0, 1, 0, 0}) == 3);               // read 0
    CHECK(raw_exception(ctx.get(), {1, 0x03, 0, 1, 0, 126}) == 3);             // read 126 > 125
    CHECK(raw_exception(ctx.get(), {1, 0x03, 0, 1}) == 3);                     // no count
    CHECK(raw_exception(ctx.get(), {1, 0x10, 0, 26, 0, 2, 2, 3, 0xe8}) == 3);  // 2 regs, 1 sent
    // 124 > 123 registers (the data itself would not fit a TCP ADU anyway).
    std::vector<std::uint8_t> too_many{1, 0x10, 0, 26, 0, 124, 248};
    too_many.resize(too_many.size() + 240, 0);
    CHECK(raw_exception(ctx.get(), too_many) == 3);
    CHECK(read_one(ctx.get(), 2) == 919);  // nothing was written
}

TEST_CASE("furnace modbus-tcp: a multi-register write is all or nothing") {
    TcpFurnace furnace;
    auto ctx = connect_tcp(furnace.port);
    // Tags 2 (target SP) and 3 (output, writable in manual only) in one FC16, in auto.
    const std::uint16_t values[2] = {1000, 250};
    CHECK(modbus_write_registers(ctx.get(), 2, 2, values) == -1);
    CHECK(errno == EMBXILVAL);
    CHECK(read_one(ctx.get(), 2) == 919);  // the valid first value was not applied either
    CHECK(modbus_write_register(ctx.get(), 273, 1) == 1);  // manual: now both are valid
    CHECK(modbus_write_registers(ctx.get(), 2, 2, values) == 2);
    CHECK(read_one(ctx.get(), 2) == 1000);
    CHECK(read_one(ctx.get(), 4) == 250);
}

TEST_CASE("furnace modbus-rtu: a request for another unit id gets no answer") {
    Instrument instrument(default_profile(), SimClock::max_speed());
    FurnaceServer server(instrument);
    auto ctx = connect_rtu(server.open_rtu_pty());
    modbus_set_response_timeout(ctx.get(), 0, 300'000);
    modbus_set_slave(ctx.get(), 2);
    std::uint16_t value = 0;
    CHECK(modbus_read_registers(ctx.get(), 1, 1, &value) == -1);
    CHECK(errno == ETIMEDOUT);
    modbus_set_slave(ctx.get(), 1);
    CHECK(modbus_read_registers(ctx.get(), 1, 1, &value) == 1);  // the next request is served
}

TEST_CASE("furnace modbus-tcp: a client sending slowly does not hold up another") {
    TcpFurnace furnace;
    // A frame dribbled a byte every 0.2 s, as over a slow gateway, from its own thread.
    std::thread slow([port = furnace.port] {
        auto dribbler = LineClient::tcp(port);
        const std::uint8_t frame[] = {0, 9, 0, 0, 0, 6, 1, 3, 0, 1, 0, 1};
        for (const auto byte : frame) {
            dribbler.send_raw(std::string(1, static_cast<char>(byte)));
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        CHECK(dribbler.read_bytes(11).size() == 11);  // answered once whole
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // mid-frame
    auto ctx = connect_tcp(furnace.port);
    for (int i = 0; i < 5; ++i) {
        const auto start = std::chrono::steady_clock::now();
        CHECK(read_one(ctx.get(), 1) > 0);
        // Not blocked behind the dribbler, whose frame takes 2.4 s (the old server waited).
        CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() <
              test_support::scaled_s(1.0));
    }
    slow.join();
}

TEST_SUITE_END();

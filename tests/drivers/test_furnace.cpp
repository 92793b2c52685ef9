#include <doctest/doctest.h>
#include <modbus/modbus.h>

#include <bit>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>

#include "dmacycle/drivers/sim/frame_server.hpp"
#include "dmacycle/drivers/sim/furnace_server.hpp"
#include "dmacycle/drivers/sim/instrument.hpp"
#include "line_client.hpp"

using namespace dmacycle::drivers::sim;
using test_support::LineClient;

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

TEST_CASE("furnace modbus-tcp: writes - comms setpoint, rate limit, read-only refused") {
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
    control.send("SIM:FURN:EXC 0");
    CHECK(control.query("SYST:ERR?") == "0,\"No error\"");
    CHECK(modbus_read_registers(ctx.get(), 1, 1, &value) == 1);
}

TEST_CASE("furnace modbus-rtu over a pty: same map, same exceptions") {
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

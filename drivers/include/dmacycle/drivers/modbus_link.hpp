#pragma once
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dmacycle/drivers/connection_uri.hpp"
#include "dmacycle/drivers/error.hpp"

struct _modbus;  // libmodbus's context; its header stays out of ours

// A Modbus master through libmodbus on modbus-tcp:// or modbus-rtu://, holding registers only,
// every request bounded by the response timeout. Errors name the register and what it is.
namespace dmacycle::drivers {

class ModbusLink {
  public:
    ModbusLink(const ConnectionUri& uri, std::chrono::milliseconds timeout);
    ~ModbusLink();
    ModbusLink(const ModbusLink&) = delete;
    ModbusLink& operator=(const ModbusLink&) = delete;

    void connect();
    void close() noexcept;
    bool is_open() const { return open_; }
    int unit() const { return unit_; }
    const std::string& name() const { return name_; }

    // what: the parameter, for messages ("PV (tag 1)").
    std::vector<std::uint16_t> read(std::uint16_t address, std::uint16_t count,
                                    std::string_view what);
    void write(std::uint16_t address, std::span<const std::uint16_t> values, std::string_view what);

  private:
    [[noreturn]] void fail(std::string_view action, std::uint16_t address, std::string_view what);

    _modbus* ctx_ = nullptr;
    std::string name_;
    int unit_;
    std::chrono::milliseconds timeout_;
    bool rtu_;
    bool open_ = false;
};

}  // namespace dmacycle::drivers

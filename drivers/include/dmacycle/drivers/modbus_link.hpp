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

// A Modbus master through libmodbus on modbus-tcp:// or modbus-rtu://, holding registers only.
// Every request, the whole reply included however its bytes trickle in, is bounded by the
// response timeout or the deadline given, whichever is earlier. Errors name the register and
// what it is.
namespace dmacycle::drivers {

class ModbusLink {
  public:
    ModbusLink(const ConnectionUri& uri, std::chrono::milliseconds timeout);
    ~ModbusLink();
    ModbusLink(const ModbusLink&) = delete;
    ModbusLink& operator=(const ModbusLink&) = delete;

    void connect();  // within the response timeout
    // Host names are resolved with the deadline (resolve_host); IP literals are not looked up.
    void connect(Deadline deadline);
    void close() noexcept;
    int unit() const { return unit_; }
    const std::string& name() const { return name_; }

    // what: the parameter, for messages ("PV (tag 1)").
    std::vector<std::uint16_t> read(std::uint16_t address, std::uint16_t count,
                                    std::string_view what, Deadline deadline = Deadline::max());
    void write(std::uint16_t address, std::span<const std::uint16_t> values, std::string_view what,
               Deadline deadline = Deadline::max());

  private:
    void new_context(const std::string& host);
    // Sets the response timeout for a request starting now: to the earlier of timeout_ and
    // deadline (throws timeout when no time is left).
    void begin_request(Deadline deadline, std::string_view what);
    [[noreturn]] void fail(std::string_view action, std::uint16_t address, std::string_view what);

    _modbus* ctx_ = nullptr;
    std::string name_;
    int unit_;
    std::chrono::milliseconds timeout_;
    Clock::time_point request_started_{};  // of the request in progress, for messages
    std::string host_;                     // as given: a name is resolved again on every connect
    std::string port_;
    bool rtu_;
    bool open_ = false;
};

}  // namespace dmacycle::drivers

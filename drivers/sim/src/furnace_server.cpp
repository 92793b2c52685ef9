#include "dmacycle/sim/furnace_server.hpp"

#include <arpa/inet.h>
#include <modbus/modbus.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <system_error>
#include <thread>
#include <vector>

#include "dmacycle/sim/furnace_registers.hpp"
#include "pty.hpp"

namespace dmacycle::sim {
namespace {

[[noreturn]] void fail(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

std::uint16_t read_u16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

// Answers one request: reads and writes go through the register map; libmodbus builds the
// reply frame (MBAP or CRC) from a mapping refreshed for exactly the requested registers.
void answer(modbus_t* ctx, modbus_mapping_t* mapping, FurnaceRegisters& registers,
            const std::uint8_t* req, int length, int forced_exception) {
    if (forced_exception != 0) {
        modbus_reply_exception(ctx, req, static_cast<unsigned>(forced_exception));
        return;
    }
    const int header = modbus_get_header_length(ctx);
    const std::uint8_t function = req[header];
    // An unknown function is exception 1 whatever its length; only then is the length checked.
    if (function != MODBUS_FC_READ_HOLDING_REGISTERS &&
        function != MODBUS_FC_READ_INPUT_REGISTERS && function != MODBUS_FC_WRITE_SINGLE_REGISTER &&
        function != MODBUS_FC_WRITE_MULTIPLE_REGISTERS) {
        modbus_reply_exception(ctx, req, MODBUS_EXCEPTION_ILLEGAL_FUNCTION);
        return;
    }
    if (length < header + 5) {
        modbus_reply_exception(ctx, req, MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE);
        return;
    }
    const std::uint16_t address = read_u16(req + header + 1);
    RegisterStatus status = RegisterStatus::ok;
    switch (function) {
        case MODBUS_FC_READ_HOLDING_REGISTERS:
        case MODBUS_FC_READ_INPUT_REGISTERS: {
            const std::uint16_t count = read_u16(req + header + 3);
            if (count == 0 || count > MODBUS_MAX_READ_REGISTERS) {
                status = RegisterStatus::illegal_value;
                break;
            }
            std::vector<std::uint16_t> values;
            status = registers.read(address, count, values);
            if (status == RegisterStatus::ok) {
                std::uint16_t* table = function == MODBUS_FC_READ_HOLDING_REGISTERS
                                           ? mapping->tab_registers
                                           : mapping->tab_input_registers;
                std::copy(values.begin(), values.end(), table + address);
            }
            break;
        }
        case MODBUS_FC_WRITE_SINGLE_REGISTER: {
            const std::uint16_t value = read_u16(req + header + 3);
            status = registers.write(address, std::span(&value, 1));
            break;
        }
        case MODBUS_FC_WRITE_MULTIPLE_REGISTERS: {
            const std::uint16_t count = read_u16(req + header + 3);
            if (count == 0 || count > MODBUS_MAX_WRITE_REGISTERS ||
                length < header + 6 + 2 * count) {
                status = RegisterStatus::illegal_value;
                break;
            }
            std::vector<std::uint16_t> values(count);
            for (std::uint16_t i = 0; i < count; ++i) {
                values[i] = read_u16(req + header + 6 + 2 * i);
            }
            status = registers.write(address, values);
            break;
        }
        default:  // excluded above
            return;
    }
    switch (status) {
        case RegisterStatus::ok:
            modbus_reply(ctx, req, length, mapping);
            break;
        case RegisterStatus::illegal_address:
            modbus_reply_exception(ctx, req, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
            break;
        case RegisterStatus::illegal_value:
            modbus_reply_exception(ctx, req, MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE);
            break;
    }
}

// SIMulate:FURNace:GARBle: the request's bytes scrambled (XOR 0x5A) come back instead of the
// reply: on TCP with the MBAP protocol id, length and unit id kept, so the client reads a whole
// frame with a wrong transaction id and function; on RTU with a wrong CRC.
void send_garbled(int fd, const std::uint8_t* req, std::size_t length, bool tcp) {
    std::vector<std::uint8_t> bytes(req, req + length);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (!tcp || i < 2 || i >= 7) {
            bytes[i] ^= 0x5A;
        }
    }
    // Like a reply: lost if the client's socket buffer is full.
    [[maybe_unused]] const auto sent = write(fd, bytes.data(), bytes.size());
}

// MBAP header: transaction id, protocol id, length (of unit id + PDU), unit id.
constexpr std::size_t mbap_length_offset = 4;
constexpr std::size_t mbap_prefix = 6;  // the bytes before those that the length counts

constexpr int fault_poll_ms = 50;

// One Modbus TCP client: bytes arrive whenever they do, and a frame is answered once whole,
// so a client sending slowly never holds up another.
struct TcpClient {
    int fd;
    std::vector<std::uint8_t> buffer;
};

}  // namespace

struct FurnaceServer::Impl {
    explicit Impl(Instrument& inst) : instrument(inst) {
        stop_fd = eventfd(0, EFD_CLOEXEC);
        if (stop_fd < 0) {
            fail("eventfd");
        }
    }
    ~Impl() { close(stop_fd); }

    Instrument& instrument;
    int stop_fd;

    // SIMulate:FURNace:DELay: waits that long before a reply; false when stop() came meanwhile.
    bool reply_delay_passed() const {
        const double delay_s = instrument.furnace_link_faults().delay_s;
        if (delay_s <= 0) {
            return true;
        }
        pollfd stop{stop_fd, POLLIN, 0};
        return poll(&stop, 1, static_cast<int>(delay_s * 1000)) == 0;
    }

    bool link_down() const {
        return std::chrono::steady_clock::now() < instrument.furnace_link_faults().drop_until;
    }

    // Answers one whole request frame unless a fault says otherwise.
    void respond(modbus_t* ctx, int fd, modbus_mapping_t* mapping, FurnaceRegisters& registers,
                 const std::uint8_t* req, int length, bool tcp) {
        if (!reply_delay_passed()) {
            return;
        }
        if (instrument.take_furnace_garble()) {
            send_garbled(fd, req, static_cast<std::size_t>(length), tcp);
            return;
        }
        answer(ctx, mapping, registers, req, length, instrument.furnace_forced_exception());
    }
    std::vector<std::thread> threads;
    std::vector<Pty> ptys;

    modbus_mapping_t* new_mapping() {
        const unsigned size = FurnaceRegisters::highest_address() + 1U;
        modbus_mapping_t* mapping =
            modbus_mapping_new(0, 0, static_cast<int>(size), static_cast<int>(size));
        if (mapping == nullptr) {
            fail("modbus_mapping_new");
        }
        return mapping;
    }

    // Modbus TCP: one poll loop over the listening socket and its non-blocking clients.
    void serve_tcp(int listen_fd) {
        modbus_t* ctx = modbus_new_tcp("127.0.0.1", 0);  // only framing; sockets are ours
        modbus_mapping_t* mapping = new_mapping();
        FurnaceRegisters registers(instrument);
        std::vector<TcpClient> clients;
        std::vector<pollfd> fds;
        unsigned drops_seen = instrument.furnace_link_faults().drop_generation;
        while (true) {
            fds.assign({{stop_fd, POLLIN, 0}, {listen_fd, POLLIN, 0}});
            for (const auto& client : clients) {
                fds.push_back({client.fd, POLLIN, 0});
            }
            // Wakes now and then so that a SIMulate:FURNace:DROP cuts idle clients too.
            if (poll(fds.data(), fds.size(), fault_poll_ms) < 0 && errno != EINTR) {
                break;
            }
            if (fds[0].revents != 0) {
                break;
            }
            if (const auto drops = instrument.furnace_link_faults().drop_generation;
                drops != drops_seen) {
                drops_seen = drops;
                for (const auto& client : clients) {
                    close(client.fd);
                }
                clients.clear();
                continue;
            }
            for (std::size_t i = clients.size(); i-- > 0;) {
                if (fds[i + 2].revents != 0 && !serve_client(ctx, mapping, registers, clients[i])) {
                    close(clients[i].fd);  // closed by the client, or not Modbus
                    clients.erase(clients.begin() + static_cast<std::ptrdiff_t>(i));
                }
            }
            if ((fds[1].revents & POLLIN) != 0) {
                const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd >= 0 && link_down()) {
                    close(fd);  // the cable is out: connected, then cut at once
                } else if (fd >= 0) {
                    clients.push_back({fd, {}});
                }
            }
        }
        for (const auto& client : clients) {
            close(client.fd);
        }
        close(listen_fd);
        modbus_mapping_free(mapping);
        modbus_free(ctx);
    }

    // Reads what the client has sent and answers every whole frame; false: drop the client.
    bool serve_client(modbus_t* ctx, modbus_mapping_t* mapping, FurnaceRegisters& registers,
                      TcpClient& client) {
        std::uint8_t chunk[MODBUS_TCP_MAX_ADU_LENGTH];
        const auto n = recv(client.fd, chunk, sizeof chunk, 0);
        if (n == 0) {
            return false;
        }
        if (n < 0) {
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        }
        client.buffer.insert(client.buffer.end(), chunk, chunk + n);
        while (client.buffer.size() > mbap_length_offset + 1) {
            const std::size_t length = read_u16(client.buffer.data() + mbap_length_offset);
            // At least unit id and function code; at most a full ADU.
            if (length < 2 || mbap_prefix + length > MODBUS_TCP_MAX_ADU_LENGTH) {
                return false;
            }
            const std::size_t frame = mbap_prefix + length;
            if (client.buffer.size() < frame) {
                break;
            }
            // The socket is non-blocking: a reply that does not fit the send buffer of a client
            // that never reads is lost, as on a congested gateway.
            modbus_set_socket(ctx, client.fd);
            respond(ctx, client.fd, mapping, registers, client.buffer.data(),
                    static_cast<int>(frame), true);
            client.buffer.erase(client.buffer.begin(),
                                client.buffer.begin() + static_cast<std::ptrdiff_t>(frame));
        }
        return true;
    }

    // Modbus RTU on the pty master. libmodbus never opens the device: we hand it the master.
    void serve_rtu(int master_fd, const std::string& slave_path) {
        const auto new_context = [&] {
            modbus_t* fresh = modbus_new_rtu(slave_path.c_str(), 19200, 'N', 8, 1);
            modbus_set_slave(fresh, instrument.profile().furnace.modbus_unit_id);
            modbus_set_socket(fresh, master_fd);
            return fresh;
        };
        modbus_t* ctx = new_context();
        modbus_mapping_t* mapping = new_mapping();
        FurnaceRegisters registers(instrument);
        std::uint8_t req[MODBUS_RTU_MAX_ADU_LENGTH];
        std::vector<pollfd> fds{{stop_fd, POLLIN, 0}, {master_fd, POLLIN, 0}};
        while (true) {
            if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) {
                break;
            }
            if (fds[0].revents != 0) {
                break;
            }
            if ((fds[1].revents & POLLIN) == 0) {
                continue;
            }
            const int length = modbus_receive(ctx, req);
            if (length > 0 && link_down()) {
                continue;  // SIMulate:FURNace:DROP: the bus is cut, requests go unanswered
            }
            if (length > 0) {
                respond(ctx, master_fd, mapping, registers, req, length, false);
            } else if (length < 0) {
                modbus_flush(ctx);  // a garbled frame: resynchronise on the next one
            } else {
                // Another unit's request: libmodbus then ignores the next frame as that unit's
                // reply, but on this point-to-point link the next frame is a request for us.
                modbus_free(ctx);
                ctx = new_context();
            }
        }
        modbus_mapping_free(mapping);
        modbus_free(ctx);  // does not close the master; close_pty does
    }
};

FurnaceServer::FurnaceServer(Instrument& instrument) : impl_(std::make_unique<Impl>(instrument)) {}

FurnaceServer::~FurnaceServer() {
    stop();
}

std::uint16_t FurnaceServer::listen_tcp(const std::string& address, std::uint16_t port) {
    // libmodbus's modbus_tcp_listen cannot bind port 0 and report it, so bind ourselves.
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fail("socket");
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) {
        close(fd);
        throw std::invalid_argument("furnace: not an IPv4 address: " + address);
    }
    socklen_t len = sizeof addr;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        const int saved = errno;
        close(fd);
        errno = saved;
        fail("furnace listen");
    }
    impl_->threads.emplace_back([this, fd] { impl_->serve_tcp(fd); });
    return ntohs(addr.sin_port);
}

std::string FurnaceServer::open_rtu_pty() {
    Pty pty = open_raw_pty();
    impl_->ptys.push_back(pty);
    impl_->threads.emplace_back(
        [this, fd = pty.master_fd, path = pty.slave_path] { impl_->serve_rtu(fd, path); });
    return pty.slave_path;
}

void FurnaceServer::stop() {
    if (!impl_) {
        return;
    }
    const std::uint64_t one = 1;
    // An eventfd write only fails on counter overflow, impossible with one write per stop().
    [[maybe_unused]] const auto written = write(impl_->stop_fd, &one, sizeof one);
    for (auto& thread : impl_->threads) {
        thread.join();
    }
    impl_->threads.clear();
    for (auto& pty : impl_->ptys) {
        close_pty(pty);
    }
    impl_->ptys.clear();
}

}  // namespace dmacycle::sim

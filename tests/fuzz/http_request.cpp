// The HTTP front of dmacycled on raw request bytes: the real HttpServer (Beast parser, header
// limits, early refusal, keep-alive, draining) with the real Router and a real JobService on a
// temporary SQLite store. Each input is written on a fresh loopback connection, whose sending
// side is then closed; the event loop runs until the server closes the connection. The
// JobService is not started, so accepted jobs queue and never run.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include <boost/asio/io_context.hpp>

#include "dmacycle/service/http_server.hpp"
#include "dmacycle/service/job_service.hpp"
#include "dmacycle/service/tokens.hpp"

namespace fs = std::filesystem;
namespace svc = dmacycle::service;
namespace asio = boost::asio;

namespace {

// The tokens the seed requests use (tests/fuzz/corpus/http_request, http_request.dict).
const char* const tokens_yaml = R"(tokens:
  - name: admin
    token: "fuzz-admin-token-0123456789abcdef0123"
    scopes: [read, submit, control]
  - name: reader
    token: "fuzz-reader-token-0123456789abcdef012"
    scopes: [read]
)";

struct Server {
    fs::path dir;
    asio::io_context io;
    svc::TokenStore tokens = svc::TokenStore::parse(tokens_yaml, "tokens.yaml");
    std::unique_ptr<svc::JobService> jobs;
    std::unique_ptr<svc::HttpServer> http;
    std::uint16_t port = 0;

    Server() {
        std::signal(SIGPIPE, SIG_IGN);
        // tmpfs when there is one: every accepted job is a committed transaction.
        const fs::path base =
            fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
        dir = base / ("dmacycle-fuzz-http-" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
        svc::ServiceConfig config;
        config.database = dir / "store.db";
        config.profiles = fs::path(DMACYCLE_CONFIG_DIR) / "instruments";
        config.config_dir = dir;
        // A rig that is never dialled: start() is not called, so no job runs.
        config.instrument = dmacycle::runner::RigSpec{
            std::nullopt, {.uri = "tcp://127.0.0.1:9"}, {.uri = "modbus-tcp://127.0.0.1:9"}};
        config.max_job_bytes = 2048;
        jobs = std::make_unique<svc::JobService>(config);
        svc::HttpLimits limits;
        // Small enough that the fuzzer's inputs reach them.
        limits.max_request_bytes = 4096;
        limits.max_header_bytes = 1024;
        limits.read_timeout = std::chrono::seconds(5);
        http = std::make_unique<svc::HttpServer>(
            io, *jobs, tokens, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
            limits);
        port = http->local_endpoint().port();
        std::atexit([] { fs::remove_all(instance().dir); });
    }
    static Server& instance() {
        static Server server;
        return server;
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Server& server = Server::instance();
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(server.port);
    // A connect can fail for a moment while the server still holds the previous inputs'
    // connections (a busy machine, a low descriptor limit): let it finish them and retry.
    int fd = -1;
    for (int attempt = 0; fd < 0; ++attempt) {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
            break;
        }
        const int error = errno;
        if (fd >= 0) {
            ::close(fd);
            fd = -1;
        }
        if (attempt == 100) {
            std::fprintf(stderr, "http_request: cannot connect to the server: %s\n",
                         std::strerror(error));
            std::abort();
        }
        server.io.run_for(std::chrono::milliseconds(10));
    }
    // Written whole before the server reads: the inputs fit the socket buffers.
    std::size_t sent = 0;
    while (sent < size) {
        const ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
        if (n <= 0) {
            break;
        }
        sent += static_cast<std::size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    // Run the server until it closes the connection; a server that keeps it open after the
    // client's end for longer than the read timeout is a hang, reported as such.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    char sink[4096];
    while (true) {
        const ssize_t n = ::recv(fd, sink, sizeof sink, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            break;
        }
        if (n > 0) {
            continue;
        }
        if (std::chrono::steady_clock::now() > give_up) {
            std::abort();
        }
        server.io.run_one_for(std::chrono::milliseconds(2));
    }
    const linger reset{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    ::close(fd);
    // Let the server finish with the closed connection before the next input.
    server.io.poll();
    return 0;
}

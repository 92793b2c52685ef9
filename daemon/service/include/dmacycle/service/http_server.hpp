#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

// The HTTP/1.1 front of dmacycled (docs/api.md): Boost.Beast on one io_context, keep-alive, a
// read timeout per connection and size limits per request, routing and bearer tokens over
// JobService.
namespace dmacycle::service {

class JobService;
class TokenStore;

struct HttpLimits {
    std::size_t max_request_bytes = 1 << 20;  // headers and body of one request
    std::size_t max_header_bytes = 16 << 10;  // of that, the request line and headers
    // A connection that sends nothing (or not the rest of a request) for this long is closed, so
    // idle or stalled clients do not hold sockets forever.
    std::chrono::seconds read_timeout{30};
    // Open connections at most; a connection accepted over this gets a 503 and is closed, so
    // that clients cannot exhaust the file descriptors the service needs for its own files.
    std::size_t max_connections = 256;
};

// Requests by status code and their latency, for GET /metrics. Used on the event loop only.
class HttpMetrics {
  public:
    void record(unsigned status, std::chrono::steady_clock::duration elapsed);
    std::string prometheus_text() const;

  private:
    // Upper bounds of the latency buckets in seconds (Prometheus histogram, cumulative).
    static constexpr std::array<double, 9> bounds_s{0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                    0.025,  0.05,  0.1,    0.5};
    std::map<unsigned, std::uint64_t> by_status_;
    std::array<std::uint64_t, bounds_s.size()> buckets_{};
    std::uint64_t count_ = 0;
    double sum_s_ = 0;
};

class HttpServer {
  public:
    // Binds and starts accepting at once; throws boost::system::system_error when it cannot.
    HttpServer(boost::asio::io_context& io, JobService& jobs, const TokenStore& tokens,
               const boost::asio::ip::tcp::endpoint& listen, HttpLimits limits);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // The bound address (the port picked when the listen port was 0).
    boost::asio::ip::tcp::endpoint local_endpoint() const;
    // Stops accepting and closes every open connection.
    void stop();

    struct Shared;  // what the server and its connections share (http_server.cpp)

  private:
    std::shared_ptr<Shared> shared_;
};

}  // namespace dmacycle::service

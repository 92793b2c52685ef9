#include "dmacycle/service/http_server.hpp"

#include <array>
#include <list>
#include <optional>
#include <sstream>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "dmacycle/service/http_routes.hpp"
#include "dmacycle/service/log.hpp"

namespace dmacycle::service {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

void HttpMetrics::record(unsigned status, std::chrono::steady_clock::duration elapsed) {
    ++by_status_[status];
    const double seconds = std::chrono::duration<double>(elapsed).count();
    for (std::size_t i = 0; i < bounds_s.size(); ++i) {
        if (seconds <= bounds_s[i]) {
            ++buckets_[i];
        }
    }
    ++count_;
    sum_s_ += seconds;
}

std::string HttpMetrics::prometheus_text() const {
    std::ostringstream out;
    out << "# HELP dmacycle_http_requests_total HTTP requests answered, by status code.\n"
        << "# TYPE dmacycle_http_requests_total counter\n";
    for (const auto& [status, count] : by_status_) {
        out << "dmacycle_http_requests_total{code=\"" << status << "\"} " << count << "\n";
    }
    out << "# HELP dmacycle_http_request_duration_seconds From the request read to the response "
           "written.\n"
        << "# TYPE dmacycle_http_request_duration_seconds histogram\n";
    for (std::size_t i = 0; i < bounds_s.size(); ++i) {
        out << "dmacycle_http_request_duration_seconds_bucket{le=\"" << bounds_s[i] << "\"} "
            << buckets_[i] << "\n";
    }
    out << "dmacycle_http_request_duration_seconds_bucket{le=\"+Inf\"} " << count_ << "\n"
        << "dmacycle_http_request_duration_seconds_sum " << sum_s_ << "\n"
        << "dmacycle_http_request_duration_seconds_count " << count_ << "\n";
    return out.str();
}

namespace {
class Session;
}

struct HttpServer::Shared : std::enable_shared_from_this<HttpServer::Shared> {
    Shared(asio::io_context& io, JobService& jobs, const TokenStore& tokens, HttpLimits lim)
        : acceptor(io), retry(io), router(jobs, tokens, metrics), limits(lim) {}

    void accept();
    void refuse_busy(tcp::socket socket);

    tcp::acceptor acceptor;
    asio::steady_timer retry;  // after a failed accept (e.g. out of file descriptors)
    HttpMetrics metrics;
    Router router;
    HttpLimits limits;
    // The open connections, so stop() can close them.
    std::list<std::weak_ptr<Session>> sessions;
    bool stopped = false;
};

namespace {

// One connection: read a request (headers first, to refuse early what is over the limits),
// answer, and go on while the client keeps the connection alive.
class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(tcp::socket socket, std::shared_ptr<HttpServer::Shared> shared)
        : stream_(std::move(socket)), shared_(std::move(shared)) {
        beast::error_code ec;
        const auto remote = stream_.socket().remote_endpoint(ec);
        std::ostringstream peer;
        peer << remote;
        peer_ = ec ? "?" : peer.str();
    }

    void start() { read_header(); }
    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.socket().close(ignored);
    }

  private:
    const HttpLimits& limits() const { return shared_->limits; }

    void read_header() {
        header_parser_.emplace();
        header_parser_->header_limit(static_cast<std::uint32_t>(
            std::min(limits().max_header_bytes, limits().max_request_bytes)));
        // Checked against Content-Length as soon as the header arrives: 413 without reading
        // the body.
        header_parser_->body_limit(limits().max_request_bytes);
        stream_.expires_after(limits().read_timeout);
        http::async_read_header(stream_, buffer_, *header_parser_,
                                [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                    self->on_header(ec);
                                });
    }

    void on_header(beast::error_code ec) {
        if (ec) {
            return refuse_after_read_error(ec);
        }
        started_ = std::chrono::steady_clock::now();
        const auto& header = header_parser_->get();
        // Route and token are decided before the body is read, so that a client without a
        // valid token cannot make the service buffer a body it will refuse anyway. With no
        // body announced (is_done), the connection can stay open.
        if (auto refusal = shared_->router.admit(header, peer_)) {
            const bool keep_alive = header_parser_->is_done() && header.keep_alive();
            return respond(std::move(*refusal), keep_alive);
        }
        if (header_parser_->chunked()) {
            return respond(error_response(411, "a request body needs a Content-Length"), false);
        }
        parser_.emplace(std::move(*header_parser_));
        parser_->body_limit(limits().max_request_bytes);
        if (header[http::field::expect] == "100-continue") {
            // Clients such as curl wait for this before they send a large body.
            continue_.emplace(http::status::continue_, 11);
            http::async_write(stream_, *continue_,
                              [self = shared_from_this()](beast::error_code write_ec, std::size_t) {
                                  if (write_ec) {
                                      return self->close();
                                  }
                                  self->read_body();
                              });
            return;
        }
        read_body();
    }

    void read_body() {
        stream_.expires_after(limits().read_timeout);
        http::async_read(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
    }

    void on_body(beast::error_code ec) {
        if (ec) {
            return refuse_after_read_error(ec);
        }
        const auto& request = parser_->get();
        respond(shared_->router.handle(request, peer_), request.keep_alive());
    }

    void refuse_after_read_error(beast::error_code ec) {
        if (started_ == std::chrono::steady_clock::time_point{}) {
            started_ = std::chrono::steady_clock::now();
        }
        if (ec == http::error::body_limit || ec == http::error::header_limit) {
            return respond(
                error_response(413, "request over the limit of " +
                                        std::to_string(limits().max_request_bytes) + " bytes"),
                false);
        }
        if (ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
            ec != http::error::end_of_stream && ec != http::error::partial_message) {
            return respond(error_response(400, std::string("malformed request: ") + ec.message()),
                           false);
        }
        // The client went away, or sent nothing for read_timeout: nothing to answer.
        close();
    }

    void respond(HttpResponse response, bool keep_alive) {
        response_ = std::move(response);
        response_.keep_alive(keep_alive);
        response_.prepare_payload();
        stream_.expires_after(limits().read_timeout);
        http::async_write(
            stream_, response_,
            [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                self->on_written(ec, keep_alive);
            });
    }

    void on_written(beast::error_code ec, bool keep_alive) {
        shared_->metrics.record(response_.result_int(),
                                std::chrono::steady_clock::now() - started_);
        started_ = {};
        if (ec || shared_->stopped) {
            return close();
        }
        if (!keep_alive) {
            return drain_and_close();
        }
        read_header();
    }

    // After refusing a request whose body was not read, closing at once would reset the
    // connection and the client could lose the answer; so stop sending, read and drop what
    // the client still sends (bounded in bytes and time), then close.
    void drain_and_close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.expires_after(std::chrono::seconds(5));
        drain();
    }

    void drain() {
        drain_buffer_.resize(64 << 10);
        stream_.async_read_some(
            asio::buffer(drain_buffer_),
            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                self->drained_bytes_ += n;
                if (ec || self->drained_bytes_ > 4 * self->limits().max_request_bytes) {
                    return self->close();
                }
                self->drain();
            });
    }

    beast::tcp_stream stream_;
    std::shared_ptr<HttpServer::Shared> shared_;
    std::string peer_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::empty_body>> header_parser_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::optional<http::response<http::empty_body>> continue_;
    HttpResponse response_;
    std::chrono::steady_clock::time_point started_{};
    std::vector<char> drain_buffer_;
    std::size_t drained_bytes_ = 0;
};

}  // namespace

void HttpServer::Shared::accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
        if (self->stopped) {
            return;
        }
        if (ec) {
            // Retrying at once would spin while the cause (often EMFILE) lasts.
            log::warning("http: accept failed: " + ec.message());
            self->retry.expires_after(std::chrono::milliseconds(100));
            self->retry.async_wait([self](beast::error_code) {
                if (!self->stopped) {
                    self->accept();
                }
            });
            return;
        }
        self->sessions.remove_if([](const auto& weak) { return weak.expired(); });
        if (self->sessions.size() >= self->limits.max_connections) {
            self->refuse_busy(std::move(socket));
            self->accept();
            return;
        }
        auto session = std::make_shared<Session>(std::move(socket), self);
        self->sessions.push_back(session);
        session->start();
        self->accept();
    });
}

namespace {

// A connection refused for being over max_connections.
struct Refused {
    explicit Refused(tcp::socket socket) : stream(std::move(socket)) {}
    beast::tcp_stream stream;
    std::array<char, 4096> sink{};
};

// Reads and drops until the client closes or the stream's deadline passes.
void drop_input(std::shared_ptr<Refused> refused) {
    refused->stream.async_read_some(asio::buffer(refused->sink),
                                    [refused](beast::error_code ec, std::size_t) {
                                        if (!ec) {
                                            drop_input(refused);
                                        }
                                    });
}

}  // namespace

// Over max_connections: a fixed 503, then what the client still sends is read and dropped for
// at most a second (closing with its request unread would reset the connection and could lose
// the answer).
void HttpServer::Shared::refuse_busy(tcp::socket socket) {
    static const std::string busy = [] {
        const std::string body =
            R"({"error": "too many connections; try again later", "details": []})";
        return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
               "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    metrics.record(503, {});
    const auto refused = std::make_shared<Refused>(std::move(socket));
    refused->stream.expires_after(std::chrono::seconds(1));
    asio::async_write(
        refused->stream, asio::buffer(busy), [refused](beast::error_code ec, std::size_t) {
            if (!ec) {
                beast::error_code ignored;
                refused->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
                drop_input(refused);
            }
        });
}

HttpServer::HttpServer(asio::io_context& io, JobService& jobs, const TokenStore& tokens,
                       const tcp::endpoint& listen, HttpLimits limits)
    : shared_(std::make_shared<Shared>(io, jobs, tokens, limits)) {
    auto& acceptor = shared_->acceptor;
    acceptor.open(listen.protocol());
    // A restarted service must be able to bind while old connections are in TIME_WAIT.
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(listen);
    acceptor.listen(asio::socket_base::max_listen_connections);
    shared_->accept();
}

HttpServer::~HttpServer() {
    stop();
}

tcp::endpoint HttpServer::local_endpoint() const {
    return shared_->acceptor.local_endpoint();
}

void HttpServer::stop() {
    if (shared_->stopped) {
        return;
    }
    shared_->stopped = true;
    beast::error_code ignored;
    shared_->acceptor.close(ignored);
    shared_->retry.cancel();
    for (const auto& weak : shared_->sessions) {
        if (const auto session = weak.lock()) {
            session->close();
        }
    }
    shared_->sessions.clear();
}

}  // namespace dmacycle::service

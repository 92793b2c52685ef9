#pragma once
// A blocking HTTP/1.1 client for tests: one request per connection, or raw bytes for requests a
// well-behaved client would never send.
#include <chrono>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace http_test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct Reply {
    unsigned status = 0;
    std::string body;
    std::string content_type;
    std::string allow;
    http::fields headers;  // all of them
    nlohmann::json json() const { return nlohmann::json::parse(body); }
};

// Sends `bytes` as they are to 127.0.0.1:port and reads one response (status 0 when the server
// closed without answering).
inline Reply exchange_raw(unsigned short port, const std::string& bytes) {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    beast::error_code ec;
    asio::write(stream.socket(), asio::buffer(bytes), ec);  // the server may refuse early
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    http::read(stream, buffer, parser, ec);
    Reply reply;
    if (ec && !parser.is_header_done()) {
        return reply;
    }
    const auto& response = parser.get();
    reply.status = response.result_int();
    reply.body = response.body();
    reply.content_type = std::string(response[http::field::content_type]);
    reply.allow = std::string(response[http::field::allow]);
    reply.headers = response.base();
    return reply;
}

inline Reply request(unsigned short port, http::verb method, const std::string& target,
                     const std::string& token = "", const std::string& body = "",
                     const std::string& content_type = "application/yaml") {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!token.empty()) {
        req.set(http::field::authorization, "Bearer " + token);
    }
    if (!body.empty()) {
        req.set(http::field::content_type, content_type);
        req.body() = body;
    }
    req.keep_alive(false);
    req.prepare_payload();
    std::ostringstream bytes;
    bytes << req;
    return exchange_raw(port, bytes.str());
}

inline Reply get(unsigned short port, const std::string& target, const std::string& token = "") {
    return request(port, http::verb::get, target, token);
}

inline Reply post(unsigned short port, const std::string& target, const std::string& token,
                  const std::string& body = "") {
    return request(port, http::verb::post, target, token, body);
}

}  // namespace http_test

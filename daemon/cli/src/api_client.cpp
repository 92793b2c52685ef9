#include "dmacycle/cli/api_client.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <thread>

#include "dmacycle/io/text.hpp"
#include "dmacycle/store/names.hpp"

namespace dmacycle::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Json = nlohmann::json;

// A samples page is at most 100000 rows of nine columns: tens of MB of JSON.
constexpr std::uint64_t max_response_bytes = 512ull << 20;

bool is_host_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

bool is_ipv6_char(char c) {
    return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' ||
           c == '.';
}

// Runs the io_context until the one pending operation has finished (its handler stored the
// error); the stream's expiry turns a hang into beast::error::timeout.
void run_one_operation(asio::io_context& io) {
    io.restart();
    io.run();
}

// Resolves and connects `stream` to `server`; ClientError (status 0) when it cannot.
void connect_to(asio::io_context& io, beast::tcp_stream& stream, const ServerUrl& server,
                std::chrono::milliseconds timeout) {
    const std::string where = server.text();
    beast::error_code error;
    asio::ip::tcp::resolver resolver(io);
    const auto endpoints = resolver.resolve(server.host, std::to_string(server.port), error);
    if (error) {
        throw ClientError(0, "cannot reach " + where + ": " + error.message());
    }
    stream.expires_after(timeout);
    stream.async_connect(endpoints, [&](beast::error_code ec, const auto&) { error = ec; });
    run_one_operation(io);
    if (error) {
        throw ClientError(0, "cannot reach " + where + ": " +
                                 (error == beast::error::timeout
                                      ? io::format("no connection within %.1f s",
                                                   std::chrono::duration<double>(timeout).count())
                                      : error.message()));
    }
}

// One request per connection, JSON accepted, the bearer token when there is one.
http::request<http::string_body> make_request(const ServerUrl& server,
                                              const std::optional<std::string>& token, bool is_post,
                                              const std::string& target, const std::string& body,
                                              const std::string& content_type) {
    http::request<http::string_body> req(is_post ? http::verb::post : http::verb::get, target, 11);
    req.set(http::field::host, server.host + ":" + std::to_string(server.port));
    req.set(http::field::user_agent, "dmacycle/" DMACYCLE_VERSION);
    req.set(http::field::accept, "application/json");
    if (token) {
        req.set(http::field::authorization, "Bearer " + *token);
    }
    if (is_post) {
        req.set(http::field::content_type, content_type);
        req.body() = body;
    }
    req.keep_alive(false);
    req.prepare_payload();
    return req;
}

// Writes `req` and reads the response within `timeout`; `what` ("GET /path") names it in the
// ClientError (status 0) when there is no answer.
http::response<http::string_body> exchange(asio::io_context& io, beast::tcp_stream& stream,
                                           http::request<http::string_body>& req,
                                           const std::string& where, const std::string& what,
                                           std::chrono::milliseconds timeout) {
    beast::error_code error;
    const auto failed = [&](beast::error_code ec) {
        return ClientError(0, "no answer from " + where + " to " + what + ": " +
                                  (ec == beast::error::timeout
                                       ? io::format("none within %.0f s",
                                                    std::chrono::duration<double>(timeout).count())
                                       : ec.message()));
    };
    stream.expires_after(timeout);
    http::async_write(stream, req, [&](beast::error_code ec, std::size_t) { error = ec; });
    run_one_operation(io);
    if (error) {
        throw failed(error);
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_response_bytes);
    http::async_read(stream, buffer, parser,
                     [&](beast::error_code ec, std::size_t) { error = ec; });
    run_one_operation(io);
    if (error) {
        throw failed(error);
    }
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    return parser.release();
}

// The JSON of a 2xx answer; a ClientError with the API's error and details for a 4xx or 5xx,
// or with status 0 for anything else.
Json answer_of(const http::response<http::string_body>& response, const std::string& where,
               const std::string& what) {
    const int status = static_cast<int>(response.result_int());
    Json answer = Json::parse(response.body(), nullptr, false);
    if (status >= 400) {
        // The API's error body; a proxy or a foreign server may answer with anything else.
        std::string message =
            "HTTP " + std::to_string(status) + " " + std::string(response.reason());
        std::vector<std::string> details;
        if (answer.is_object() && answer.contains("error") && answer["error"].is_string()) {
            message = answer["error"].get<std::string>();
            if (answer.contains("details") && answer["details"].is_array()) {
                for (const auto& detail : answer["details"]) {
                    details.push_back(detail.is_string() ? detail.get<std::string>()
                                                         : detail.dump());
                }
            }
        }
        throw ClientError(status, message, std::move(details), what);
    }
    if (status < 200 || status >= 300 || answer.is_discarded()) {
        throw ClientError(0, where + " answered " + what + " with HTTP " + std::to_string(status) +
                                 (answer.is_discarded() ? ", not JSON" : "") +
                                 " (is it dmacycled?)");
    }
    return answer;
}

}  // namespace

std::string ServerUrl::text() const {
    const bool v6 = host.find(':') != std::string::npos;
    return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

ServerUrl parse_server_url(std::string_view url) {
    const auto refuse = [&](const std::string& problem) {
        return std::invalid_argument("'" + std::string(url) + "' is not http://HOST:PORT (" +
                                     problem + ")");
    };
    constexpr std::string_view scheme = "http://";
    if (url.substr(0, scheme.size()) != scheme) {
        throw refuse(url.find("://") != std::string_view::npos ? "only http:// is supported"
                                                               : "no http:// in front");
    }
    std::string_view rest = url.substr(scheme.size());
    if (!rest.empty() && rest.back() == '/') {
        rest.remove_suffix(1);
    }
    ServerUrl server;
    std::string_view port;
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) {
            throw refuse("unclosed '['");
        }
        const auto host = rest.substr(1, close - 1);
        if (host.empty() || host.find(':') == std::string_view::npos ||
            !std::all_of(host.begin(), host.end(), is_ipv6_char)) {
            throw refuse("bad IPv6 address");
        }
        server.host = host;
        rest.remove_prefix(close + 1);
        if (rest.empty() || rest.front() != ':') {
            throw refuse("no :PORT");
        }
        port = rest.substr(1);
    } else {
        const auto colon = rest.find(':');
        if (colon == std::string_view::npos) {
            throw refuse(rest.find_first_of("/?#@") != std::string_view::npos
                             ? "a path, query or user is not allowed"
                             : "no :PORT");
        }
        const auto host = rest.substr(0, colon);
        if (host.empty()) {
            throw refuse("no host");
        }
        if (!std::all_of(host.begin(), host.end(), is_host_char)) {
            throw refuse("bad host '" + std::string(host) + "'");
        }
        server.host = host;
        port = rest.substr(colon + 1);
    }
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        throw refuse(port.find_first_of("/?#") != std::string_view::npos
                         ? "a path or query is not allowed"
                         : "the port must be a number");
    }
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
        throw refuse("the port must be 1-65535");
    }
    server.port = static_cast<std::uint16_t>(value);
    return server;
}

ApiClient::ApiClient(ServerUrl server, std::optional<std::string> token, ClientTimeouts timeouts)
    : server_(std::move(server)), token_(std::move(token)), timeouts_(timeouts) {}

Json ApiClient::get(const std::string& target) const {
    return request(false, target, {}, {});
}

Json ApiClient::post(const std::string& target, const std::string& body,
                     const std::string& content_type) const {
    return request(true, target, body, content_type);
}

Json ApiClient::request(bool is_post, const std::string& target, const std::string& body,
                        const std::string& content_type) const {
    asio::io_context io;
    beast::tcp_stream stream(io);
    connect_to(io, stream, server_, timeouts_.connect);
    auto req = make_request(server_, token_, is_post, target, body, content_type);
    const std::string what = std::string(is_post ? "POST " : "GET ") + target;
    const auto response = exchange(io, stream, req, server_.text(), what, timeouts_.response);
    return answer_of(response, server_.text(), what);
}

bool is_final_job_status(std::string_view status) {
    return status == "completed" || status == "faulted" || status == "aborted" ||
           status == "cancelled" || status == "interrupted";
}

std::optional<Json> wait_for_job(const ApiClient& client, std::int64_t job_id,
                                 std::optional<std::chrono::milliseconds> timeout,
                                 std::chrono::milliseconds poll,
                                 const std::function<void(const Json&)>& on_poll) {
    const auto start = std::chrono::steady_clock::now();
    while (true) {
        Json job = client.get("/api/v1/jobs/" + std::to_string(job_id));
        if (on_poll) {
            on_poll(job);
        }
        if (is_final_job_status(job.value("status", ""))) {
            return job;
        }
        if (timeout && std::chrono::steady_clock::now() + poll > start + *timeout) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(poll);
    }
}

namespace {

// The rows of a GET /api/v1/runs/ID/{samples,dmta} page, each as a cell reader over `columns` (a
// names table) in that order, whatever order the page's own `columns` give. Returns how many rows.
template <std::size_t N, class Row>
std::size_t for_each_page_row(const Json& page, const std::array<store::names::Column, N>& columns,
                              const std::string& what, Row&& row_of) {
    const auto bad = [&](const std::string& problem) {
        return ClientError(0, "unexpected " + what + " page: " + problem);
    };
    if (!page.is_object() || !page.contains("columns") || !page["columns"].is_array() ||
        !page.contains("rows") || !page["rows"].is_array()) {
        throw bad("no columns and rows");
    }
    const auto& names = page["columns"];
    std::array<std::size_t, N> index{};
    for (std::size_t i = 0; i < N; ++i) {
        const auto found = std::find(names.begin(), names.end(), Json(columns[i].name));
        if (found == names.end()) {
            throw bad("no column '" + std::string(columns[i].name) + "'");
        }
        index[i] = static_cast<std::size_t>(found - names.begin());
    }
    for (const auto& row : page["rows"]) {
        if (!row.is_array() || row.size() != names.size()) {
            throw bad("a row does not have " + std::to_string(names.size()) + " cells");
        }
        row_of([&](std::size_t column) -> const Json& {
            const auto& value = row[index[column]];
            const bool text = columns[column].type == store::names::Type::text;
            if (text ? !value.is_string() : !value.is_number()) {
                throw bad("column '" + std::string(columns[column].name) + "' holds " +
                          value.dump());
            }
            return value;
        });
    }
    return page["rows"].size();
}

}  // namespace

std::size_t for_each_page_sample(const Json& page,
                                 const std::function<void(const store::ArchivedSample&)>& each) {
    constexpr auto& at = store::names::samples;
    return for_each_page_row(page, at, "samples", [&](const auto& cell) {
        const auto number = [&](int column) { return cell(column).template get<double>(); };
        const auto text = [&](int column) { return cell(column).template get<std::string>(); };
        each(store::ArchivedSample{
            .seq = cell(store::names::index_of(at, "seq")).template get<std::int64_t>(),
            .t_s = number(store::names::index_of(at, "t_s")),
            .t_wall_utc = text(store::names::index_of(at, "t_wall_utc")),
            .segment = text(store::names::index_of(at, "segment")),
            .temperature_k = number(store::names::index_of(at, "temperature_k")),
            .force_n = number(store::names::index_of(at, "force_n")),
            .displacement_m = number(store::names::index_of(at, "displacement_m")),
            .stress_pa = number(store::names::index_of(at, "stress_pa")),
            .strain = number(store::names::index_of(at, "strain"))});
    });
}

std::size_t for_each_page_dmta(const Json& page,
                               const std::function<void(const store::ArchivedDmta&)>& each) {
    constexpr auto& at = store::names::dmta;
    return for_each_page_row(page, at, "dmta", [&](const auto& cell) {
        const auto number = [&](int column) { return cell(column).template get<double>(); };
        each(store::ArchivedDmta{
            .seq = cell(store::names::index_of(at, "seq")).template get<std::int64_t>(),
            .t_s = number(store::names::index_of(at, "t_s")),
            .t_wall_utc =
                cell(store::names::index_of(at, "t_wall_utc")).template get<std::string>(),
            .frequency_hz = number(store::names::index_of(at, "frequency_hz")),
            .temperature_k = number(store::names::index_of(at, "temperature_k")),
            .storage_pa = number(store::names::index_of(at, "storage_pa")),
            .loss_pa = number(store::names::index_of(at, "loss_pa")),
            .tan_delta = number(store::names::index_of(at, "tan_delta"))});
    });
}

}  // namespace dmacycle::cli

#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "dmacycle/store/run_archive.hpp"

// The client side of the dmacycled HTTP API (docs/api.md), used by the `dmacycle` client
// commands and by `dmacycle demo`.
namespace dmacycle::cli {

// `http://HOST:PORT`: HOST a name, an IPv4 address or a bracketed IPv6 address; no user, path,
// query or fragment (one trailing '/' is tolerated).
struct ServerUrl {
    std::string host;  // without brackets
    std::uint16_t port = 0;
    std::string text() const;  // "http://HOST:PORT", brackets restored for IPv6
};

// Throws std::invalid_argument "'URL' is not http://HOST:PORT (problem)".
ServerUrl parse_server_url(std::string_view url);

// A request that did not succeed. status(): the HTTP status (≥ 400) with the server's `error`
// as the message and its `details`; 0 when there was no usable HTTP answer (cannot connect,
// timeout, a reply that is not HTTP or not the JSON the API documents). request(): "GET /path".
class ClientError : public std::runtime_error {
  public:
    ClientError(int status, const std::string& message, std::vector<std::string> details = {},
                std::string request = {})
        : std::runtime_error(message),
          status_(status),
          details_(std::move(details)),
          request_(std::move(request)) {}
    int status() const { return status_; }
    const std::vector<std::string>& details() const { return details_; }
    const std::string& request() const { return request_; }

  private:
    int status_;
    std::vector<std::string> details_;
    std::string request_;
};

struct ClientTimeouts {
    std::chrono::milliseconds connect{5000};
    std::chrono::milliseconds response{60000};  // writing the request and reading the answer
};

// Synchronous HTTP/1.1 over TCP, one connection per request (the API is polled at human rates;
// a fresh connection keeps failures local to one request). Not thread-safe.
class ApiClient {
  public:
    // token: sent as `Authorization: Bearer TOKEN` when given; never logged or printed.
    ApiClient(ServerUrl server, std::optional<std::string> token, ClientTimeouts timeouts = {});

    const ServerUrl& server() const { return server_; }
    // The JSON answer of a 2xx response; ClientError otherwise.
    nlohmann::json get(const std::string& target) const;
    nlohmann::json post(const std::string& target, const std::string& body = {},
                        const std::string& content_type = "text/yaml; charset=utf-8") const;

  private:
    nlohmann::json request(bool is_post, const std::string& target, const std::string& body,
                           const std::string& content_type) const;

    ServerUrl server_;
    std::optional<std::string> token_;
    ClientTimeouts timeouts_;
};

// Job statuses after which nothing more happens to the job (docs/api.md).
bool is_final_job_status(std::string_view status);

// Polls GET /api/v1/jobs/ID every `poll` until the job's status is final and returns that
// answer; std::nullopt when `timeout` (if any) passes first. on_poll sees every answer.
std::optional<nlohmann::json> wait_for_job(
    const ApiClient& client, std::int64_t job_id, std::optional<std::chrono::milliseconds> timeout,
    std::chrono::milliseconds poll, const std::function<void(const nlohmann::json&)>& on_poll = {});

// The rows of a GET /api/v1/runs/ID/samples page as samples, whatever order the page's
// `columns` give; returns how many. ClientError (status 0) when the page lacks a column or a
// row does not match its columns.
std::size_t for_each_page_sample(const nlohmann::json& page,
                                 const std::function<void(const store::ArchivedSample&)>& each);
// The same for a GET /api/v1/runs/ID/dmta page.
std::size_t for_each_page_dmta(const nlohmann::json& page,
                               const std::function<void(const store::ArchivedDmta&)>& each);

}  // namespace dmacycle::cli

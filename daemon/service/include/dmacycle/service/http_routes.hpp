#pragma once
#include <optional>
#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "dmacycle/service/http_server.hpp"
#include "dmacycle/service/tokens.hpp"

// Routing, authentication, audit and JSON errors of the API (docs/api.md), separate from the
// transport in http_server.cpp.
namespace dmacycle::service {

using HttpRequestHeader = boost::beast::http::request_header<>;
using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

// A response with the body {"error": message, "details": []}.
HttpResponse error_response(unsigned status, const std::string& message);

class Router {
  public:
    Router(JobService& jobs, const TokenStore& tokens, const HttpMetrics& metrics)
        : jobs_(jobs), tokens_(tokens), metrics_(metrics) {}

    // The refusal of a request from its header alone (bad target, no such route, method not
    // allowed, missing token or scope), so that the body of a request that will be refused is
    // never read; nullopt when the body may be read and the request handled. Never throws.
    std::optional<HttpResponse> admit(const HttpRequestHeader& header, const std::string& peer);
    // The answer to one request from `peer` ("ADDR:PORT"); never throws.
    HttpResponse handle(const HttpRequest& request, const std::string& peer);

  private:
    // Routes and authenticates; with `request` null, stops there (nullopt: admitted).
    std::optional<HttpResponse> dispatch(const HttpRequestHeader& header,
                                         const HttpRequest* request, const std::string& peer);
    // The token a route's scope needs into `token`, or the 401/403 that refuses the request.
    std::optional<HttpResponse> authenticate(const HttpRequestHeader& header, Scope scope,
                                             const Token*& token) const;

    JobService& jobs_;
    const TokenStore& tokens_;
    const HttpMetrics& metrics_;
};

}  // namespace dmacycle::service

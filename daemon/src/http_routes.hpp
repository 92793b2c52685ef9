#pragma once
#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "http_server.hpp"

// Routing, authentication, audit and JSON errors of the API (docs/api.md), separate from the
// transport in http_server.cpp.
namespace dmacycle::daemon {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

// A response with the body {"error": message, "details": []}.
HttpResponse error_response(unsigned status, const std::string& message);

class Router {
  public:
    Router(JobService& jobs, const TokenStore& tokens, const HttpMetrics& metrics)
        : jobs_(jobs), tokens_(tokens), metrics_(metrics) {}

    // The answer to one request from `peer` ("ADDR:PORT"); never throws.
    HttpResponse handle(const HttpRequest& request, const std::string& peer);

  private:
    JobService& jobs_;
    const TokenStore& tokens_;
    const HttpMetrics& metrics_;
};

}  // namespace dmacycle::daemon

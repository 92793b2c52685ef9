#include "dmacycle/service/http_routes.hpp"

#include <charconv>
#include <exception>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dmacycle/service/job_service.hpp"
#include "dmacycle/service/log.hpp"
#include "dmacycle/service/tokens.hpp"
#include "web_assets.hpp"

namespace dmacycle::service {
namespace {

namespace http = boost::beast::http;
using Json = nlohmann::json;

// A refusal decided here, before JobService is asked.
// Beast's string_view is Boost's; the code here uses the standard one.
std::string_view view(boost::beast::string_view text) {
    return {text.data(), text.size()};
}

struct Refusal {
    unsigned status;
    std::string message;
};

HttpResponse json_response(unsigned status, const Json& body) {
    HttpResponse response{static_cast<http::status>(status), 11};
    response.set(http::field::content_type, "application/json");
    // Replace, not throw: bodies quote request paths and job text, which may not be UTF-8.
    response.body() = body.dump(-1, ' ', false, Json::error_handler_t::replace);
    return response;
}

HttpResponse error_with_details(unsigned status, const std::string& message,
                                const std::vector<std::string>& details) {
    return json_response(status, Json{{"error", message}, {"details", details}});
}

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> segments;
    std::size_t start = 1;  // the path starts with '/'
    while (start <= path.size()) {
        const auto end = std::min(path.find('/', start), path.size());
        segments.push_back(path.substr(start, end - start));
        start = end + 1;
    }
    return segments;
}

// A whole decimal number in [min, max], or a 400 naming `what`.
std::int64_t parse_integer(std::string_view text, const std::string& what, std::int64_t min,
                           std::int64_t max) {
    std::int64_t value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < min ||
        value > max) {
        throw Refusal{400, what + ": '" + std::string(text) + "' is not a whole number from " +
                               std::to_string(min) + " to " + std::to_string(max)};
    }
    return value;
}

struct SamplesQuery {
    std::int64_t since = -1;
    std::int64_t limit = 10000;
    std::int64_t every = 1;
};

SamplesQuery parse_samples_query(std::string_view query) {
    SamplesQuery parsed;
    bool seen_since = false, seen_limit = false, seen_every = false;
    std::size_t start = 0;
    while (start < query.size()) {
        const auto end = std::min(query.find('&', start), query.size());
        const auto pair = query.substr(start, end - start);
        start = end + 1;
        const auto eq = pair.find('=');
        const auto name = pair.substr(0, eq);
        const auto value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        const auto once = [&](bool& seen) {
            if (seen) {
                throw Refusal{400, "query parameter '" + std::string(name) + "' given twice"};
            }
            seen = true;
        };
        if (name == "since") {
            once(seen_since);
            parsed.since = parse_integer(value, "query parameter 'since'", -1, INT64_MAX);
        } else if (name == "limit") {
            once(seen_limit);
            parsed.limit = parse_integer(value, "query parameter 'limit'", 1, 100000);
        } else if (name == "every") {
            once(seen_every);
            parsed.every = parse_integer(value, "query parameter 'every'", 1, INT64_MAX);
        } else {
            throw Refusal{400, "unknown query parameter '" + std::string(name) +
                                   "' (allowed: since, limit, every)"};
        }
    }
    return parsed;
}

// The dashboard's file at `path` ("/" is the page); null for any other path.
const WebAsset* find_web_asset(std::string_view path) {
    const auto wanted = path == "/" ? std::string_view("/index.html") : path;
    for (const auto& asset : web_assets()) {
        if (asset.path == wanted) {
            return &asset;
        }
    }
    return nullptr;
}

// A dashboard file with the headers of docs/api.md "Dashboard": the page runs only its own
// scripts and talks only to this origin, so a value the API returns can never run as code.
HttpResponse asset_response(const WebAsset& asset) {
    HttpResponse response{http::status::ok, 11};
    response.set(http::field::content_type,
                 boost::beast::string_view(asset.content_type.data(), asset.content_type.size()));
    // Revalidated at every load: a daemon upgrade shows its own page at once.
    response.set(http::field::cache_control, "no-cache");
    response.set("Content-Security-Policy",
                 "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
                 "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
                 "frame-ancestors 'none'");
    response.set("X-Content-Type-Options", "nosniff");
    response.set(http::field::x_frame_options, "DENY");
    response.set("Referrer-Policy", "no-referrer");
    response.body() = std::string(asset.body);
    return response;
}

bool is_text_content_type(std::string_view type) {
    const auto base = type.substr(0, type.find(';'));
    return base.empty() || base.starts_with("text/") || base == "application/yaml" ||
           base == "application/x-yaml";
}

}  // namespace

HttpResponse error_response(unsigned status, const std::string& message) {
    return error_with_details(status, message, {});
}

namespace {

// The answer when even building an error answer failed: fixed ASCII, no JSON library.
HttpResponse last_resort_500() {
    HttpResponse response{http::status::internal_server_error, 11};
    response.set(http::field::content_type, "application/json");
    response.body() = R"({"error": "the service failed; see its log", "details": []})";
    return response;
}

}  // namespace

std::optional<HttpResponse> Router::admit(const HttpRequestHeader& header,
                                          const std::string& peer) {
    try {
        return dispatch(header, nullptr, peer);
    } catch (...) {
        return last_resort_500();
    }
}

HttpResponse Router::handle(const HttpRequest& request, const std::string& peer) {
    try {
        return *dispatch(request, &request, peer);
    } catch (...) {
        return last_resort_500();
    }
}

namespace {

// What a route's handler is given. The handler runs once the request is admitted and read.
struct RouteCall {
    JobService& jobs;
    const HttpMetrics& metrics;
    const HttpRequest& request;
    std::string_view id;     // the path's {id} segment, "" when the pattern has none
    std::string_view query;  // after '?'
    std::string who;         // the token's name, "" without one
};

using Handler = HttpResponse (*)(const RouteCall&);

// One row of the API (docs/api.md): a method on a path pattern, whose {id} matches one segment,
// the scope its token needs (nullopt: none), and the handler.
struct RouteRow {
    http::verb method;
    std::string_view pattern;
    std::optional<Scope> scope;
    Handler handler;
};

void no_query(const RouteCall& call) {
    if (!call.query.empty()) {
        throw Refusal{400, "this route takes no query parameters"};
    }
}

std::int64_t id_of(const RouteCall& call, const std::string& what) {
    return parse_integer(call.id, "path parameter " + what, 1, INT64_MAX);
}

HttpResponse ok(const Json& body) {
    return json_response(200, body);
}

HttpResponse healthz(const RouteCall& call) {
    no_query(call);
    const Json health = call.jobs.health();
    return json_response(health.value("status", "") == "ok" ? 200 : 503, health);
}

HttpResponse metrics(const RouteCall& call) {
    no_query(call);
    HttpResponse response{http::status::ok, 11};
    response.set(http::field::content_type, "text/plain; version=0.0.4");
    response.body() = call.jobs.metrics() + call.metrics.prometheus_text();
    return response;
}

HttpResponse submit_job(const RouteCall& call) {
    no_query(call);
    const auto type = view(call.request[http::field::content_type]);
    const auto& body = call.request.body();
    if (!is_text_content_type(type) || body.find('\0') != std::string::npos) {
        throw Refusal{415,
                      "the job file must be YAML text (Content-Type text/* or application/yaml)"};
    }
    return json_response(201, call.jobs.submit(body, "api:" + call.who));
}

// Pages of a run's rows: ?since=SEQ&limit=N&every=K.
template <Json (JobService::*page)(std::int64_t, std::int64_t, std::int64_t, std::int64_t) const>
HttpResponse run_rows(const RouteCall& call) {
    const auto id = id_of(call, "run id");
    const auto q = parse_samples_query(call.query);
    return ok((call.jobs.*page)(id, q.since, q.limit, q.every));
}

constexpr auto get = http::verb::get;
constexpr auto post = http::verb::post;

const RouteRow routes[] = {
    {get, "/healthz", std::nullopt, healthz},
    {get, "/metrics", Scope::read, metrics},
    {get, "/api/v1/jobs", Scope::read,
     [](const RouteCall& c) { return no_query(c), ok(c.jobs.list_jobs()); }},
    {post, "/api/v1/jobs", Scope::submit, submit_job},
    {get, "/api/v1/jobs/{id}", Scope::read,
     [](const RouteCall& c) { return no_query(c), ok(c.jobs.job(id_of(c, "job id"))); }},
    {post, "/api/v1/jobs/{id}/pause", Scope::control,
     [](const RouteCall& c) { return no_query(c), ok(c.jobs.pause(id_of(c, "job id"))); }},
    {post, "/api/v1/jobs/{id}/resume", Scope::control,
     [](const RouteCall& c) { return no_query(c), ok(c.jobs.resume(id_of(c, "job id"))); }},
    {post, "/api/v1/jobs/{id}/abort", Scope::control,
     [](const RouteCall& c) {
         return no_query(c), ok(c.jobs.abort(id_of(c, "job id"), "api:" + c.who));
     }},
    {get, "/api/v1/runs/{id}", Scope::read,
     [](const RouteCall& c) { return no_query(c), ok(c.jobs.run(id_of(c, "run id"))); }},
    {get, "/api/v1/runs/{id}/samples", Scope::read, run_rows<&JobService::samples>},
    {get, "/api/v1/runs/{id}/dmta", Scope::read, run_rows<&JobService::dmta>},
    {get, "/api/v1/runs/{id}/results", Scope::read,
     [](const RouteCall& c) { return no_query(c), ok(c.jobs.results(id_of(c, "run id"))); }},
};

// `segments` against `pattern`; sets `id` to the segment {id} matched.
bool matches(std::string_view pattern, const std::vector<std::string_view>& segments,
             std::string_view& id) {
    const auto wanted = split_path(pattern);
    if (wanted.size() != segments.size()) {
        return false;
    }
    for (std::size_t k = 0; k < wanted.size(); ++k) {
        if (wanted[k] == "{id}") {
            id = segments[k];
        } else if (wanted[k] != segments[k]) {
            return false;
        }
    }
    return true;
}

// The outcome of matching a path: the methods it allows (for 405's Allow header) and, when the
// request's method is one of them, the row; or the dashboard's file at that path.
struct Match {
    std::string allow;
    const RouteRow* row = nullptr;
    std::string_view id;
    const WebAsset* asset = nullptr;
};

Match match(std::string_view path, http::verb verb) {
    const auto segments = split_path(path);
    Match found;
    for (const auto& row : routes) {
        std::string_view id;
        if (!matches(row.pattern, segments, id)) {
            continue;
        }
        found.allow += (found.allow.empty() ? "" : ", ") + std::string(http::to_string(row.method));
        if (row.method == verb) {
            found.row = &row;
            found.id = id;
        }
    }
    if (found.allow.empty()) {
        // No token: the files hold no data; the page asks the API with the user's token.
        found.asset = find_web_asset(path);
        if (found.asset != nullptr) {
            found.allow = "GET";
        }
    }
    return found;
}

}  // namespace

// The token a route's scope asks for, or the 401/403 that refuses the request.
std::optional<HttpResponse> Router::authenticate(const HttpRequestHeader& header, Scope scope,
                                                 const Token*& token) const {
    const auto authorization = view(header[http::field::authorization]);
    constexpr std::string_view bearer = "Bearer ";
    if (authorization.starts_with(bearer)) {
        token = tokens_.find(authorization.substr(bearer.size()));
    }
    if (!token) {
        auto response = error_response(401, "a valid bearer token is required");
        response.set(http::field::www_authenticate, "Bearer");
        return response;
    }
    if (!token->allows(scope)) {
        const char* const names[] = {"", "read", "submit", "", "control"};
        return error_response(403, "token '" + token->name + "' lacks the scope '" +
                                       names[static_cast<int>(scope)] + "'");
    }
    return std::nullopt;
}

std::optional<HttpResponse> Router::dispatch(const HttpRequestHeader& header,
                                             const HttpRequest* request, const std::string& peer) {
    const std::string_view target = view(header.target());
    const auto question = target.find('?');
    const auto path = target.substr(0, question);
    const auto query =
        question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
    const std::string method(header.method_string());
    const http::verb verb = header.method();
    const Token* token = nullptr;
    const auto audit = [&](unsigned status) {
        log::notice("audit: token=" + (token ? token->name : std::string("-")) +
                    " method=" + method + " path=" + std::string(path) + " peer=" + peer +
                    " status=" + std::to_string(status));
    };
    const auto audit_post = [&](unsigned status) {
        if (token && verb == http::verb::post) {
            audit(status);
        }
    };
    try {
        if (path.empty() || path.front() != '/') {
            throw Refusal{400, "request target must be an absolute path"};
        }
        const Match found = match(path, verb);
        if (found.allow.empty()) {
            throw Refusal{404, "no such route: " + std::string(path)};
        }
        if (found.row == nullptr && (found.asset == nullptr || verb != http::verb::get)) {
            auto response =
                error_response(405, "method " + method + " not allowed on " + std::string(path) +
                                        " (allowed: " + found.allow + ")");
            response.set(http::field::allow, found.allow);
            return response;
        }
        if (found.row != nullptr && found.row->scope) {
            if (auto refused = authenticate(header, *found.row->scope, token)) {
                audit(refused->result_int());
                return refused;
            }
        }
        if (!request) {
            return std::nullopt;  // admitted: the body may be read
        }
        const RouteCall call{jobs_,    metrics_, *request,
                             found.id, query,    token ? token->name : std::string()};
        if (found.row == nullptr) {
            no_query(call);
            return asset_response(*found.asset);
        }
        auto response = found.row->handler(call);
        audit_post(response.result_int());
        return response;
    } catch (const Refusal& refusal) {
        audit_post(refusal.status);
        return error_response(refusal.status, refusal.message);
    } catch (const ApiError& error) {
        audit_post(static_cast<unsigned>(error.status()));
        return error_with_details(static_cast<unsigned>(error.status()), error.what(),
                                  error.details());
    } catch (const std::exception& error) {
        log::error("http: " + method + " " + std::string(path) + " from " + peer +
                   " failed: " + error.what());
        audit_post(500);
        return error_response(500, "the service failed; see its log");
    }
}

}  // namespace dmacycle::service

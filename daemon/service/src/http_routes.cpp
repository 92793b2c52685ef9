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

// A matched route: the methods it accepts, the scope each needs, and the call for one method.
struct Route {
    std::string allow;                                      // for 405's Allow header
    std::function<std::optional<Scope>(http::verb)> scope;  // nullopt: no token needed
    std::function<HttpResponse(http::verb, const std::string& who)> call;
    bool found = false;
};

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

    try {
        if (path.empty() || path.front() != '/') {
            throw Refusal{400, "request target must be an absolute path"};
        }
        const auto segments = split_path(path);
        const auto get_only = [](http::verb v) -> std::optional<Scope> {
            return v == http::verb::get ? std::optional<Scope>(Scope::read) : std::nullopt;
        };
        const auto id_of = [&](std::string_view text, const std::string& what) {
            return parse_integer(text, "path parameter " + what, 1, INT64_MAX);
        };
        const auto no_query = [&] {
            if (!query.empty()) {
                throw Refusal{400, "this route takes no query parameters"};
            }
        };
        const auto json_ok = [](const Json& body) { return json_response(200, body); };

        Route route;
        const auto get_route = [&](std::function<Json()> answer, bool auth = true) {
            route.found = true;
            route.allow = "GET";
            route.scope = [auth](http::verb) -> std::optional<Scope> {
                return auth ? std::optional<Scope>(Scope::read) : std::nullopt;
            };
            route.call = [answer](http::verb, const std::string&) {
                return json_response(200, answer());
            };
        };
        const auto post_route = [&](Scope scope,
                                    std::function<HttpResponse(const std::string& who)> call) {
            route.found = true;
            route.allow = "POST";
            route.scope = [scope](http::verb) { return std::optional<Scope>(scope); };
            route.call = [call](http::verb, const std::string& who) { return call(who); };
        };
        const auto n = segments.size();
        const bool api = n >= 3 && segments[0] == "api" && segments[1] == "v1";

        if (n == 1 && segments[0] == "healthz") {
            route.found = true;
            route.allow = "GET";
            route.scope = [](http::verb) { return std::optional<Scope>(); };
            route.call = [&](http::verb, const std::string&) {
                no_query();
                Json health = jobs_.health();
                return json_response(health.value("status", "") == "ok" ? 200 : 503, health);
            };
        } else if (n == 1 && segments[0] == "metrics") {
            route.found = true;
            route.allow = "GET";
            route.scope = get_only;
            route.call = [&](http::verb, const std::string&) {
                no_query();
                HttpResponse response{http::status::ok, 11};
                response.set(http::field::content_type, "text/plain; version=0.0.4");
                response.body() = jobs_.metrics() + metrics_.prometheus_text();
                return response;
            };
        } else if (api && n == 3 && segments[2] == "jobs") {
            route.found = true;
            route.allow = "GET, POST";
            route.scope = [](http::verb v) {
                return std::optional<Scope>(v == http::verb::post ? Scope::submit : Scope::read);
            };
            route.call = [&](http::verb v, const std::string& who) {
                no_query();
                if (v == http::verb::get) {
                    return json_ok(jobs_.list_jobs());
                }
                const auto type = view(header[http::field::content_type]);
                const auto& body = request->body();
                if (!is_text_content_type(type) || body.find('\0') != std::string::npos) {
                    throw Refusal{415,
                                  "the job file must be YAML text (Content-Type text/* or "
                                  "application/yaml)"};
                }
                return json_response(201, jobs_.submit(body, "api:" + who));
            };
        } else if (api && n == 4 && segments[2] == "jobs") {
            const auto id_text = segments[3];
            get_route([&, id_text] {
                no_query();
                return jobs_.job(id_of(id_text, "job id"));
            });
        } else if (api && n == 5 && segments[2] == "jobs" &&
                   (segments[4] == "pause" || segments[4] == "resume" || segments[4] == "abort")) {
            const auto id_text = segments[3];
            const auto action = segments[4];
            post_route(Scope::control, [&, id_text, action](const std::string& who) {
                no_query();
                const auto id = id_of(id_text, "job id");
                if (action == "pause") {
                    return json_ok(jobs_.pause(id));
                }
                if (action == "resume") {
                    return json_ok(jobs_.resume(id));
                }
                return json_ok(jobs_.abort(id, "api:" + who));
            });
        } else if (api && n == 4 && segments[2] == "runs") {
            const auto id_text = segments[3];
            get_route([&, id_text] {
                no_query();
                return jobs_.run(id_of(id_text, "run id"));
            });
        } else if (api && n == 5 && segments[2] == "runs" &&
                   (segments[4] == "samples" || segments[4] == "dmta")) {
            const auto id_text = segments[3];
            const bool dmta = segments[4] == "dmta";
            get_route([&, id_text, dmta] {
                const auto id = id_of(id_text, "run id");
                const auto q = parse_samples_query(query);
                return dmta ? jobs_.dmta(id, q.since, q.limit, q.every)
                            : jobs_.samples(id, q.since, q.limit, q.every);
            });
        } else if (api && n == 5 && segments[2] == "runs" && segments[4] == "results") {
            const auto id_text = segments[3];
            get_route([&, id_text] {
                no_query();
                return jobs_.results(id_of(id_text, "run id"));
            });
        } else if (const WebAsset* asset = find_web_asset(path)) {
            // No token: the files hold no data; the page asks the API with the user's token.
            route.found = true;
            route.allow = "GET";
            route.scope = [](http::verb) { return std::optional<Scope>(); };
            route.call = [&, asset](http::verb, const std::string&) {
                no_query();
                return asset_response(*asset);
            };
        }

        if (!route.found) {
            throw Refusal{404, "no such route: " + std::string(path)};
        }
        const bool allowed =
            (route.allow.find("GET") != std::string::npos && verb == http::verb::get) ||
            (route.allow.find("POST") != std::string::npos && verb == http::verb::post);
        if (!allowed) {
            auto response =
                error_response(405, "method " + method + " not allowed on " + std::string(path) +
                                        " (allowed: " + route.allow + ")");
            response.set(http::field::allow, route.allow);
            return response;
        }

        const auto scope = route.scope(verb);
        if (scope) {
            const auto authorization = view(header[http::field::authorization]);
            constexpr std::string_view bearer = "Bearer ";
            if (authorization.starts_with(bearer)) {
                token = tokens_.find(authorization.substr(bearer.size()));
            }
            if (!token) {
                audit(401);
                auto response = error_response(401, "a valid bearer token is required");
                response.set(http::field::www_authenticate, "Bearer");
                return response;
            }
            if (!token->allows(*scope)) {
                audit(403);
                const char* const names[] = {"", "read", "submit", "", "control"};
                return error_response(403, "token '" + token->name + "' lacks the scope '" +
                                               names[static_cast<int>(*scope)] + "'");
            }
        }
        if (!request) {
            return std::nullopt;  // admitted: the body may be read
        }
        auto response = route.call(verb, token ? token->name : std::string());
        if (verb == http::verb::post) {
            audit(response.result_int());
        }
        return response;
    } catch (const Refusal& refusal) {
        if (token && verb == http::verb::post) {
            audit(refusal.status);
        }
        return error_response(refusal.status, refusal.message);
    } catch (const ApiError& error) {
        if (token && verb == http::verb::post) {
            audit(static_cast<unsigned>(error.status()));
        }
        return error_with_details(static_cast<unsigned>(error.status()), error.what(),
                                  error.details());
    } catch (const std::exception& error) {
        log::error("http: " + method + " " + std::string(path) + " from " + peer +
                   " failed: " + error.what());
        if (token && verb == http::verb::post) {
            audit(500);
        }
        return error_response(500, "the service failed; see its log");
    }
}

}  // namespace dmacycle::service

#include "dmacycle/service/tokens.hpp"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "dmacycle/io/csv_table.hpp"

namespace dmacycle::service {
namespace {

[[noreturn]] void fail(const std::string& source, const YAML::Node& node, const std::string& field,
                       const std::string& problem) {
    const int line = node.Mark().line >= 0 ? node.Mark().line + 1 : 1;
    throw io::InputError(source + ":" + std::to_string(line) + ": " + field + ": " + problem);
}

std::string scalar(const std::string& source, const YAML::Node& entry, const std::string& field,
                   const std::string& key) {
    const YAML::Node node = entry[key];
    if (!node) {
        fail(source, entry, field, "missing '" + key + "'");
    }
    if (!node.IsScalar() || node.Scalar().empty()) {
        fail(source, node, field + "." + key, "expected a non-empty string");
    }
    return node.Scalar();
}

Token read_token(const std::string& source, const YAML::Node& entry, const std::string& field) {
    if (!entry.IsMap()) {
        fail(source, entry, field, "expected a mapping with name, token, scopes");
    }
    for (const auto& item : entry) {
        const auto key = item.first.Scalar();
        if (key != "name" && key != "token" && key != "scopes") {
            fail(source, item.first, field + "." + key, "unknown field");
        }
    }
    Token token;
    token.name = scalar(source, entry, field, "name");
    token.secret = scalar(source, entry, field, "token");
    if (token.secret.size() < min_token_chars) {
        fail(source, entry["token"], field + ".token",
             "too short (" + std::to_string(token.secret.size()) + " characters, at least " +
                 std::to_string(min_token_chars) + ")");
    }
    for (const char c : token.secret) {
        // The token travels in an HTTP header: printable ASCII without spaces.
        if (c <= ' ' || c > '~') {
            fail(source, entry["token"], field + ".token",
                 "only printable ASCII without spaces is allowed");
        }
    }
    const YAML::Node scopes = entry["scopes"];
    if (!scopes) {
        fail(source, entry, field, "missing 'scopes'");
    }
    if (!scopes.IsSequence() || scopes.size() == 0) {
        fail(source, scopes, field + ".scopes", "expected a list of read, submit, control");
    }
    for (const auto& scope : scopes) {
        const std::string name = scope.IsScalar() ? scope.Scalar() : "";
        if (name == "read") {
            token.scopes |= static_cast<unsigned>(Scope::read);
        } else if (name == "submit") {
            token.scopes |= static_cast<unsigned>(Scope::submit);
        } else if (name == "control") {
            token.scopes |= static_cast<unsigned>(Scope::control);
        } else {
            fail(source, scope, field + ".scopes",
                 "unknown scope '" + name + "' (allowed: read, submit, control)");
        }
    }
    return token;
}

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) {
    // Every byte of `a` is looked at whatever b holds; a length difference only sets a bit.
    unsigned diff = a.size() == b.size() ? 0U : 1U;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const unsigned char other = i < b.size() ? static_cast<unsigned char>(b[i]) : 0U;
        diff |= static_cast<unsigned>(static_cast<unsigned char>(a[i]) ^ other);
    }
    return diff == 0;
}

TokenStore TokenStore::parse(const std::string& yaml_text, const std::string& source) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml_text);
    } catch (const YAML::Exception& error) {
        throw io::InputError(source + ":" + std::to_string(error.mark.line + 1) + ": " + error.msg);
    }
    if (!root.IsMap()) {
        fail(source, root, "<top>", "expected a mapping with 'tokens'");
    }
    for (const auto& item : root) {
        if (item.first.Scalar() != "tokens") {
            fail(source, item.first, item.first.Scalar(), "unknown field");
        }
    }
    const YAML::Node list = root["tokens"];
    if (!list || !list.IsSequence() || list.size() == 0) {
        fail(source, list ? list : root, "tokens", "expected a non-empty list of tokens");
    }
    TokenStore store;
    std::set<std::string> names;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string field = "tokens[" + std::to_string(i) + "]";
        Token token = read_token(source, list[i], field);
        if (!names.insert(token.name).second) {
            fail(source, list[i]["name"], field + ".name", "'" + token.name + "' used twice");
        }
        for (const auto& other : store.tokens_) {
            if (other.secret == token.secret) {
                fail(source, list[i]["token"], field + ".token",
                     "same token as '" + other.name + "'");
            }
        }
        store.tokens_.push_back(std::move(token));
    }
    return store;
}

TokenStore TokenStore::load(const std::filesystem::path& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        throw io::InputError(path.string() + ": cannot read the tokens file");
    }
    if ((info.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
        throw io::InputError(path.string() +
                             ": tokens file is accessible by group or others (mode " + mode +
                             "); make it private: chmod 600 " + path.string());
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw io::InputError(path.string() + ": cannot read the tokens file");
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse(text.str(), path.string());
}

const Token* TokenStore::find(std::string_view presented) const {
    const Token* found = nullptr;
    for (const auto& token : tokens_) {
        // No early exit: every token is compared whatever matched before.
        const bool equal = constant_time_equal(presented, token.secret);
        found = equal ? &token : found;
    }
    return found;
}

}  // namespace dmacycle::service

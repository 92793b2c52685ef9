// The bearer tokens file: every problem named with its line, permissions, scopes, matching.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "dmacycle/io/csv_table.hpp"
#include "dmacycle/service/tokens.hpp"

using dmacycle::io::InputError;
using dmacycle::service::constant_time_equal;
using dmacycle::service::Scope;
using dmacycle::service::TokenStore;
namespace fs = std::filesystem;

namespace {

const std::string alice_secret = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8";  // 36 characters
const std::string bob_secret = "0123456789abcdef0123456789abcdef";        // 32 characters

std::string two_tokens() {
    return "tokens:\n"
           "  - name: alice\n"
           "    token: \"" +
           alice_secret +
           "\"\n"
           "    scopes: [read, submit, control]\n"
           "  - name: bob\n"
           "    token: " +
           bob_secret +
           "\n"
           "    scopes: [read]\n";
}

// The message of the InputError that parsing `text` throws.
std::string refusal(const std::string& text) {
    try {
        TokenStore::parse(text, "tokens.yaml");
    } catch (const InputError& error) {
        return error.what();
    }
    FAIL("accepted: " << text);
    return "";
}

struct TempFile {
    fs::path path;
    explicit TempFile(const std::string& text) {
        std::random_device random;
        path =
            fs::temp_directory_path() / ("dmacycle-tokens-" + std::to_string(random()) + ".yaml");
        std::ofstream(path) << text;
    }
    ~TempFile() { fs::remove(path); }
};

}  // namespace

TEST_CASE("tokens: a valid file gives names, secrets and scopes") {
    const auto store = TokenStore::parse(two_tokens(), "tokens.yaml");
    REQUIRE(store.tokens().size() == 2);
    const auto& alice = store.tokens()[0];
    CHECK(alice.name == "alice");
    CHECK(alice.secret == alice_secret);
    CHECK(alice.allows(Scope::read));
    CHECK(alice.allows(Scope::submit));
    CHECK(alice.allows(Scope::control));
    const auto& bob = store.tokens()[1];
    CHECK(bob.allows(Scope::read));
    CHECK_FALSE(bob.allows(Scope::submit));
    CHECK_FALSE(bob.allows(Scope::control));
}

TEST_CASE("tokens: each problem is refused with file, line and field") {
    const std::string head = "tokens:\n  - name: alice\n";
    // The line of the problem is the line of the value at fault.
    CHECK(refusal(head + "    token: short\n    scopes: [read]\n") ==
          "tokens.yaml:3: tokens[0].token: too short (5 characters, at least 32)");
    CHECK(refusal(head + "    token: " + bob_secret + "\n    scopes: [read, admin]\n") ==
          "tokens.yaml:4: tokens[0].scopes: unknown scope 'admin' (allowed: read, submit, "
          "control)");
    CHECK(refusal(head + "    token: " + bob_secret + "\n") ==
          "tokens.yaml:2: tokens[0]: missing 'scopes'");
    CHECK(refusal(head + "    scopes: [read]\n") == "tokens.yaml:2: tokens[0]: missing 'token'");
    CHECK(refusal(head + "    token: " + bob_secret + "\n    scopes: []\n") ==
          "tokens.yaml:4: tokens[0].scopes: expected a list of read, submit, control");
    CHECK(refusal(head + "    token: " + bob_secret + "\n    scopes: [read]\n    role: x\n") ==
          "tokens.yaml:5: tokens[0].role: unknown field");
    CHECK(refusal(head + "    token: \"" + bob_secret + " x\"\n    scopes: [read]\n") ==
          "tokens.yaml:3: tokens[0].token: only printable ASCII without spaces is allowed");
    CHECK(refusal("tokens: []\n") == "tokens.yaml:1: tokens: expected a non-empty list of tokens");
    CHECK(refusal("users: []\n") == "tokens.yaml:1: users: unknown field");
    CHECK(refusal("- a\n") == "tokens.yaml:1: <top>: expected a mapping with 'tokens'");
    CHECK(refusal("tokens: [\n").starts_with("tokens.yaml:2: "));
    // Names and secrets must each be unique.
    const std::string twice_named = "tokens:\n  - {name: a, token: " + alice_secret +
                                    ", scopes: [read]}\n  - {name: a, token: " + bob_secret +
                                    ", scopes: [read]}\n";
    CHECK(refusal(twice_named) == "tokens.yaml:3: tokens[1].name: 'a' used twice");
    const std::string same_secret = "tokens:\n  - {name: a, token: " + bob_secret +
                                    ", scopes: [read]}\n  - {name: b, token: " + bob_secret +
                                    ", scopes: [read]}\n";
    CHECK(refusal(same_secret) == "tokens.yaml:3: tokens[1].token: same token as 'a'");
}

TEST_CASE("tokens: a file that group or others can access is refused, mode 600 is loaded") {
    const TempFile file(two_tokens());
    for (const fs::perms mode :
         {fs::perms(0644), fs::perms(0640), fs::perms(0604), fs::perms(0620), fs::perms(0601)}) {
        fs::permissions(file.path, mode);
        CAPTURE(static_cast<int>(mode));
        try {
            TokenStore::load(file.path);
            FAIL("loaded despite its mode");
        } catch (const InputError& error) {
            const std::string message = error.what();
            CHECK(message.starts_with(file.path.string() + ": tokens file is accessible by "
                                                           "group or others"));
            CHECK(message.find("chmod 600") != std::string::npos);
            // The refusal never shows a token.
            CHECK(message.find(alice_secret) == std::string::npos);
        }
    }
    fs::permissions(file.path, fs::perms(0600));
    CHECK(TokenStore::load(file.path).tokens().size() == 2);
    fs::permissions(file.path, fs::perms(0400));
    CHECK(TokenStore::load(file.path).tokens().size() == 2);
}

TEST_CASE("tokens: a missing file is refused by name") {
    CHECK_THROWS_WITH_AS(TokenStore::load("/nonexistent/tokens.yaml"),
                         "/nonexistent/tokens.yaml: cannot read the tokens file", InputError);
}

TEST_CASE("tokens: matching needs the whole secret, and finds the first and the last token") {
    const auto store = TokenStore::parse(two_tokens(), "tokens.yaml");
    REQUIRE(store.find(alice_secret) != nullptr);
    CHECK(store.find(alice_secret)->name == "alice");
    REQUIRE(store.find(bob_secret) != nullptr);
    CHECK(store.find(bob_secret)->name == "bob");
    CHECK(store.find("") == nullptr);
    CHECK(store.find(bob_secret.substr(0, 31)) == nullptr);  // a prefix
    CHECK(store.find(bob_secret + "0") == nullptr);          // one character more
    std::string last_differs = alice_secret;
    last_differs.back() = 'x';
    CHECK(store.find(last_differs) == nullptr);
    std::string first_differs = alice_secret;
    first_differs.front() = 'x';
    CHECK(store.find(first_differs) == nullptr);
}

TEST_CASE("tokens: constant_time_equal looks at every byte and at the lengths") {
    CHECK(constant_time_equal("", ""));
    CHECK(constant_time_equal("abc", "abc"));
    CHECK_FALSE(constant_time_equal("abc", "abd"));
    CHECK_FALSE(constant_time_equal("xbc", "abc"));
    CHECK_FALSE(constant_time_equal("ab", "abc"));
    CHECK_FALSE(constant_time_equal("abc", "ab"));
    CHECK_FALSE(constant_time_equal("", "a"));
    // A NUL where the shorter string ends must not make them equal.
    CHECK_FALSE(constant_time_equal(std::string_view("ab\0", 3), "ab"));
    CHECK_FALSE(constant_time_equal("ab", std::string_view("ab\0", 3)));
}

TEST_CASE("tokens: no refusal quotes a secret it read") {
    // Each file holds a secret beside the problem; the message names the field, not the value.
    const std::string secret = "s3cr3t-0123456789abcdef0123456789abcdef";
    const std::string entry = "  - {name: a, token: " + secret + ", scopes: [read]}\n";
    for (const std::string& text :
         {"tokens:\n  - {name: a, token: \"" + secret + " x\", scopes: [read]}\n",
          "tokens:\n  - {name: a, token: " + secret + ", scopes: [root]}\n",
          "tokens:\n  - {name: a, token: " + secret + ", scopes: [read], role: " + secret + "}\n",
          "tokens:\n  - {name: a, token: " + secret + "}\n",
          "tokens:\n" + entry + "  - {name: b, token: " + secret + ", scopes: [read]}\n",
          "tokens:\n" + entry + "  - {name: a, token: " + bob_secret + ", scopes: [read]}\n",
          "tokens:\n" + entry + "  - {name: b, token: [" + secret + "\n",
          "tokens:\n  - {name: a, token: \"" + secret + "\x01\", scopes: [read]}\n"}) {
        CAPTURE(text);
        const auto message = refusal(text);
        CHECK(message.find(secret.substr(0, 16)) == std::string::npos);
        CHECK(message.find(secret.substr(secret.size() - 16)) == std::string::npos);
    }
}

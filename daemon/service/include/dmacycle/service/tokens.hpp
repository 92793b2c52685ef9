#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

// Bearer tokens for the HTTP API (docs/service.md "HTTP and tokens"): a YAML file
//   tokens: [{name: alice, token: "...", scopes: [read, submit, control]}]
// kept unreadable by group and others.
namespace dmacycle::service {

enum class Scope { read = 1, submit = 2, control = 4 };

struct Token {
    std::string name;     // what audit lines and job sources show
    std::string secret;   // never logged
    unsigned scopes = 0;  // bit set of Scope

    bool allows(Scope scope) const { return (scopes & static_cast<unsigned>(scope)) != 0; }
};

// A token shorter than this is refused: guessing it must not be practical.
inline constexpr std::size_t min_token_chars = 32;

// True when a and b are equal, in a time that depends only on their lengths, not on where they
// differ.
bool constant_time_equal(std::string_view a, std::string_view b);

class TokenStore {
  public:
    // Throws InputError "SOURCE:LINE: field: problem" on anything wrong in the text.
    static TokenStore parse(const std::string& yaml_text, const std::string& source);
    // Also refuses a file that group or others may read or write (mode & 077).
    static TokenStore load(const std::filesystem::path& path);

    // The token whose secret equals `presented`, or nullptr. Compares against every token
    // without stopping at a match, so the time taken does not tell which token (if any) was
    // close.
    const Token* find(std::string_view presented) const;
    const std::vector<Token>& tokens() const { return tokens_; }

  private:
    std::vector<Token> tokens_;
};

}  // namespace dmacycle::service

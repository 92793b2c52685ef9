#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "dmacycle/cli/api_client.hpp"
#include "dmacycle/io/arguments.hpp"

// What the client commands of dmacycled share (client_commands.cpp, export_command.cpp): their
// options, the connection to the server, and errors as messages and exit codes.
namespace dmacycle::cli {

struct Command {
    const char* name;  // its usage and help: help.hpp
    std::set<std::string> valued, flags;
};

// What the user gave for the connection, kept to explain a 401 or 403 without the token.
struct Connection {
    ApiClient client;
    std::string token_source;  // empty when no token was given
};

// The server (--server, DMACYCLE_SERVER, else the default) and the token (--token-file, else
// DMACYCLE_TOKEN) the user gave.
Connection connect(const io::Arguments& arguments);

// Parses the options common to every client command and the command's own, then runs `body`,
// which connects (fills `connection`) when it needs the server; errors become messages on `err`
// and exit codes (commands.hpp).
int guarded_command(
    const Command& command, std::span<const std::string_view> args, std::ostream& err,
    const std::function<int(const io::Arguments&, std::optional<Connection>&)>& body);

// The one positional argument, a job or run id.
std::int64_t the_id(const io::Arguments& arguments, const char* what);

}  // namespace dmacycle::cli

#include "dmacycle/drivers/scpi.hpp"

#include <charconv>
#include <cmath>

namespace dmacycle::drivers {
ScpiClient::ScpiClient(LineChannel& channel, ScpiOptions options)
    : channel_(channel), options_(std::move(options)) {}

Clock::duration ScpiClient::peer_starved() const {
    return options_.peer_starved ? options_.peer_starved() : Clock::duration{};
}

std::string ScpiClient::query(std::string_view query) {
    const auto started = peer_starved();
    const Deadline deadline = deadline_in(options_.exchange_timeout);
    channel_.send(query, deadline);
    return read_reply(query, deadline, started);
}

std::string ScpiClient::read_reply(std::string_view query, Deadline deadline,
                                   Clock::duration started) {
    while (true) {
        std::string line;
        try {
            line = channel_.read_line(deadline);
        } catch (const DriverError& error) {
            // The time the peer could not run does not count: wait that much longer (the
            // channel keeps a partial line).
            if (const auto starved = peer_starved();
                error.kind() == ErrorKind::timeout && starved > started) {
                deadline += starved - started;
                started = starved;
                continue;
            }
            throw DriverError(error.kind(), std::string(error.what()) +
                                                " (waiting for the reply to '" +
                                                std::string(query) + "')");
        }
        if (line.starts_with(options_.stream_prefix)) {
            keep_stream_line(std::move(line));
            continue;
        }
        return line;
    }
}

void ScpiClient::command(std::string_view command) {
    command_unless(command, 0);
}

bool ScpiClient::command_unless(std::string_view command, int accepted_refusal) {
    const auto started = peer_starved();
    const Deadline deadline = deadline_in(options_.exchange_timeout);
    channel_.send(command, deadline);
    channel_.send(options_.error_query, deadline);
    const std::string first = read_reply(options_.error_query, deadline, started);
    const int code = parse_scpi_error_code(first, channel_.name() + ": " + options_.error_query);
    if (code == 0) {
        return true;
    }
    // Empty the rest of the queue so the next command starts clean; bounded by the queue size.
    for (int i = 0; i < 32; ++i) {
        const std::string more = query(options_.error_query);
        if (parse_scpi_error_code(more, channel_.name() + ": " + options_.error_query) == 0) {
            break;
        }
    }
    if (code == accepted_refusal) {
        return false;
    }
    throw DriverError(ErrorKind::device, channel_.name() + ": '" + std::string(command) +
                                             "' refused: " + printable(first));
}

std::vector<std::string> ScpiClient::read_stream(Deadline deadline) {
    std::vector<std::string> lines = take_stream_lines();
    // Wait only when nothing is at hand; then take everything already received, what the
    // socket holds included (a read that does not wait), up to max_stream_read lines: one
    // chunk a call would cap the stream at a chunk a beat, and the instrument's buffer would
    // overflow behind it. A wake() ends it like a wait.
    Deadline until = lines.empty() ? deadline : Deadline{};
    while (lines.size() < options_.max_stream_read) {
        // A quiet stream is not an error here: staleness is the caller's.
        auto line = channel_.wait_line(until);
        if (!line) {
            break;
        }
        until = Deadline{};
        // A garbled line (or a late reply) costs itself, not the good lines around it: the
        // sample numbers show the loss and the count says why.
        if (!line->starts_with(options_.stream_prefix)) {
            ++unexpected_stream_lines_;
            continue;
        }
        lines.push_back(std::move(*line));
    }
    return lines;
}

std::vector<std::string> ScpiClient::take_stream_lines() {
    std::vector<std::string> lines(std::make_move_iterator(stream_.begin()),
                                   std::make_move_iterator(stream_.end()));
    stream_.clear();
    return lines;
}

void ScpiClient::keep_stream_line(std::string line) {
    if (stream_.size() >= options_.max_stream_backlog) {
        stream_.pop_front();
    }
    stream_.push_back(std::move(line));
}

int parse_scpi_error_code(std::string_view reply, std::string_view where) {
    int code = 0;
    const auto comma = reply.find(',');
    const auto [end, ec] = std::from_chars(reply.data(), reply.data() + reply.size(), code);
    if (ec != std::errc() || comma == std::string_view::npos || end != reply.data() + comma ||
        reply.size() < comma + 3 || reply[comma + 1] != '"' || reply.back() != '"') {
        throw DriverError(
            ErrorKind::protocol,
            std::string(where) + ": expected code,\"text\", got '" + printable(reply) + "'");
    }
    return code;
}

std::vector<double> parse_numbers(std::string_view reply, std::size_t count,
                                  std::string_view where) {
    std::vector<double> values;
    std::string_view rest = reply;
    while (true) {
        const auto comma = rest.find(',');
        const std::string_view field = rest.substr(0, comma);
        double value = 0;
        const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
        if (field.empty() || ec != std::errc() || end != field.data() + field.size() ||
            !std::isfinite(value)) {
            throw DriverError(ErrorKind::protocol,
                              std::string(where) + ": field " + std::to_string(values.size() + 1) +
                                  " is not a number in '" + printable(reply) + "'");
        }
        values.push_back(value);
        if (comma == std::string_view::npos) {
            break;
        }
        rest = rest.substr(comma + 1);
    }
    if (values.size() != count) {
        throw DriverError(ErrorKind::protocol, std::string(where) + ": expected " +
                                                   std::to_string(count) + " numbers, got " +
                                                   std::to_string(values.size()) + " in '" +
                                                   printable(reply) + "'");
    }
    return values;
}

}  // namespace dmacycle::drivers

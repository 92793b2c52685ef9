#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "dmacycle/drivers/peer_starvation.hpp"
#include "dmacycle/drivers/transport.hpp"

// SCPI-style command/response over a LineChannel (docs/frame-protocol.md): every command is
// followed by an error-queue query, and streamed lines (a configurable prefix, "S," here) that
// arrive between replies are set aside for the stream reader instead of being taken as replies.
namespace dmacycle::drivers {

struct ScpiOptions {
    std::chrono::milliseconds exchange_timeout{1000};  // one question and its answer
    PeerStarvation peer_starved;  // an exchange's deadline moves by what the peer was starved
    std::string error_query = "SYST:ERR?";
    std::string stream_prefix = "S,";
    // Lines held for the reader; beyond it the oldest go, which the sample numbers then show.
    std::size_t max_stream_backlog = 1'000'000;
    // Lines one read_stream takes at most, so a stream faster than its consumer cannot hold
    // the reader (and the device) for good.
    std::size_t max_stream_read = 32'768;
};

class ScpiClient {
  public:
    ScpiClient(LineChannel& channel, ScpiOptions options = {});

    // The reply to query; throws timeout/link/protocol (garbled lines do not look like replies
    // reliably, so callers parse and report what they got).
    std::string query(std::string_view query);
    // Sends command, then pops the error queue until "0,...": throws device naming the
    // command and the instrument's first error.
    void command(std::string_view command);
    // The same, but a refusal with code `accepted_refusal` returns false instead of throwing.
    bool command_unless(std::string_view command, int accepted_refusal);
    // Waits until deadline for streamed lines; returns what arrived (maybe nothing) and every
    // line already received after it, up to max_stream_read. Other lines arriving here
    // (garbled, late replies) are dropped and counted.
    std::vector<std::string> read_stream(Deadline deadline);
    // From any thread: a read_stream waiting now (or the next one) returns at once.
    void wake() noexcept { channel_.wake(); }
    std::uint64_t unexpected_stream_lines() const { return unexpected_stream_lines_; }
    // Streamed lines set aside while waiting for replies, oldest first.
    std::vector<std::string> take_stream_lines();

  private:
    // started: the exchange's start, for the peer's starvation since then.
    std::string read_reply(std::string_view query, Deadline deadline, Clock::duration started);
    Clock::duration peer_starved() const;
    void keep_stream_line(std::string line);

    LineChannel& channel_;
    ScpiOptions options_;
    std::deque<std::string> stream_;
    std::uint64_t unexpected_stream_lines_ = 0;
};

// "code,\"text\"" → code; throws protocol for anything else.
int parse_scpi_error_code(std::string_view reply, std::string_view where);
// Comma-separated decimal numbers, exactly count of them; throws protocol naming where.
std::vector<double> parse_numbers(std::string_view reply, std::size_t count,
                                  std::string_view where);

}  // namespace dmacycle::drivers

#pragma once
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dmacycle/sim/instrument.hpp"

// One client's conversation with the simulated load frame: the SCPI-style command set of
// docs/frame-protocol.md. Transport-free: lines in, lines out; the servers move the bytes.
namespace dmacycle::sim {

// Misbehaviour on demand (SIMulate:FAULt:...), acted out by the transport.
struct FrameFaults {
    unsigned drop_changes = 0;           // +1 per DROP or CLEar: the transport (re)arms or cancels
    std::optional<double> drop_after_s;  // wall seconds from the command until the link drops
    bool mute = false;                   // read commands, answer nothing
    double delay_s = 0;                  // every reply this late (wall seconds)
    bool half_line = false;              // next reply: its first half, no terminator
    bool garble = false;                 // next line (a reply or a stream sample): scrambled
};

struct FrameReply {
    std::vector<std::string> lines;      // without terminators
    std::optional<double> not_before_s;  // *OPC?: send only once simulated time reaches this
};

class FrameSession {
  public:
    static constexpr double default_dmta_amplitude_m = 5e-6;  // after *RST

    explicit FrameSession(Instrument& instrument);

    FrameReply handle(std::string_view line);

    // Streaming: samples are due every period from the moment STREam:STARt was accepted.
    bool streaming() const { return streaming_; }
    void stop_streaming() { streaming_ = false; }
    double next_sample_s() const { return next_sample_s_; }
    std::string take_sample();  // the line of the sample due at next_sample_s()
    void skip_sample();         // drops it unmeasured: the sequence number shows the gap

    FrameFaults& faults() { return faults_; }
    // After a SIMulate:PEER:... command: the SIMulate:FAULt line for every other frame
    // connection open now (the transport passes it on), once.
    std::optional<std::string> take_peer_fault() { return std::exchange(peer_fault_, {}); }
    // For errors the transport detects (an overlong line); SYSTem:ERRor? reports them.
    void push_error(int code, std::string_view message);

    struct Command;  // one row of the command table

  private:
    static std::span<const Command> table();
    FrameReply dispatch(std::string_view header, bool query, std::string_view args);

    // Handlers, one per table row.
    FrameReply idn(std::vector<double>);
    FrameReply rst(std::vector<double>);
    FrameReply cls(std::vector<double>);
    FrameReply opc(std::vector<double>);
    FrameReply error_query(std::vector<double>);
    FrameReply time_query(std::vector<double>);
    FrameReply set_width(std::vector<double>);
    FrameReply set_thickness(std::vector<double>);
    FrameReply set_length(std::vector<double>);
    FrameReply width(std::vector<double>);
    FrameReply thickness(std::vector<double>);
    FrameReply length(std::vector<double>);
    FrameReply stress_ramp(std::vector<double>);
    FrameReply force_ramp(std::vector<double>);
    FrameReply program_ramp(std::vector<double>);
    FrameReply program_dwell(std::vector<double>);
    FrameReply program_cycle(std::vector<double>);
    FrameReply program_cut(std::vector<double>);
    FrameReply hold(std::vector<double>);
    FrameReply pretension(std::vector<double>);
    FrameReply state(std::vector<double>);
    FrameReply measure(std::vector<double>);
    FrameReply set_stream_rate(std::vector<double>);
    FrameReply stream_rate(std::vector<double>);
    FrameReply stream_start(std::vector<double>);
    FrameReply stream_stop(std::vector<double>);
    FrameReply set_frequency(std::vector<double>);
    FrameReply frequency(std::vector<double>);
    FrameReply dmta_measure(std::vector<double>);
    FrameReply set_amplitude(std::vector<double>);
    FrameReply amplitude(std::vector<double>);
    FrameReply set_beta_energy(std::vector<double>);
    FrameReply beta_energy(std::vector<double>);
    FrameReply fault_drop(std::vector<double>);
    FrameReply fault_mute(std::vector<double>);
    FrameReply fault_delay(std::vector<double>);
    FrameReply fault_half(std::vector<double>);
    FrameReply fault_garble(std::vector<double>);
    FrameReply fault_trip(std::vector<double>);
    FrameReply fault_clear(std::vector<double>);
    FrameReply peer_drop(std::vector<double>);
    FrameReply peer_mute(std::vector<double>);
    FrameReply peer_delay(std::vector<double>);
    FrameReply peer_half(std::vector<double>);
    FrameReply peer_garble(std::vector<double>);
    FrameReply peer_trip(std::vector<double>);
    FrameReply peer_clear(std::vector<double>);
    FrameReply furnace_drop(std::vector<double>);
    FrameReply furnace_delay(std::vector<double>);
    FrameReply furnace_garble(std::vector<double>);
    FrameReply delivered_samples(std::vector<double>);
    FrameReply sensor_break(std::vector<double>);
    FrameReply furnace_exception(std::vector<double>);
    FrameReply new_sample(std::vector<double>);

    FrameReply ramp_to_force(double target_n, double rate_n_s);
    bool stress_allowed(double stress_pa) const;
    // Room for more segments lasting more_s seconds in all.
    bool program_fits(std::size_t more, double more_s) const;
    FrameReply out_of_range();

    Instrument& instrument_;
    std::deque<std::string> errors_;
    bool streaming_ = false;
    double stream_rate_hz_ = 10.0;
    double next_sample_s_ = 0;
    std::uint64_t sequence_ = 0;
    double dmta_frequency_hz_ = 1.0;
    double dmta_amplitude_m_ = default_dmta_amplitude_m;
    bool tripped_ = false;
    FrameFaults faults_;
    std::optional<std::string> peer_fault_;
};

}  // namespace dmacycle::sim

#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "dmacycle/drivers/error.hpp"

// The load frame as the rest of dmacycle sees it: a small core interface plus optional
// capabilities (stress program, sample stream, oscillation) so the core does not keep growing.
// Calls throw DriverError; SI units throughout.
namespace dmacycle::drivers {

struct FrameGeometry {
    double width_m = 0;
    double thickness_m = 0;
    double gauge_length_m = 0;
};

struct FrameMeasurement {
    double t_s = 0;  // instrument time
    double force_n = 0;
    double displacement_m = 0;
    double temperature_k = 0;
};

struct FrameState {
    std::string mode;  // RAMP, HOLD or TRIP
    double stress_pa = 0;
    double target_pa = 0;
};

// One streamed sample as the instrument numbered it on the current link.
struct RawSample {
    std::uint64_t link_seq = 0;
    FrameMeasurement value;
};

struct DmtaMeasurement {
    double t_s = 0;
    double frequency_hz = 0;
    double temperature_k = 0;
    double storage_pa = 0;
    double loss_pa = 0;
    double tan_delta = 0;
};

class StressProgram {
  public:
    virtual ~StressProgram() = default;
    virtual void program_ramp(double target_pa, double rate_pa_s) = 0;
    virtual void program_dwell(double duration_s) = 0;
    virtual void program_cycle(double min_pa, double max_pa, double rate_pa_s, int count) = 0;
    // Makes the program end at instrument time t_s (docs/frame-protocol.md, PROGram:CUT): the
    // part after t_s is dropped and the stress there held; appended segments start at t_s.
    // false when the frame refused because t_s has passed (its clock may run ahead of the
    // samples read so far): nothing changed, try a later instant.
    virtual bool program_cut(double t_s) = 0;
};

class SampleStream {
  public:
    virtual ~SampleStream() = default;
    virtual void set_stream_rate(double rate_hz) = 0;
    virtual void start_stream() = 0;
    virtual void stop_stream() = 0;
    // Samples received until deadline (none if the instrument is quiet). Lines that do not
    // parse are counted in malformed_samples() and skipped: the sequence gap shows the loss.
    virtual std::vector<RawSample> read_samples(Deadline deadline) = 0;
    // From any thread: a read_samples waiting now (or the next one) returns at once.
    virtual void wake() noexcept {}
    virtual std::uint64_t malformed_samples() const = 0;
    // Samples received on the link that just failed but not yet read (set aside while waiting
    // for a reply): call before connecting again, so they are not lost with the old link.
    virtual std::vector<RawSample> take_pending_samples() { return {}; }
};

class Oscillation {
  public:
    virtual ~Oscillation() = default;
    virtual void set_oscillation_frequency(double frequency_hz) = 0;
    // Peak displacement of the oscillation, m (a small one: the modulus is measured in the
    // linear range).
    virtual void set_oscillation_amplitude(double amplitude_m) = 0;
    // E′, E″, tan δ at the set frequency and the sample temperature now.
    virtual DmtaMeasurement measure_dynamic() = 0;
};

class FrameDriver {
  public:
    virtual ~FrameDriver() = default;
    virtual void connect(Deadline deadline) = 0;
    virtual void disconnect() noexcept = 0;
    virtual std::string identify() = 0;  // maker,model,serial,firmware
    virtual void configure_geometry(const FrameGeometry& geometry) = 0;
    virtual void ramp_stress(double target_pa, double rate_pa_s) = 0;
    virtual void ramp_force(double target_n, double rate_n_s) = 0;
    virtual void hold() = 0;  // stop where it is
    virtual void pretension(double force_n) = 0;
    virtual FrameState state() = 0;
    virtual FrameMeasurement measure() = 0;

    // Capabilities; nullptr when the model lacks one.
    virtual StressProgram* program() { return nullptr; }
    virtual SampleStream* stream() { return nullptr; }
    virtual Oscillation* oscillation() { return nullptr; }
};

}  // namespace dmacycle::drivers

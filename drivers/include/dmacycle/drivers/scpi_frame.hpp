#pragma once
#include <memory>
#include <string_view>
#include <vector>

#include "dmacycle/drivers/connection_uri.hpp"
#include "dmacycle/drivers/load_frame.hpp"
#include "dmacycle/drivers/scpi.hpp"

// Load frames that speak SCPI-style lines (docs/frame-protocol.md). A model is a row of
// command templates ("{}" takes the next argument); adding a model adds a row, not code.
namespace dmacycle::drivers {

struct FrameCommandSet {
    std::string_view model;
    std::string_view identify;
    std::string_view width;  // each takes one value in metres
    std::string_view thickness;
    std::string_view gauge_length;
    std::string_view stress_ramp;  // target_pa, rate_pa_s
    std::string_view force_ramp;   // target_n, rate_n_s
    std::string_view hold;
    std::string_view pretension;  // force_n
    std::string_view state;       // reply: mode,stress_pa,target_pa
    std::string_view measure;     // reply: t_s,force_n,displacement_m,temperature_k
    std::string_view program_ramp;
    std::string_view program_dwell;
    std::string_view program_cycle;  // min_pa,max_pa,rate_pa_s,count ("" = no program)
    std::string_view program_cut;    // t_s; refused with -222 when t_s has passed
    std::string_view stream_rate;    // "" = no stream
    double stream_rate_max_hz = 0;   // the fastest stream the model sends
    std::string_view stream_start;
    std::string_view stream_stop;
    std::string_view oscillation_frequency;  // "" = no oscillation
    std::string_view oscillation_amplitude;  // amplitude_m
    std::string_view dynamic_measure;        // t_s,f_hz,temperature_k,E',E'',tan δ
};

// The known models; nullptr for an unknown name.
const FrameCommandSet* find_frame_commands(std::string_view model);
std::vector<std::string_view> frame_command_models();

struct ScpiFrameOptions {
    ScpiOptions scpi;
    LineOptions line;
};

class ScpiFrame final : public FrameDriver,
                        public StressProgram,
                        public SampleStream,
                        public Oscillation {
  public:
    ScpiFrame(const ConnectionUri& uri, const FrameCommandSet& commands,
              ScpiFrameOptions options = {});
    // Over a transport of the caller's (the fuzz targets feed the instrument's bytes from memory).
    ScpiFrame(std::unique_ptr<Transport> transport, const FrameCommandSet& commands,
              ScpiFrameOptions options = {});

    void connect(Deadline deadline) override;
    void disconnect() noexcept override;
    std::string identify() override;
    void configure_geometry(const FrameGeometry& geometry) override;
    void ramp_stress(double target_pa, double rate_pa_s) override;
    void ramp_force(double target_n, double rate_n_s) override;
    void hold() override;
    void pretension(double force_n) override;
    FrameState state() override;
    FrameMeasurement measure() override;

    StressProgram* program() override;
    SampleStream* stream() override;
    Oscillation* oscillation() override;

    void program_ramp(double target_pa, double rate_pa_s) override;
    void program_dwell(double duration_s) override;
    void program_cycle(double min_pa, double max_pa, double rate_pa_s, int count) override;
    bool program_cut(double t_s) override;

    void set_stream_rate(double rate_hz) override;
    void start_stream() override;
    void stop_stream() override;
    std::vector<RawSample> read_samples(Deadline deadline) override;
    void wake() noexcept override { scpi_.wake(); }
    std::uint64_t malformed_samples() const override {
        return malformed_ + scpi_.unexpected_stream_lines();
    }
    std::vector<RawSample> take_pending_samples() override;

    void set_oscillation_frequency(double frequency_hz) override;
    void set_oscillation_amplitude(double amplitude_m) override;
    DmtaMeasurement measure_dynamic() override;

    // For the tests and the simulator's fault switches: a raw exchange on this link.
    std::string query(std::string_view line) { return scpi_.query(line); }
    void command(std::string_view line) { scpi_.command(line); }

  private:
    void require(std::string_view command, const char* what) const;
    std::vector<RawSample> parse_samples(const std::vector<std::string>& lines);

    const FrameCommandSet& commands_;
    ScpiFrameOptions options_;
    LineChannel channel_;
    ScpiClient scpi_;
    std::uint64_t malformed_ = 0;
};

// "{}" placeholders replaced in order by the numbers, in round-trip precision.
std::string fill_command(std::string_view pattern, std::initializer_list<double> values);

}  // namespace dmacycle::drivers

// The SCPI frame driver on bytes from a hostile or broken instrument: the line layer
// (framing, CR stripping, overlong lines), the client (reply vs streamed line, error queue)
// and ScpiFrame's reply parsing. The fuzz input is everything the instrument sends; the
// driver's commands go nowhere. Byte 0 picks the read chunking and how the link ends.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "dmacycle/drivers/scpi_frame.hpp"
#include "driver_attempt.hpp"

namespace {

using namespace dmacycle::drivers;

// Serves the input in chunks, then ends like a closed peer (link) or a silent one (timeout).
class MemoryTransport final : public Transport {
  public:
    MemoryTransport(std::string_view bytes, std::size_t chunk, bool ends_silent)
        : bytes_(bytes), chunk_(chunk), ends_silent_(ends_silent) {}
    void open(Deadline) override { open_ = true; }
    void close() noexcept override { open_ = false; }
    bool is_open() const override { return open_; }
    void write(std::string_view, Deadline) override {}
    std::size_t read_some(std::span<char> into, Deadline) override {
        if (bytes_.empty()) {
            throw DriverError(ends_silent_ ? ErrorKind::timeout : ErrorKind::link, name_ + ": end");
        }
        const std::size_t n = std::min({into.size(), chunk_, bytes_.size()});
        bytes_.copy(into.data(), n);
        bytes_.remove_prefix(n);
        return n;
    }
    void discard_input() override {}  // what a real link flushes predates the conversation
    const std::string& name() const override { return name_; }

  private:
    std::string_view bytes_;
    std::size_t chunk_;
    bool ends_silent_;
    bool open_ = false;
    std::string name_ = "fuzz://frame";
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) {
        return 0;
    }
    const std::size_t chunk = 1 + (data[0] & 0x3F) * 64;  // 1 byte up to a whole read buffer
    const bool ends_silent = (data[0] & 0x40) != 0;
    const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

    // The free parsers on the whole input as one reply.
    fuzz::attempt([&] { parse_scpi_error_code(bytes, "fuzz"); });
    fuzz::attempt([&] { parse_numbers(bytes, 4, "fuzz"); });

    ScpiFrameOptions options;
    options.line.max_line_bytes = 256;  // reachable with the fuzzer's input sizes
    options.scpi.max_stream_backlog = 8;
    ScpiFrame frame(std::make_unique<MemoryTransport>(bytes, chunk, ends_silent),
                    *find_frame_commands("dmacycle-scpi"), options);
    fuzz::attempt([&] { frame.connect(deadline_in(std::chrono::seconds(1))); });
    fuzz::attempt([&] { frame.identify(); });
    fuzz::attempt([&] { frame.configure_geometry({1e-3, 20e-6, 10e-3}); });
    fuzz::attempt([&] { frame.state(); });
    fuzz::attempt([&] { frame.measure(); });
    fuzz::attempt([&] { frame.program_cut(12.5); });
    fuzz::attempt([&] { frame.measure_dynamic(); });
    fuzz::attempt([&] { frame.start_stream(); });
    for (int i = 0; i < 4; ++i) {
        fuzz::attempt([&] { frame.read_samples(deadline_in(std::chrono::seconds(1))); });
    }
    fuzz::attempt([&] { frame.stop_stream(); });
    fuzz::attempt([&] { frame.take_pending_samples(); });
    return 0;
}

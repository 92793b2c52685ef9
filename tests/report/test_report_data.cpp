// A report's reading of a stored run (daemon/report/src/report_data.hpp): one pass over the
// samples that keeps what the figures draw, so its memory is bounded whatever the run's length
// (issue 19). The heap is counted by replacing operator new in this test binary only.
#include <doctest/doctest.h>
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>

#include "dmacycle/store/run_archive.hpp"
#include "dmacycle/store/sample_store.hpp"
#include "report_data.hpp"
#include "temp_dir.hpp"

namespace {

std::atomic<bool> counting{false};
std::atomic<long long> live_bytes{0}, peak_bytes{0};

void note_allocation(void* p) {
    if (p && counting.load(std::memory_order_relaxed)) {
        const long long now = live_bytes += static_cast<long long>(malloc_usable_size(p));
        long long peak = peak_bytes.load();
        while (now > peak && !peak_bytes.compare_exchange_weak(peak, now)) {
        }
    }
}

}  // namespace

void* operator new(std::size_t size) {
    void* p = std::malloc(size ? size : 1);
    if (!p) {
        throw std::bad_alloc();
    }
    note_allocation(p);
    return p;
}

void operator delete(void* p) noexcept {
    if (p && counting.load(std::memory_order_relaxed)) {
        live_bytes -= static_cast<long long>(malloc_usable_size(p));
    }
    std::free(p);
}

void operator delete(void* p, std::size_t) noexcept {
    operator delete(p);
}

// The nothrow forms too (std::stable_sort's buffer): a sanitizer's own would pair with ours.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    void* p = std::malloc(size ? size : 1);
    note_allocation(p);
    return p;
}

void operator delete(void* p, const std::nothrow_t&) noexcept {
    operator delete(p);
}

TEST_SUITE_BEGIN("report");

using namespace dmacycle;
using test_support::TempDir;

namespace {

constexpr double pa_per_mpa = 1e6;

// A run of `count` samples at 10 Hz: a 10-minute hold, then cycling 0-200 MPa (8-minute
// triangle) with one strain spike at its middle, then a recovery relaxing as an exponential.
struct LongRun {
    std::int64_t count;
    std::int64_t hold = 6000, cycling, spike;
    double spike_strain = 0.05;
    explicit LongRun(std::int64_t samples)
        : count(samples), cycling((samples - hold) / 2), spike(hold + cycling / 2) {}

    store::SampleRow row(std::int64_t seq) const {
        store::SampleRow r;
        r.seq = seq;
        r.t_s = 0.1 * static_cast<double>(seq);
        r.segment = seq < hold ? "hold" : seq < hold + cycling ? "cycle" : "recovery";
        if (r.segment == "cycle") {
            const double phase = std::fmod(r.t_s - 600.0, 480.0) / 480.0;
            r.stress_pa = 200 * pa_per_mpa * (1 - std::abs(2 * phase - 1));
            r.strain = r.stress_pa / 60e9 + (seq == spike ? spike_strain : 0.0);
        } else if (r.segment == "recovery") {
            const double since = 0.1 * static_cast<double>(seq - hold - cycling);
            r.strain = 1e-3 + 2e-3 * std::exp(-since / 3000.0);
        }
        return r;
    }

    void write(const std::string& path) const {
        store::SampleStore out(path, {.sync_each_commit = false});
        const auto run = out.create_run({"job", "long", "sim-la30", "test", "sim"});
        for (std::int64_t seq = 0; seq < count; ++seq) {
            out.append(run, row(seq));
        }
        out.flush();
    }
};

struct Loaded {
    report::RunData data;
    long long peak_heap_bytes;
};

Loaded load(const std::string& path) {
    const store::RunArchive archive(path);
    live_bytes = 0;
    peak_bytes = 0;
    counting = true;
    auto data = report::load_run(archive, 1);
    counting = false;
    return {std::move(data), peak_bytes.load()};
}

}  // namespace

TEST_CASE("a long run is read in bounded memory and keeps what its figures draw") {
    TempDir dir("dmacycle-report-data");
    const LongRun short_run(30'000), long_run(300'000);
    short_run.write((dir.path / "short.db").string());
    long_run.write((dir.path / "long.db").string());
    const auto small = load((dir.path / "short.db").string());
    const auto big = load((dir.path / "long.db").string());

    SUBCASE("memory and points kept do not grow with the run's length") {
        CHECK(big.data.samples == 300'000);
        // Every sample kept would be 300,000 × 24 B = 7.2 MB of points alone.
        CHECK(big.peak_heap_bytes < 3'000'000);
        CHECK(big.data.trace.size() <= 6 * 4096);
        CHECK(big.data.trace.size() < 2 * small.data.trace.size());
        // A log-time axis from 1 µs: at most 1000 points a decade over ~10 decades.
        CHECK(big.data.recovery_curve.size() < 12'000);
    }

    SUBCASE("the envelope keeps the extremes: the spike and every cycle's peak stress") {
        const auto& trace = big.data.trace;
        const auto highest = std::max_element(trace.begin(), trace.end(),
                                              [](auto& a, auto& b) { return a.strain < b.strain; });
        CHECK(highest->t_s == doctest::Approx(0.1 * static_cast<double>(long_run.spike)));
        CHECK(highest->strain > long_run.spike_strain);
        const auto peaks = std::count_if(trace.begin(), trace.end(), [](const auto& p) {
            return p.stress_pa > 199.9 * pa_per_mpa;
        });
        const auto cycles =
            static_cast<std::int64_t>(0.1 * static_cast<double>(long_run.cycling) / 480.0);
        CHECK(peaks >= cycles);
        CHECK(std::is_sorted(trace.begin(), trace.end(),
                             [](const auto& a, const auto& b) { return a.t_s < b.t_s; }));
    }

    SUBCASE("spans, the recovery's ends and its log-spaced curve are the samples'") {
        const auto& d = big.data;
        REQUIRE(d.spans.size() == 3);
        CHECK(d.spans[1].name == "cycle");
        CHECK(d.spans[1].samples == long_run.cycling);
        CHECK(d.zero_s == doctest::Approx(600.0));
        CHECK(d.condition == "0\u2013200 MPa");
        REQUIRE(d.recovery);
        const auto first = long_run.row(long_run.hold + long_run.cycling);
        const auto last = long_run.row(long_run.count - 1);
        CHECK(d.recovery->t_start_s == first.t_s);
        CHECK(d.recovery->strain_first == first.strain);
        CHECK(d.recovery->t_end_s == last.t_s);
        CHECK(d.recovery->strain_last == last.strain);
        const auto& curve = d.recovery_curve;
        REQUIRE(curve.size() > 100);
        CHECK(curve.front().first == 0.0);
        const auto step_of = [](double t) { return std::floor(std::log10(t / 1e-6) * 1000); };
        for (std::size_t i = 1; i < curve.size(); ++i) {
            // Each kept point is a sample of the curve, and the first of its log step.
            CHECK(curve[i].second ==
                  doctest::Approx(1e-3 + 2e-3 * std::exp(-curve[i].first / 3000.0)));
            if (i > 1) {
                CHECK(step_of(curve[i].first) > step_of(curve[i - 1].first));
            }
        }
    }
}

#pragma once
// Wall-clock waits in tests, widened for slow builds: scripts/check sets
// DMACYCLE_TEST_TIME_SCALE (e.g. 4) for its sanitizer runs, which run several times slower.
// Only "give up after" waits and upper bounds on how long a step took use it, never a wait in
// which nothing must happen (a read that must time out).
#include <chrono>
#include <cstdlib>

namespace test_support {

inline double time_scale() {
    static const double scale = [] {
        const char* text = std::getenv("DMACYCLE_TEST_TIME_SCALE");
        const double value = text != nullptr ? std::atof(text) : 1.0;
        return value > 1.0 ? value : 1.0;
    }();
    return scale;
}

// `wait` times the scale.
template <class Rep, class Period>
std::chrono::milliseconds scaled(std::chrono::duration<Rep, Period> wait) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::duration<double, std::milli>(wait) * time_scale());
}

// An upper bound on how long a step took, widened the same way. At scale 1 (Release) the bound
// still tells a step cut at its deadline from one that waited for a late reply; a sanitizer
// run, on a loaded machine, checks only that the step ended.
inline double scaled_s(double bound_s) {
    return bound_s * time_scale();
}

}  // namespace test_support

#include <doctest/doctest.h>

#include "dmacycle/protocols/units.hpp"

using namespace dmacycle::protocols;

TEST_CASE("quantities convert to SI") {
    CHECK(*parse_quantity("92 °C", Dimension::temperature).si == doctest::Approx(365.15));
    CHECK(*parse_quantity("92 degC", Dimension::temperature).si == doctest::Approx(365.15));
    CHECK(*parse_quantity("365 K", Dimension::temperature).si == 365.0);
    CHECK(*parse_quantity("1 °C", Dimension::temperature_difference).si == 1.0);
    CHECK(*parse_quantity("30 µm", Dimension::length).si == doctest::Approx(30e-6));
    CHECK(*parse_quantity("30um", Dimension::length).si == doctest::Approx(30e-6));
    CHECK(*parse_quantity("1.2 mm", Dimension::length).si == doctest::Approx(1.2e-3));
    CHECK(*parse_quantity("50 MPa/min", Dimension::stress_rate).si == doctest::Approx(50e6 / 60));
    CHECK(*parse_quantity("2 MPa/s", Dimension::stress_rate).si == doctest::Approx(2e6));
    CHECK(*parse_quantity("200 MPa", Dimension::stress).si == doctest::Approx(200e6));
    CHECK(*parse_quantity("250 kPa", Dimension::stress).si == doctest::Approx(250e3));
    CHECK(*parse_quantity("10 mN", Dimension::force).si == doctest::Approx(0.01));
    CHECK(*parse_quantity("8 h", Dimension::time).si == 28800.0);
    CHECK(*parse_quantity("10 min", Dimension::time).si == 600.0);
    CHECK(*parse_quantity("1e8 s", Dimension::time).si == 1e8);
    CHECK(*parse_quantity("6.3 g/cm3", Dimension::density).si == doctest::Approx(6300));
    CHECK(*parse_quantity("5 %", Dimension::strain).si == doctest::Approx(0.05));
    CHECK(*parse_quantity("2 K/min", Dimension::temperature_rate).si == doctest::Approx(2.0 / 60));
    CHECK(*parse_quantity("2 °C/min", Dimension::temperature_rate).si == doctest::Approx(2.0 / 60));
    CHECK(*parse_quantity("0.5 K/s", Dimension::temperature_rate).si == 0.5);
    CHECK(*parse_quantity("8 Hz", Dimension::frequency).si == 8.0);
    CHECK(*parse_quantity("0.2 kHz", Dimension::frequency).si == doctest::Approx(200));
}

TEST_CASE("quantities without a known unit are refused with the allowed units") {
    const auto bare = parse_quantity("200", Dimension::stress);
    CHECK_FALSE(bare.si);
    CHECK(bare.problem.find("missing unit") != std::string::npos);
    CHECK(bare.problem.find("MPa, kPa, Pa") != std::string::npos);
    const auto wrong = parse_quantity("200 GPa", Dimension::stress);
    CHECK_FALSE(wrong.si);
    CHECK(wrong.problem.find("unknown unit 'GPa'") != std::string::npos);
    CHECK_FALSE(parse_quantity("fast", Dimension::stress_rate).si);
    CHECK_FALSE(parse_quantity("", Dimension::time).si);
    CHECK_FALSE(parse_quantity("inf s", Dimension::time).si);
    CHECK_FALSE(parse_quantity("nan s", Dimension::time).si);
    // A unit of another dimension is not silently accepted.
    CHECK_FALSE(parse_quantity("3 N", Dimension::stress).si);
    CHECK_FALSE(parse_quantity("2 K", Dimension::temperature_rate).si);
    CHECK_FALSE(parse_quantity("1 s", Dimension::frequency).si);
}

TEST_CASE("formatting converts back from SI") {
    CHECK(format_quantity(365.15, "°C", Dimension::temperature) == "92 °C");
    CHECK(format_quantity(480, "min", Dimension::time) == "8 min");
    CHECK(format_quantity(0.05, "%", Dimension::strain) == "5%");
}

TEST_CASE("both micro signs, a leading plus, and non-finite numbers said as such") {
    // U+00B5 MICRO SIGN and U+03BC GREEK SMALL LETTER MU look alike; keyboards give either.
    CHECK(*parse_quantity("30 \u00b5m", Dimension::length).si == doctest::Approx(30e-6));
    CHECK(*parse_quantity("30 \u03bcm", Dimension::length).si == doctest::Approx(30e-6));
    CHECK(*parse_quantity("+10 min", Dimension::time).si == 600.0);
    CHECK(*parse_quantity("+.5 K", Dimension::temperature_difference).si == 0.5);
    CHECK_FALSE(parse_quantity("+ 10 min", Dimension::time).si);
    CHECK_FALSE(parse_quantity("++10 min", Dimension::time).si);
    for (const char* text : {"1e400 MPa", "1e-400 MPa", ".inf MPa", "-.inf MPa", "+.inf MPa",
                             ".nan MPa", "inf MPa", "NaN MPa", "Infinity MPa", "infMPa"}) {
        CAPTURE(text);
        const auto parsed = parse_quantity(text, Dimension::stress);
        CHECK_FALSE(parsed.si);
        CHECK(parsed.problem.find("is not a finite number") != std::string::npos);
    }
    CHECK_FALSE(parse_quantity("info MPa", Dimension::stress).si);
}

// The reply parsers on malformed input: every one a clear protocol error, none a crash.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "dmacycle/drivers/scpi.hpp"

using namespace dmacycle::drivers;

namespace {

std::string error_of_numbers(const std::string& reply, std::size_t count) {
    try {
        parse_numbers(reply, count, "MEAS?");
    } catch (const DriverError& error) {
        CHECK(error.kind() == ErrorKind::protocol);
        return error.what();
    }
    return "<no error>";
}

}  // namespace

TEST_CASE("scpi parsing: numbers") {
    CHECK(parse_numbers("1.5,-2e-3,0,365", 4, "x") == std::vector<double>{1.5, -2e-3, 0, 365});
    CHECK(error_of_numbers("1,2,3", 4) == "MEAS?: expected 4 numbers, got 3 in '1,2,3'");
    CHECK(error_of_numbers("1,2,3,4,5", 4) == "MEAS?: expected 4 numbers, got 5 in '1,2,3,4,5'");
    CHECK(error_of_numbers("", 1) == "MEAS?: field 1 is not a number in ''");
    CHECK(error_of_numbers("1,,3", 3) == "MEAS?: field 2 is not a number in '1,,3'");
    CHECK(error_of_numbers("1,2,", 3) == "MEAS?: field 3 is not a number in '1,2,'");
    CHECK(error_of_numbers("1, 2", 2) == "MEAS?: field 2 is not a number in '1, 2'");
    CHECK(error_of_numbers("1,2N", 2) == "MEAS?: field 2 is not a number in '1,2N'");
    CHECK(error_of_numbers("nan", 1) == "MEAS?: field 1 is not a number in 'nan'");
    CHECK(error_of_numbers("inf", 1) == "MEAS?: field 1 is not a number in 'inf'");
    CHECK(error_of_numbers("1e999", 1) == "MEAS?: field 1 is not a number in '1e999'");
    // Unprintable bytes (a garbled line) are shown escaped, and long replies cut.
    CHECK(error_of_numbers(std::string("\x01\xff", 2), 1) ==
          "MEAS?: field 1 is not a number in '\\x01\\xff'");
    CHECK(error_of_numbers(std::string(500, 'x'), 1).size() < 120);
}

TEST_CASE("scpi parsing: error-queue replies") {
    CHECK(parse_scpi_error_code("0,\"No error\"", "q") == 0);
    CHECK(parse_scpi_error_code("-222,\"Data out of range\"", "q") == -222);
    for (const std::string bad :
         {"", "0", "0,", "0,No error", "x,\"a\"", "0 ,\"a\"", "0,\"a", "1.5,\"a\"", ",\"a\""}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(parse_scpi_error_code(bad, "q"), DriverError);
    }
}

TEST_CASE("printable: peer bytes in messages are ASCII, escaped and bounded") {
    CHECK(printable("HOLD,1,2") == "HOLD,1,2");
    CHECK(printable(std::string_view("a\xff\x00\n\x7f", 5)) == "a\\xff\\x00\\x0a\\x7f");
    CHECK(printable(std::string(100, 'x'), 10) == std::string(10, 'x') + "...");
    try {
        parse_scpi_error_code("\xc3\x28", "SYST:ERR?");
        FAIL("not an error-queue reply");
    } catch (const DriverError& error) {
        CHECK(std::string(error.what()).find("got '\\xc3('") != std::string::npos);
    }
}

// The service log's escaping of control characters (daemon/service/src/log.cpp).
#include <doctest/doctest.h>

#include "dmacycle/service/log.hpp"

using dmacycle::service::log::escape_controls;

TEST_CASE("log: control characters are escaped so one message stays one line") {
    CHECK(escape_controls("spool: job.yaml rejected") == "spool: job.yaml rejected");
    CHECK(escape_controls("x\n<3>forged") == "x\\n<3>forged");
    CHECK(escape_controls("a\rb\tc") == "a\\rb\\tc");
    CHECK(escape_controls(std::string_view("\0\x01\x1f\x7f", 4)) == "\\x00\\x01\\x1f\\x7f");
    // A backslash is doubled, so an escape in the text cannot pass for one made here.
    CHECK(escape_controls("C:\\n") == "C:\\\\n");
    // Bytes from 0x80 up (UTF-8, or not) are left as they are.
    CHECK(escape_controls("caf\xc3\xa9 \xff") == "caf\xc3\xa9 \xff");
}

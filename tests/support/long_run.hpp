#pragma once
// `TEST_CASE("…" * long_run)`: a long run whose threads shorter tests run too. ctest labels it
// `long`, and the TSan stage of scripts/check leaves it out, as it would find nothing new there.
#include <doctest/doctest.h>

inline const doctest::test_suite long_run{"long"};

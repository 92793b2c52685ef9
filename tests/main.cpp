// doctest's main, refusing a run in which no test case ran: ctest runs each case by name, and a
// name that does not reach doctest whole (a `;` or `,` splits it in CMake) must fail, not pass.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

namespace {

int test_cases_run = 0;

struct CountRuns : doctest::IReporter {
    explicit CountRuns(const doctest::ContextOptions&) {}
    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_run_end(const doctest::TestRunStats&) override {}
    void test_case_start(const doctest::TestCaseData&) override { ++test_cases_run; }
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats&) override {}
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}
    void test_case_skipped(const doctest::TestCaseData&) override {}
};

REGISTER_LISTENER("count_runs", 1, CountRuns);

}  // namespace

int main(int argc, char** argv) {
    doctest::Context context(argc, argv);
    const int result = context.run();
    if (context.shouldExit()) {  // --help, --list-test-cases, ...
        return result;
    }
    if (test_cases_run == 0) {
        std::fprintf(stderr, "no test case matched: a filter naming none is a broken test\n");
        return result == 0 ? 1 : result;
    }
    return result;
}

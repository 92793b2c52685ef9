// The sample codes (store::codec): any finite values come back bit for bit, the instrument's
// short decimals as small integers, and the `samples` view's SQL decodes the codes to the same
// bits and wall-clock text as the C++ decoder and UtcText (against the SQLite this links).
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <bit>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "dmacycle/store/run_archive.hpp"
#include "dmacycle/store/sample_codec.hpp"
#include "dmacycle/store/sample_store.hpp"
#include "temp_dir.hpp"

using namespace dmacycle::store;
using codec::same_bits;

namespace {

// A finite double from random bits: any exponent, subnormals, both zeros.
double any_finite(std::mt19937_64& random) {
    while (true) {
        const double x = std::bit_cast<double>(random());
        if (std::isfinite(x)) {
            return x;
        }
    }
}

// A value as the instrument's text gives it: `digits` significant digits, parsed.
double instrument_value(std::mt19937_64& random, int digits) {
    std::uniform_real_distribution<double> mantissa(1, 10);
    std::uniform_int_distribution<int> exponent(-6, 2);
    const double sign = random() % 2 == 0 ? 1 : -1;
    const double x = sign * mantissa(random) * std::pow(10.0, exponent(random));
    char text[64];
    const auto end =
        std::to_chars(text, text + sizeof text, x, std::chars_format::scientific, digits - 1);
    double parsed = 0;
    std::from_chars(text, end.ptr, parsed);
    return parsed;
}

bool same_values(const codec::Values& a, const codec::Values& b) {
    return same_bits(a.t_s, b.t_s) && a.wall_ms == b.wall_ms &&
           same_bits(a.temperature_k, b.temperature_k) && same_bits(a.force_n, b.force_n) &&
           same_bits(a.displacement_m, b.displacement_m) && same_bits(a.stress_pa, b.stress_pa) &&
           same_bits(a.strain, b.strain);
}

constexpr std::int64_t wall_2026_ms = 1'796'000'000'123;

codec::RunLine main_job_line() {
    return {.step_us = 100'000, .cross_section_m2 = 1.2e-3 * 30e-6, .gauge_length_m = 10e-3};
}

// The main job's sample `seq` at 10 Hz: instrument decimals, the runner's stress and strain.
codec::Values main_job_sample(std::mt19937_64& random, std::int64_t seq) {
    const auto line = main_job_line();
    std::uniform_int_distribution<int> jitter(0, 3);
    codec::Values values;
    values.t_s = static_cast<double>(seq * 100'000 + jitter(random)) / 1e6;
    values.wall_ms = wall_2026_ms + std::llround(values.t_s * 1000) + jitter(random);
    values.temperature_k = static_cast<double>(365'000 + jitter(random)) / 1e3;  // "365.003"
    values.force_n = instrument_value(random, 7);
    values.displacement_m = instrument_value(random, 9);
    values.stress_pa = values.force_n / line.cross_section_m2;
    values.strain = values.displacement_m / line.gauge_length_m;
    return values;
}

}  // namespace

TEST_CASE("any finite values come back bit for bit from their codes") {
    std::mt19937_64 random(19);
    for (int i = 0; i < 200'000; ++i) {
        codec::RunLine line = main_job_line();
        if (i % 3 == 0) {
            line = {.first_seq = 7, .step_us = static_cast<std::int64_t>(random() % 2'000'000)};
        }
        codec::Values values{.t_s = std::fmod(any_finite(random), codec::max_abs_t_s),
                             .wall_ms = static_cast<std::int64_t>(random() % (1LL << 52)),
                             .temperature_k = any_finite(random),
                             .force_n = any_finite(random),
                             .displacement_m = any_finite(random),
                             .stress_pa = any_finite(random),
                             .strain = any_finite(random)};
        const auto seq = static_cast<std::int64_t>(random() >> 1);
        line = codec::with_origin(line, static_cast<std::int64_t>(random() >> 1), values);
        const auto back = codec::decode(line, seq, codec::encode(line, seq, values));
        REQUIRE_MESSAGE(same_values(back, values), "case " << i);
    }
}

TEST_CASE("edge values: signed zeros, subnormals, 17 digits, the 2^48 limit, huge seq gaps") {
    const double edges[] = {0.0,
                            -0.0,
                            std::numeric_limits<double>::denorm_min(),
                            -std::numeric_limits<double>::min(),
                            std::numeric_limits<double>::max(),
                            0.1 + 0.2,
                            1.0 / 3.0,
                            0x1p48,
                            -0x1p48 + 1,
                            0x1p47 + 0.5,
                            281474976.7106559,
                            1e-15,
                            -123.456};
    const codec::RunLine line = main_job_line();
    for (const double x : edges) {
        CAPTURE(x);
        CHECK(same_bits(codec::cell_value(codec::value_cell(x)), x));
        for (const std::int64_t seq :
             {std::int64_t{0}, std::int64_t{1} << 62, std::numeric_limits<std::int64_t>::max()}) {
            const codec::Values values{.t_s = std::fmod(x, 1e11),
                                       .wall_ms = -5,
                                       .temperature_k = x,
                                       .force_n = x,
                                       .displacement_m = -x,
                                       .stress_pa = x / 3,
                                       .strain = -x};
            CHECK(same_values(codec::decode(line, seq, codec::encode(line, seq, values)), values));
        }
    }
    CHECK(!codec::decimal_code(-0.0));  // stored as the REAL -0.0, whose sign it keeps
    CHECK(codec::decimal_code(-123.456) == -123456 * 16 + 3);
    CHECK(!codec::whole_us(0.1 + 0.2));
    CHECK(!codec::whole_us(codec::max_abs_t_s));
    CHECK(codec::sql_integer(1e300) == std::numeric_limits<std::int64_t>::max());
    CHECK(codec::sql_integer(-2.9) == -2);
}

TEST_CASE("the instrument's decimals and the runner's stress and strain take small codes") {
    std::mt19937_64 random(5);
    const auto line = codec::with_origin(main_job_line(), 0, main_job_sample(random, 0));
    for (std::int64_t seq = 0; seq < 10'000; ++seq) {
        const auto values = main_job_sample(random, seq);
        const auto codes = codec::encode(line, seq, values);
        REQUIRE(std::holds_alternative<std::int64_t>(codes.t));
        CHECK(std::get<std::int64_t>(codes.t) < 8);
        CHECK(codes.wall < 8);
        for (const auto* cell : {&codes.temperature, &codes.force, &codes.displacement}) {
            REQUIRE(std::holds_alternative<std::int64_t>(*cell));
            CHECK(std::llabs(std::get<std::int64_t>(*cell)) < (1LL << 48));
        }
        CHECK(!codes.stress);
        CHECK(!codes.strain);
    }
}

namespace {

// The view's tables in a memory database: a run with `line`, one segment, its codes.
class ViewDb {
  public:
    explicit ViewDb(const codec::RunLine& line) {
        REQUIRE(sqlite3_open(":memory:", &db_) == SQLITE_OK);
        exec(
            "CREATE TABLE runs (id INTEGER PRIMARY KEY, first_seq INTEGER, first_t_us INTEGER, "
            "first_wall_ms INTEGER, sample_step_us INTEGER, cross_section_m2 REAL, "
            "gauge_length_m REAL); CREATE TABLE segments (id INTEGER PRIMARY KEY, name TEXT); "
            "INSERT INTO segments VALUES (3, 'cycle'); CREATE TABLE sample_rows (run_id, seq, "
            "t_code, wall_code, segment_id, temperature_code, force_code, displacement_code, "
            "stress_pa, strain, PRIMARY KEY (run_id, seq)) WITHOUT ROWID;" +
            codec::samples_view_sql());
        sqlite3_stmt* run = prepare("INSERT INTO runs VALUES (1, ?, ?, ?, ?, ?, ?)");
        sqlite3_bind_int64(run, 1, line.first_seq);
        sqlite3_bind_int64(run, 2, line.first_t_us);
        sqlite3_bind_int64(run, 3, line.first_wall_ms);
        sqlite3_bind_int64(run, 4, line.step_us);
        sqlite3_bind_double(run, 5, line.cross_section_m2);
        sqlite3_bind_double(run, 6, line.gauge_length_m);
        REQUIRE(sqlite3_step(run) == SQLITE_DONE);
        sqlite3_finalize(run);
        insert_ = prepare("INSERT INTO sample_rows VALUES (1, ?, ?, ?, 3, ?, ?, ?, ?, ?)");
    }
    ~ViewDb() {
        sqlite3_finalize(insert_);
        sqlite3_close(db_);
    }
    ViewDb(const ViewDb&) = delete;
    ViewDb& operator=(const ViewDb&) = delete;

    void insert(std::int64_t seq, const codec::Codes& codes) {
        sqlite3_bind_int64(insert_, 1, seq);
        bind(2, codes.t);
        sqlite3_bind_int64(insert_, 3, codes.wall);
        bind(4, codes.temperature);
        bind(5, codes.force);
        bind(6, codes.displacement);
        bind(7, codes.stress);
        bind(8, codes.strain);
        REQUIRE(sqlite3_step(insert_) == SQLITE_DONE);
        sqlite3_reset(insert_);
    }

    // Every row of the view: its values, and its wall-clock text.
    template <class Each>
    void for_each(Each each) {
        sqlite3_stmt* select = prepare(
            "SELECT seq, t_s, t_wall_utc, temperature_k, force_n, displacement_m, stress_pa, "
            "strain FROM samples WHERE run_id = 1 ORDER BY seq");
        while (sqlite3_step(select) == SQLITE_ROW) {
            codec::Values values{.t_s = sqlite3_column_double(select, 1),
                                 .temperature_k = sqlite3_column_double(select, 3),
                                 .force_n = sqlite3_column_double(select, 4),
                                 .displacement_m = sqlite3_column_double(select, 5),
                                 .stress_pa = sqlite3_column_double(select, 6),
                                 .strain = sqlite3_column_double(select, 7)};
            const auto* wall = reinterpret_cast<const char*>(sqlite3_column_text(select, 2));
            each(sqlite3_column_int64(select, 0), values, std::string(wall ? wall : "NULL"));
        }
        sqlite3_finalize(select);
    }

  private:
    void exec(const std::string& sql) {
        char* error = nullptr;
        REQUIRE_MESSAGE(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK,
                        (error ? error : ""));
    }
    sqlite3_stmt* prepare(const std::string& sql) {
        sqlite3_stmt* statement = nullptr;
        REQUIRE_MESSAGE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK,
                        sqlite3_errmsg(db_));
        return statement;
    }
    void bind(int index, const codec::Cell& cell) {
        if (const auto* code = std::get_if<std::int64_t>(&cell)) {
            sqlite3_bind_int64(insert_, index, *code);
        } else {
            sqlite3_bind_double(insert_, index, std::get<double>(cell));
        }
    }
    void bind(int index, const std::optional<double>& value) {
        if (value) {
            sqlite3_bind_double(insert_, index, *value);
        } else {
            sqlite3_bind_null(insert_, index);
        }
    }

    sqlite3* db_ = nullptr;
    sqlite3_stmt* insert_ = nullptr;
};

std::string utc_text(std::int64_t ms) {
    return std::string(UtcText(WallClock::time_point(std::chrono::milliseconds(ms))).view());
}

// Checks every row of `db` against `written` (by seq from 0), bit for bit and as UtcText.
void check_view(ViewDb& db, const std::vector<codec::Values>& written) {
    std::size_t rows = 0;
    db.for_each([&](std::int64_t seq, codec::Values read, const std::string& wall) {
        const auto& expected = written.at(static_cast<std::size_t>(seq));
        read.wall_ms = expected.wall_ms;
        REQUIRE_MESSAGE(same_values(read, expected), "seq " << seq);
        REQUIRE(wall == utc_text(expected.wall_ms));
        ++rows;
    });
    CHECK(rows == written.size());
}

}  // namespace

TEST_CASE("the samples view decodes the codes to the very values and UtcText's wall clock") {
    std::mt19937_64 random(7);
    SUBCASE("the main job, and every ms of a 2026 stretch") {
        const auto line = codec::with_origin(main_job_line(), 0, main_job_sample(random, 0));
        ViewDb db(line);
        std::vector<codec::Values> written;
        for (std::int64_t seq = 0; seq < 50'000; ++seq) {
            written.push_back(main_job_sample(random, seq));
            written.back().wall_ms = wall_2026_ms + seq;  // consecutive ms: strftime's rounding
            db.insert(seq, codec::encode(line, seq, written.back()));
        }
        check_view(db, written);
    }
    SUBCASE("any values, REAL fallbacks, years 2000 to 2099") {
        const codec::RunLine line{.first_seq = 0, .first_wall_ms = 946'684'800'000, .step_us = 3};
        ViewDb db(line);
        std::vector<codec::Values> written;
        for (std::int64_t seq = 0; seq < 20'000; ++seq) {
            const bool exact_time = seq % 2 == 0;
            written.push_back({.t_s = exact_time ? static_cast<double>(random() % (1LL << 40)) / 1e6
                                                 : std::fmod(any_finite(random), 1e9),
                               .wall_ms = line.first_wall_ms +
                                          static_cast<std::int64_t>(random() % 3'155'760'000'000),
                               .temperature_k = seq % 3 == 0 ? -0.0 : instrument_value(random, 6),
                               .force_n = any_finite(random),
                               .displacement_m = instrument_value(random, 9),
                               .stress_pa = any_finite(random),
                               .strain = -0.0});
            db.insert(seq, codec::encode(line, seq, written.back()));
        }
        check_view(db, written);
    }
}

TEST_CASE("the store gives back every sample bit for bit, whatever its values and order") {
    test_support::TempDir dir("dmacycle-codec");
    const auto path = dir.path / "store.db";
    std::mt19937_64 random(11);
    std::vector<SampleRow> written;
    for (std::int64_t seq = 0; seq < 2000; ++seq) {
        const auto values = main_job_sample(random, seq);
        SampleRow row{.seq = seq,
                      .t_s = seq % 7 == 0 ? values.t_s + 1e-9 : values.t_s,  // not whole µs
                      .t_wall = WallClock::time_point(std::chrono::microseconds(
                          values.wall_ms * 1000 + static_cast<std::int64_t>(random() % 1000))),
                      .segment = seq % 100 == 0 ? "warmup" : "cycle",  // a name not known yet
                      .temperature_k = values.temperature_k,
                      .force_n = seq % 5 == 0 ? any_finite(random) : values.force_n,
                      .displacement_m = seq % 3 == 0 ? -0.0 : values.displacement_m,
                      .stress_pa = seq % 11 == 0 ? 1.5e8 : values.stress_pa,
                      .strain = values.strain};
        written.push_back(row);
    }
    std::vector<std::string> rows_written;
    const auto text = [](const ArchivedSample& s) {
        return std::to_string(s.seq) + " " + std::to_string(std::bit_cast<std::uint64_t>(s.t_s)) +
               " " + s.t_wall_utc + " " + s.segment + " " +
               std::to_string(std::bit_cast<std::uint64_t>(s.temperature_k)) + " " +
               std::to_string(std::bit_cast<std::uint64_t>(s.force_n)) + " " +
               std::to_string(std::bit_cast<std::uint64_t>(s.displacement_m)) + " " +
               std::to_string(std::bit_cast<std::uint64_t>(s.stress_pa)) + " " +
               std::to_string(std::bit_cast<std::uint64_t>(s.strain));
    };
    for (const auto& row : written) {
        rows_written.push_back(
            text({row.seq, row.t_s, format_utc(row.t_wall), row.segment, row.temperature_k,
                  row.force_n, row.displacement_m, row.stress_pa, row.strain}));
    }
    std::int64_t run = 0;
    {
        SampleStore store(path.string());
        RunInfo info;
        info.cross_section_m2 = main_job_line().cross_section_m2;
        info.gauge_length_m = main_job_line().gauge_length_m;
        info.sample_period_s = 0.1;
        run = store.create_run(info);
        for (std::size_t i = 1000; i < 2000; ++i) {  // the second half first: the origin
            store.append(run, written[i]);
        }
        for (std::size_t i = 0; i < 2000; ++i) {
            auto replayed = written[i];
            store.append(run, written[i]);
            replayed.force_n += 1;  // a replay's later value is not stored
            store.append(run, replayed);
        }
    }
    std::vector<std::string> rows_read;
    const RunArchive archive(path);
    archive.for_each_sample(run, [&](const ArchivedSample& s) { rows_read.push_back(text(s)); });
    CHECK(rows_read == rows_written);
    // What the report reads of the same rows.
    std::size_t traced = 0;
    archive.for_each_trace(run, [&](const ArchivedTrace& trace) {
        const auto& row = written.at(traced++);
        CHECK((same_bits(trace.t_s, row.t_s) && trace.segment == row.segment &&
               same_bits(trace.stress_pa, row.stress_pa) && same_bits(trace.strain, row.strain)));
    });
    CHECK(traced == written.size());
}

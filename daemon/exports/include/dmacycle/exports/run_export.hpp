#pragma once
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dmacycle/store/run_archive.hpp"

// What `dmacycle export` writes (docs/exports.md), whichever source the run is read from (the
// server's API or a store file): the samples as CSV or as a TA Universal Analysis-style text
// file, and the results as CSV tables.
namespace dmacycle::exports {

// The samples of one run, written row by row in seq order as the source delivers them.
class SampleWriter {
  public:
    virtual ~SampleWriter() = default;
    virtual void write(const store::ArchivedSample& sample) = 0;
};

// CSV: a header of the samples' names (store/names.hpp), then one row per sample; numbers in the
// shortest text that reads back as the same double, text quoted when it needs it. The header is
// written here.
std::unique_ptr<SampleWriter> csv_sample_writer(std::ostream& out);

// CSV of a DMTA scan's measurements: a header of the dmta names (store/names.hpp), then
// write_dmta_csv_row for each, numbers as in the samples CSV.
void write_dmta_csv_header(std::ostream& out);
void write_dmta_csv_row(std::ostream& out, const store::ArchivedDmta& row);

// TA text: UTF-16LE with a byte-order mark, CRLF; the run's metadata as TA header lines, six
// signals in TA's units (Time min, Temperature °C, Static Force N, Displacement µm, Stress MPa,
// Strain %) with 8 significant digits. The header is written here.
std::unique_ptr<SampleWriter> ta_sample_writer(std::ostream& out, const store::ArchivedRun& run);

// The stored results (the object GET /api/v1/runs/ID/results answers under `results`) as CSV.
struct ResultsCsv {
    struct Table {
        std::string name;  // e.g. "spectrum", "work_done-per_cycle": the file is FILE-NAME.csv
        std::string text;
    };
    std::string scalars;        // kind,quantity,value,stderr,unit: one row per scalar
    std::vector<Table> tables;  // the arrays, one table per group of arrays
};
ResultsCsv results_csv(const nlohmann::json& results);

}  // namespace dmacycle::exports

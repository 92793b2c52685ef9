#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "dmacycle/store/sample_codec.hpp"
#include "dmacycle/store/sample_store.hpp"
#include "dmacycle/store/sql_connection.hpp"

// The writer's side of `sample_rows` (schema version 6): a sample's codes, relative to its run's
// line in `runs` and its segment's id in `segments` (docs/store-schema.md).
namespace dmacycle::store {

// The run's line as stored in `runs`; `has_origin` is false until its first sample set it.
codec::RunLine read_run_line(SqlConnection& db, std::int64_t run_id, bool* has_origin = nullptr);

class SampleRowWriter {
  public:
    explicit SampleRowWriter(SqlConnection& db);

    // INSERT OR IGNORE of the row's codes, in the writer's open transaction. The run's first
    // stored sample sets its origin, and a segment name not seen before gets an id, in the same
    // transaction.
    void write(std::int64_t run_id, const SampleRow& row);
    // After a rollback: what the transaction set is gone, so it is read from the file again.
    void forget();

  private:
    const codec::RunLine& line_of(std::int64_t run_id, std::int64_t seq,
                                  const codec::Values& values);
    std::int64_t segment_id(const std::string& name);

    SqlConnection& db_;
    SqlStatement insert_;
    std::map<std::int64_t, codec::RunLine> lines_;  // runs with an origin
    std::map<std::string, std::int64_t, std::less<>> segments_;
};

}  // namespace dmacycle::store

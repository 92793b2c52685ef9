#pragma once
#include <string>
#include <string_view>

#include "dmacycle/store/sample_store.hpp"
#include "dmacycle/store/sql_connection.hpp"

// The store's schema and its upgrades (store_schema.cpp), for the writer (sample_store.cpp) and
// the read-only reader of older files (run_archive.cpp).
namespace dmacycle::store {

// Creates the schema in a new file or upgrades an older one to store_schema_version, in one
// transaction; throws StoreError naming `path` when the file's schema is newer.
void create_or_upgrade_schema(SqlConnection& db, const std::string& path);

// Versions 1 to 3 stored stress in MPa under these names; version 4 stores it in Pa, like every
// other quantity in SI. The upgrade renames and scales them; RunArchive reads an older file's
// as Pa without changing the file.
struct MpaColumn {
    std::string_view table, mpa_name, pa_name;
};
inline constexpr int stress_in_pa_since_version = 4;
// Version 5 also keeps the work_done result's stresses in Pa (store::work_done_stresses_in_pa).
inline constexpr int work_done_in_pa_since_version = 5;
// Version 6 stores samples as codes in `sample_rows`, read through the `samples` view.
inline constexpr int sample_rows_since_version = 6;
// CREATE of `segments` (with the known segments' ids) and `sample_rows`; the `samples` view
// over them is codec::samples_view_sql().
std::string sample_tables_sql();
// In the upgrade's transaction: every row of a version 1-5 `samples` table moved into
// `sample_rows` bit for bit as the old table read (the runs' lines and divisors inferred from
// their rows), then the table replaced by the view; throws StoreError (naming the run and seq)
// when a row cannot be, and the caller rolls back.
void upgrade_samples_to_rows(SqlConnection& db);

inline constexpr MpaColumn columns_in_mpa[] = {{"samples", "stress_mpa", "stress_pa"},
                                               {"cycles", "stress_min_mpa", "stress_min_pa"},
                                               {"cycles", "stress_max_mpa", "stress_max_pa"}};

}  // namespace dmacycle::store

#pragma once
#include <string>

// Turns a store of this version into version 5's tables, its samples kept, before a test makes
// it look like an older version: version 5 kept the samples' values in a plain `samples` table
// and no sample lines in `runs`.
namespace store_test {

inline const std::string to_version_5_sql = R"sql(
CREATE TABLE samples_v5 (
    run_id INTEGER NOT NULL REFERENCES runs(id), seq INTEGER NOT NULL, t_s REAL NOT NULL,
    t_wall_utc TEXT NOT NULL, segment TEXT NOT NULL, temperature_k REAL NOT NULL,
    force_n REAL NOT NULL, displacement_m REAL NOT NULL, stress_pa REAL NOT NULL,
    strain REAL NOT NULL, PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
INSERT INTO samples_v5 SELECT * FROM samples;
DROP VIEW samples; DROP TABLE sample_rows; DROP TABLE segments;
ALTER TABLE samples_v5 RENAME TO samples;
ALTER TABLE runs DROP COLUMN cross_section_m2; ALTER TABLE runs DROP COLUMN gauge_length_m;
ALTER TABLE runs DROP COLUMN sample_step_us; ALTER TABLE runs DROP COLUMN first_seq;
ALTER TABLE runs DROP COLUMN first_t_us; ALTER TABLE runs DROP COLUMN first_wall_ms;
PRAGMA user_version = 5;
)sql";

}  // namespace store_test

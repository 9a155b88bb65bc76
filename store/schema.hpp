// Schema migrations of the store's two files, by PRAGMA user_version: entry i takes version i
// to i+1. The data file holds measurements, the outbox, events and the audit log; the access
// file holds API credentials and the consent history, so that damage to the busy data file
// can never take them with it.
#pragma once

#include <array>

namespace gw::schema {

/// Identifies our files ("MGW1" data, "MGWA" access), so another application's SQLite file is
/// never migrated.
inline constexpr int k_data_application_id = 0x4D475731;
inline constexpr int k_access_application_id = 0x4D475741;

inline constexpr std::array<const char*, 3> k_data_migrations{
    // v1: the first release.
    R"sql(
CREATE TABLE customer (
  klant_ean  TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE meter (
  meter_ean    TEXT PRIMARY KEY,
  klant_ean    TEXT NOT NULL,
  meter_type   TEXT NOT NULL CHECK (meter_type IN ('bruto_productie', 'overdrachtspunt')),
  profile      TEXT NOT NULL,
  link         TEXT NOT NULL,
  unit_id      INTEGER NOT NULL,
  voltage_mode TEXT NOT NULL,
  updated_at   INTEGER NOT NULL
) WITHOUT ROWID;

-- Means in canonical units (W, var, V), unrounded; NULL where the value was not measured.
CREATE TABLE intervals (
  meter_ean       TEXT NOT NULL,
  end_s           INTEGER NOT NULL,
  interval_s      INTEGER NOT NULL,
  p_w REAL, q_var REAL, u1_v REAL, u2_v REAL, u3_v REAL,
  quality         TEXT NOT NULL CHECK (quality IN ('gemeten', 'onvolledig')),
  samples         INTEGER NOT NULL,
  coverage        REAL NOT NULL,
  forward_pending INTEGER NOT NULL DEFAULT 0,
  forwarded_at_ms INTEGER,
  committed_at_ms INTEGER NOT NULL,
  PRIMARY KEY (meter_ean, end_s)
) WITHOUT ROWID;
-- The primary key serves "range by meter" and "newest per meter"; these serve pruning and the outbox.
CREATE INDEX intervals_end ON intervals (end_s);
CREATE INDEX intervals_outbox ON intervals (end_s, meter_ean) WHERE forward_pending = 1;

CREATE TABLE energy_reading (
  meter_ean      TEXT NOT NULL,
  at_s           INTEGER NOT NULL,
  e_import_wh    REAL, e_export_wh REAL, eq_import_varh REAL, eq_export_varh REAL,
  PRIMARY KEY (meter_ean, at_s)
) WITHOUT ROWID;
CREATE INDEX energy_reading_at ON energy_reading (at_s);

-- Consent is the latest event per customer; the events are the audit trail and are never pruned.
CREATE TABLE consent_event (
  id        INTEGER PRIMARY KEY,
  klant_ean TEXT NOT NULL,
  granted   INTEGER NOT NULL CHECK (granted IN (0, 1)),
  at_s      INTEGER NOT NULL,
  actor     TEXT NOT NULL
);
CREATE INDEX consent_event_klant ON consent_event (klant_ean, id);

CREATE TABLE api_client (
  name         TEXT PRIMARY KEY,
  role         TEXT NOT NULL CHECK (role IN ('reader', 'admin')),
  created_at_s INTEGER NOT NULL,
  revoked_at_s INTEGER
) WITHOUT ROWID;

-- Only slow salted hashes; the secret itself is shown once and never stored.
CREATE TABLE api_secret (
  id           INTEGER PRIMARY KEY,
  client       TEXT NOT NULL REFERENCES api_client (name),
  hash         TEXT NOT NULL,
  created_at_s INTEGER NOT NULL,
  expires_at_s INTEGER
);
CREATE INDEX api_secret_client ON api_secret (client);

CREATE TABLE api_audit (
  id             INTEGER PRIMARY KEY,
  at_ms          INTEGER NOT NULL,
  client         TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  method         TEXT NOT NULL,
  path           TEXT NOT NULL,
  klant_ean      TEXT NOT NULL,
  meter_ean      TEXT NOT NULL,
  window_start_s INTEGER,
  window_end_s   INTEGER,
  rows           INTEGER NOT NULL,
  status         INTEGER NOT NULL
);
CREATE INDEX api_audit_at ON api_audit (at_ms);
)sql",
    // v2: cross-check flags on intervals, and the gateway's own event log.
    R"sql(
ALTER TABLE intervals ADD COLUMN flags INTEGER NOT NULL DEFAULT 0;

CREATE TABLE event (
  id        INTEGER PRIMARY KEY,
  at_ms     INTEGER NOT NULL,
  meter_ean TEXT NOT NULL,
  kind      TEXT NOT NULL,
  detail    TEXT NOT NULL
);
CREATE INDEX event_at ON event (at_ms);
)sql",
    // v3: credentials and consent move to the access file (copied by the store's code before
    // this runs); why an audit row was written (failed logins); the open interval's state kept
    // aside at a clean stop, never served or published.
    R"sql(
DROP TABLE IF EXISTS api_secret;
DROP TABLE IF EXISTS api_client;
DROP TABLE IF EXISTS consent_event;

ALTER TABLE api_audit ADD COLUMN detail TEXT NOT NULL DEFAULT '';

CREATE TABLE interval_carry (
  meter_ean   TEXT PRIMARY KEY,
  end_s       INTEGER NOT NULL,
  interval_s  INTEGER NOT NULL,
  saved_at_ms INTEGER NOT NULL,
  held_ms     INTEGER NOT NULL,
  samples     INTEGER NOT NULL,
  p_ws REAL NOT NULL, q_ws REAL NOT NULL, u1_ws REAL NOT NULL, u2_ws REAL NOT NULL, u3_ws REAL NOT NULL,
  start_at_ms INTEGER,
  e_import_wh REAL, e_export_wh REAL, eq_import_varh REAL, eq_export_varh REAL
) WITHOUT ROWID;
)sql",
};

inline constexpr std::array<const char*, 1> k_access_migrations{
    // v1: API clients and their secrets (hashes only), and the consent history.
    R"sql(
CREATE TABLE api_client (
  name         TEXT PRIMARY KEY,
  role         TEXT NOT NULL CHECK (role IN ('reader', 'installer', 'admin')),
  created_at_s INTEGER NOT NULL,
  revoked_at_s INTEGER
) WITHOUT ROWID;

-- Only slow salted hashes; the secret itself is shown once and never stored.
CREATE TABLE api_secret (
  id           INTEGER PRIMARY KEY,
  client       TEXT NOT NULL REFERENCES api_client (name),
  hash         TEXT NOT NULL,
  created_at_s INTEGER NOT NULL,
  expires_at_s INTEGER
);
CREATE INDEX api_secret_client ON api_secret (client);

-- Consent is the latest event per customer; the events are the audit trail and are never pruned.
CREATE TABLE consent_event (
  id        INTEGER PRIMARY KEY,
  klant_ean TEXT NOT NULL,
  granted   INTEGER NOT NULL CHECK (granted IN (0, 1)),
  at_s      INTEGER NOT NULL,
  actor     TEXT NOT NULL
);
CREATE INDEX consent_event_klant ON consent_event (klant_ean, id);
)sql",
};

}  // namespace gw::schema

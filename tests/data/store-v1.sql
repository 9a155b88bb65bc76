-- A store as written by schema version 1 (before the flags column and the event table),
-- with some data, for the migration test.
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

INSERT INTO customer VALUES ('871685900000000011', 'Zonnepark De Hoeve', 1795435200);
INSERT INTO meter VALUES ('871685900000000028', '871685900000000011', 'bruto_productie', 'eastron-sdm630', 'rs485-1', 1, 'phase_to_neutral', 1795435200);
INSERT INTO intervals (meter_ean, end_s, interval_s, p_w, q_var, u1_v, u2_v, u3_v, quality, samples, coverage, forward_pending, committed_at_ms)
  VALUES ('871685900000000028', 1795435200, 300, -1234500.0, 12000.0, 231.35, 230.9, 231.0, 'gemeten', 298, 0.99, 1, 1795435201000);
INSERT INTO intervals (meter_ean, end_s, interval_s, p_w, q_var, u1_v, u2_v, u3_v, quality, samples, coverage, forward_pending, committed_at_ms)
  VALUES ('871685900000000028', 1795435500, 300, -1000000.0, 0.0, 230.0, 230.0, 230.0, 'onvolledig', 100, 0.33, 0, 1795435501000);
INSERT INTO consent_event (klant_ean, granted, at_s, actor) VALUES ('871685900000000011', 1, 1795435000, 'installer');
PRAGMA user_version = 1;
PRAGMA application_id = 1296521009;

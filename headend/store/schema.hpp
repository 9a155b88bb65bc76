// The head-end's PostgreSQL schema, by version: entry i takes version i to i+1. Applied at
// start under an advisory lock, so that instances starting together migrate once.
#pragma once

#include <array>

namespace gw::pgschema {

inline constexpr std::array<const char*, 1> k_migrations{
    // v1: the first release.
    R"sql(
-- Gateways and their meters, from the retained manifests and status messages.
CREATE TABLE gateway (
  gateway_id      text PRIMARY KEY,
  interval_s      integer NOT NULL DEFAULT 300,
  version         text NOT NULL DEFAULT '',
  manifest_at     timestamptz,
  state           text NOT NULL DEFAULT '',
  state_at        timestamptz,
  last_message_at timestamptz
);
-- first_s: when a manifest first named the meter (epoch seconds); intervals ending after it
-- are expected. scanned_to_s: the gap scan has looked up to here.
CREATE TABLE meter (
  meter_ean    bigint PRIMARY KEY,
  klant_ean    bigint NOT NULL,
  meter_type   text NOT NULL CHECK (meter_type IN ('bruto_productie', 'overdrachtspunt')),
  gateway_id   text NOT NULL REFERENCES gateway (gateway_id),
  interval_s   integer NOT NULL,
  reported     boolean NOT NULL DEFAULT true,
  first_s      bigint NOT NULL,
  scanned_to_s bigint
);
CREATE INDEX meter_klant ON meter (klant_ean);
-- Values as the gateway published them (kW and kVAr as W and var, V), partitioned by month of
-- the interval end; retention drops whole partitions.
CREATE TABLE intervals (
  meter_ean   bigint NOT NULL,
  end_at      timestamptz NOT NULL,
  interval_s  integer NOT NULL,
  p_w double precision, q_var double precision,
  u1_v double precision, u2_v double precision, u3_v double precision,
  quality     smallint NOT NULL CHECK (quality IN (0, 1)),
  samples     integer NOT NULL,
  coverage    double precision NOT NULL,
  gateway_id  text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (meter_ean, end_at)
) PARTITION BY RANGE (end_at);
-- Other values under a stored id: the first stay, the later ones are kept here for the record.
CREATE TABLE conflict (
  id         bigserial PRIMARY KEY,
  meter_ean  bigint NOT NULL,
  end_at     timestamptz NOT NULL,
  gateway_id text NOT NULL,
  topic      text NOT NULL,
  detail     text NOT NULL,
  at         timestamptz NOT NULL
);
-- Missing intervals (from_s, to_s], epoch seconds, and the backfill requests made for them.
CREATE TABLE gap (
  meter_ean       bigint NOT NULL,
  from_s          bigint NOT NULL,
  to_s            bigint NOT NULL,
  attempts        integer NOT NULL DEFAULT 0,
  last_request_at timestamptz,
  unfillable      boolean NOT NULL DEFAULT false,
  PRIMARY KEY (meter_ean, from_s)
);
CREATE TABLE ingest_counter (
  instance   text PRIMARY KEY,
  received   bigint NOT NULL DEFAULT 0,
  inserted   bigint NOT NULL DEFAULT 0,
  duplicates bigint NOT NULL DEFAULT 0,
  conflicts  bigint NOT NULL DEFAULT 0,
  malformed  bigint NOT NULL DEFAULT 0,
  updated_at timestamptz
);
-- Incremented by every commit the API's response cache must notice.
CREATE TABLE data_generation (
  id integer PRIMARY KEY CHECK (id = 1),
  n  bigint NOT NULL
);
INSERT INTO data_generation VALUES (1, 0);
-- Consent is the latest event per customer; the events are the audit trail.
CREATE TABLE consent_event (
  id        bigserial PRIMARY KEY,
  klant_ean bigint NOT NULL,
  granted   boolean NOT NULL,
  at        timestamptz NOT NULL,
  actor     text NOT NULL
);
CREATE INDEX consent_event_klant ON consent_event (klant_ean, id);
CREATE TABLE api_client (
  name       text PRIMARY KEY,
  role       text NOT NULL CHECK (role IN ('reader', 'installer', 'admin')),
  created_at timestamptz NOT NULL,
  revoked_at timestamptz
);
-- Only slow salted hashes; the secret itself is shown once and never stored.
CREATE TABLE api_secret (
  id         bigserial PRIMARY KEY,
  client     text NOT NULL REFERENCES api_client (name),
  hash       text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz
);
CREATE INDEX api_secret_client ON api_secret (client);
CREATE TABLE api_audit (
  id             bigserial PRIMARY KEY,
  at             timestamptz NOT NULL,
  client         text NOT NULL,
  correlation_id text NOT NULL,
  method         text NOT NULL,
  path           text NOT NULL,
  klant_ean      text NOT NULL,
  meter_ean      text NOT NULL,
  window_start   timestamptz,
  window_end     timestamptz,
  rows           bigint NOT NULL,
  status         integer NOT NULL,
  detail         text NOT NULL
);
CREATE INDEX api_audit_at ON api_audit (at);
)sql",
};

}  // namespace gw::pgschema

-- Devices: one per login, the root of a token family.
CREATE TABLE jwt_guard_devices (
    id               TEXT PRIMARY KEY,
    subject          TEXT NOT NULL,
    name             TEXT NOT NULL,
    user_agent       TEXT,
    browser          TEXT,
    os               TEXT,
    device_kind      TEXT,
    ip               TEXT,
    permanent_digest TEXT UNIQUE,
    created_at       BIGINT NOT NULL,
    last_used        BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    orig_iat         BIGINT NOT NULL,
    revoked_at       BIGINT
);
CREATE INDEX jwt_guard_devices_subject ON jwt_guard_devices (subject);

-- Issued refresh and access tokens (never the tokens themselves): a tree
-- device -> refresh -> access, refresh tokens chained by rotation.
CREATE TABLE jwt_guard_tokens (
    jti         TEXT PRIMARY KEY,
    device_id   TEXT NOT NULL,
    parent_jti  TEXT,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    issued_at   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    replaced_by TEXT,
    revoked_at  BIGINT
);
CREATE INDEX jwt_guard_tokens_device ON jwt_guard_tokens (device_id);
CREATE INDEX jwt_guard_tokens_parent ON jwt_guard_tokens (parent_jti);

-- Revocations: of one token id, of a device, or of a subject's tokens issued
-- before `not_before`. `until` is when everything they revoke has expired anyway.
CREATE TABLE jwt_guard_revocations (
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    not_before BIGINT NOT NULL DEFAULT 0,
    until      BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (kind, value)
);
CREATE INDEX jwt_guard_revocations_created ON jwt_guard_revocations (created_at);

-- Security-relevant events (reuse detected, devices revoked, logins).
CREATE TABLE jwt_guard_audit (
    id        TEXT PRIMARY KEY,
    at        BIGINT NOT NULL,
    event     TEXT NOT NULL,
    subject   TEXT,
    device_id TEXT,
    detail    TEXT
);
CREATE INDEX jwt_guard_audit_at ON jwt_guard_audit (at);

-- Revocation from outside (OpenID Connect Back-Channel Logout, Shared Signals).
-- Which outside login each app session rests on: written before its device, so
-- a logout signal finds every session it should end.
CREATE TABLE jwt_guard_upstream_sessions (
    device_id  TEXT PRIMARY KEY,
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    sid        TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX jwt_guard_upstream_sessions_subject ON jwt_guard_upstream_sessions (issuer, subject);
CREATE INDEX jwt_guard_upstream_sessions_sid ON jwt_guard_upstream_sessions (issuer, sid);

-- Every signal received: its `jti` once per issuer across instances (kept while
-- a replay could still pass the age check), what it was and what it ended.
CREATE TABLE jwt_guard_signals (
    issuer         TEXT NOT NULL,
    jti            TEXT NOT NULL,
    received_at    BIGINT NOT NULL,
    keep_until     BIGINT NOT NULL,
    delivery       TEXT NOT NULL,
    event          TEXT NOT NULL,
    subject_digest TEXT,
    sessions_ended BIGINT NOT NULL,
    PRIMARY KEY (issuer, jti)
);
CREATE INDEX jwt_guard_signals_received ON jwt_guard_signals (received_at);

-- Poll delivery (RFC 8936): which instance polls each issuer's stream (a lease),
-- and what it applied but has not yet acknowledged (sent with the next poll,
-- whichever instance makes it).
CREATE TABLE jwt_guard_signal_pollers (
    issuer      TEXT PRIMARY KEY,
    holder      TEXT,
    lease_until BIGINT NOT NULL,
    pending     TEXT NOT NULL
)

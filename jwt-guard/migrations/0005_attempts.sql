-- Attempt counters shared by every instance: failed logins per account, messages
-- sent per account. `key` is a namespace and a digest of the account name.
CREATE TABLE jwt_guard_attempts (
    key          TEXT PRIMARY KEY,
    attempts     BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    lockouts     BIGINT NOT NULL
);
CREATE INDEX jwt_guard_attempts_window ON jwt_guard_attempts (window_start);

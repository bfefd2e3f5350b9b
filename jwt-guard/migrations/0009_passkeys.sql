-- Passkeys (WebAuthn): each user's random, non-enumerable handle (never the
-- username), the credentials registered under it, and the open ceremonies —
-- server-side, single-use, shared by every instance, pruned by the archiver.
CREATE TABLE jwt_guard_passkey_users (
    subject TEXT PRIMARY KEY,
    user_handle TEXT NOT NULL UNIQUE
);
CREATE TABLE jwt_guard_passkeys (
    credential_id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    user_handle TEXT NOT NULL,
    credential TEXT NOT NULL,
    sign_count BIGINT NOT NULL,
    backup_eligible BIGINT NOT NULL,
    backup_state BIGINT NOT NULL,
    transports TEXT NOT NULL,
    aaguid TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX jwt_guard_passkeys_subject ON jwt_guard_passkeys (subject);
CREATE TABLE jwt_guard_passkey_ceremonies (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT,
    state TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX jwt_guard_passkey_ceremonies_expiry ON jwt_guard_passkey_ceremonies (expires_at)

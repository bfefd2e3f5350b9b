-- DPoP (RFC 9449): the thumbprint of the key a device is bound to (none: a
-- bearer session), and the proofs already accepted, so that each is used once
-- across every instance until it could no longer pass the `iat` check anyway.
ALTER TABLE jwt_guard_devices ADD COLUMN dpop_jkt TEXT;
CREATE TABLE jwt_guard_dpop_proofs (
    proof_key TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX jwt_guard_dpop_proofs_expiry ON jwt_guard_dpop_proofs (expires_at);

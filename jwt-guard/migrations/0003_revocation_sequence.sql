-- Revocations are stamped with a sequence number taken at commit, so instances poll
-- by it instead of comparing one machine's clock with another's: a revocation is
-- never missed because of clock skew or a lost notification.
ALTER TABLE jwt_guard_revocations ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX jwt_guard_revocations_seq ON jwt_guard_revocations (seq);

-- Named counters. `revocation_seq` is taken last in every transaction that
-- revokes, so the order of its values is the order of the commits.
CREATE TABLE jwt_guard_counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO jwt_guard_counters (name, value) VALUES ('revocation_seq', 0);

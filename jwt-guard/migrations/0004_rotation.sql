-- Permanent tokens rotate on every use. The digests of superseded ones are kept
-- (until their device is archived), so presenting one again is recognised as
-- reuse and revokes the device.
CREATE TABLE jwt_guard_superseded_permanent (
    digest        TEXT PRIMARY KEY,
    device_id     TEXT NOT NULL,
    superseded_at BIGINT NOT NULL
);
CREATE INDEX jwt_guard_superseded_permanent_device ON jwt_guard_superseded_permanent (device_id);

-- A rotated refresh token remembers what it was rotated into (the successors'
-- signed parts, header and claims, never a signature), so a retry within
-- `refresh_reuse_grace` answers the same successor instead of minting another.
ALTER TABLE jwt_guard_tokens ADD COLUMN successor_refresh TEXT;
ALTER TABLE jwt_guard_tokens ADD COLUMN successor_access TEXT;

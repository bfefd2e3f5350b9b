-- Each token's place in its device's tree, written when it is issued, so that a
-- page of the tree is an ordered, limited read (no walk of the whole tree):
-- `depth` below its root, and the root's id and issue time. Rows recorded before
-- this migration have none and list as roots of their own.
ALTER TABLE jwt_guard_tokens ADD COLUMN depth BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jwt_guard_tokens ADD COLUMN root_jti TEXT;
ALTER TABLE jwt_guard_tokens ADD COLUMN root_at BIGINT;
CREATE INDEX jwt_guard_tokens_tree ON jwt_guard_tokens (device_id, root_at, root_jti, depth);

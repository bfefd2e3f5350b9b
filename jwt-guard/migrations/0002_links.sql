-- Expiring links: a JWT handed out by e-mail, backed by this row, which holds the
-- use counter and can be revoked after the link was sent. max_uses 0 = unlimited.
CREATE TABLE jwt_guard_links (
    id         TEXT PRIMARY KEY,
    subject    TEXT NOT NULL,
    target     TEXT NOT NULL,
    max_uses   BIGINT NOT NULL,
    use_count  BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX jwt_guard_links_subject ON jwt_guard_links (subject);

-- Every attempt to use a link, allowed or denied.
CREATE TABLE jwt_guard_link_uses (
    id         TEXT PRIMARY KEY,
    link_id    TEXT,
    target     TEXT NOT NULL,
    at         BIGINT NOT NULL,
    ip         TEXT,
    user_agent TEXT,
    status     BIGINT NOT NULL,
    outcome    TEXT NOT NULL,
    use_number BIGINT
);
CREATE INDEX jwt_guard_link_uses_link ON jwt_guard_link_uses (link_id, at);

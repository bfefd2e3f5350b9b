-- PostgreSQL only, run whole (its body holds semicolons): the device cap's check
-- for a session started in one statement. It takes the subject's lock and then
-- counts the subject's live devices with a snapshot of its own, taken after the
-- lock (each statement of a volatile PL/pgSQL function takes a fresh one under
-- READ COMMITTED), so a login that committed while this one waited is counted.
-- The lock is held to the end of the calling statement's transaction.
CREATE OR REPLACE FUNCTION jwt_guard_lock_live_devices(p_subject TEXT, p_now BIGINT)
RETURNS BIGINT
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    live BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(p_subject));
    SELECT COUNT(*) INTO live FROM jwt_guard_devices
     WHERE subject = p_subject AND revoked_at IS NULL AND expires_at > p_now;
    RETURN live;
END
$$

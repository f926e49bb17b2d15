-- AUD-2, AUD-4: the deletion trigger of audit_events looks up audit_archive
-- and audit_checkpoints by name. A session's temporary tables come first in
-- the default search path, so a role allowed to DELETE could create
-- temporary stand-ins that make the check pass. Pin the function's search
-- path to the schema it lives in, temporary tables last.
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION audit_events_delete_archived() SET search_path = %I, pg_temp', current_schema());
END
$$;

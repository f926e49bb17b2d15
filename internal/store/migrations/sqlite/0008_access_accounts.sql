-- Issue 4, remaining items (ROLE-3, ROLE-4). Times are fixed-width UTC text.

-- ROLE-4: a Security Officer suspends, resumes or deletes an account on
-- their own, effective on the next request. Deletion keeps the account's
-- rows (personnel records, votes, journal references): status 'deleted'
-- disables it for good. status is one of active, suspended, deleted.
ALTER TABLE accounts ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
ALTER TABLE accounts ADD COLUMN status_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN status_at TEXT;
ALTER TABLE accounts ADD COLUMN status_by TEXT;

-- ROLE-4: personal admin client certificates are found by their serial
-- (lower-case hex; NULL for certificates bound before this migration) and
-- their revocation says who revoked them and why. accounts.totp_secret now
-- holds the secret sealed with AES-256-GCM (access/totpseal.go); existing
-- clear values are sealed in Go when the service opens.
ALTER TABLE account_certificates ADD COLUMN serial TEXT;
ALTER TABLE account_certificates ADD COLUMN revoked_by TEXT;
ALTER TABLE account_certificates ADD COLUMN revocation_reason TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX account_certificates_serial ON account_certificates (serial) WHERE serial IS NOT NULL;

-- ROLE-3 (ca.terminate): a terminated CA issues no certificate any more;
-- it still signs CRLs and OCSP responses for what it issued.
ALTER TABLE cas ADD COLUMN terminated_at TEXT;
ALTER TABLE cas ADD COLUMN terminated_by TEXT;
ALTER TABLE cas ADD COLUMN termination_approval TEXT;

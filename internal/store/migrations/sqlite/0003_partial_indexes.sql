-- Issuance touches fewer indexes: only revoked certificates are in the CRL
-- index and only reservations in the orphan-sweep index.
DROP INDEX certificates_ca_revoked;
DROP INDEX certificates_status;
CREATE INDEX certificates_revoked ON certificates (ca_id, revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX certificates_reserved ON certificates (reserved_at) WHERE status = 'reserved';

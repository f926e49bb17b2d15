-- END-1: a terminated CA's last steps, done after the approval's
-- transaction and resumed until done: its final CRL (nextUpdate
-- 99991231235959Z) and the destruction of its key and backups.
ALTER TABLE cas ADD COLUMN final_crl_number INTEGER;
ALTER TABLE cas ADD COLUMN key_destroyed_at TEXT;

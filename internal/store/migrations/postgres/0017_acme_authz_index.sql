-- An account's valid authorization for a name is looked up at every new
-- order (authorization reuse, inside the write transaction): without an
-- index that look-up read every authorization of the table.
CREATE INDEX acme_authorizations_account ON acme_authorizations (account_id, identifier, id);

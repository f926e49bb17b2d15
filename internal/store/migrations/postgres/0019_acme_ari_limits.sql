-- ACME Renewal Information (RFC 9773) and rate limits (docs/acme.md).
-- replaces is the serial (lower-case hex) of the certificate an order
-- replaces (RFC 9773 §5): a certificate is replaced by one order that is
-- not invalid. The indexes serve the rate limits, counted from these
-- tables so that they hold across nodes: orders of an account since a
-- time, certificates of an identifier since a time, failed challenges
-- since a time.
ALTER TABLE acme_orders ADD COLUMN replaces TEXT;
CREATE INDEX acme_orders_replaces ON acme_orders (replaces);
CREATE INDEX acme_orders_account_created ON acme_orders (account_id, created_at);
CREATE INDEX acme_authorizations_identifier ON acme_authorizations (identifier, order_id);
CREATE INDEX acme_challenges_outcome ON acme_challenges (status, validated_at);

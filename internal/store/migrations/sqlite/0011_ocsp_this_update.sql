-- CA-3 (RFC 5019 §6.2): the thisUpdate of the pre-signed OCSP response,
-- written with it, so that the responder sets Last-Modified on a GET answer
-- without parsing the DER. NULL for responses signed before this column.
ALTER TABLE certificates ADD COLUMN ocsp_this_update TEXT;

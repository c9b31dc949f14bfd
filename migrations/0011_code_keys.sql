-- The comparison key of the address or number a code verifies (an email's canonical key, a
-- phone number as stored), so that a pending address sent again under another spelling of the
-- same mailbox keeps its live code and gets no second message (src/store/codes.rs). Codes made
-- before this migration get the key their address has if it is ASCII, its lowercase (as 0007 did
-- for email_key): a live one then stays live when the same address is sent again. (A code lives an
-- hour; one for an address beyond ASCII compares as written until then.)
ALTER TABLE verification_codes ADD COLUMN value_key TEXT;
UPDATE verification_codes SET value_key = CASE kind WHEN 'email' THEN lower(value) ELSE value END;

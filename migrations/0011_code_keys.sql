-- The comparison key of the address or number a code verifies (an email's canonical key, a
-- phone number as stored), so that a pending address sent again under another spelling of the
-- same mailbox keeps its live code and gets no second message (src/store/codes.rs). Codes made
-- before this migration compare on the text they were sent to, as they did.
ALTER TABLE verification_codes ADD COLUMN value_key TEXT;
UPDATE verification_codes SET value_key = value;

-- An address a user claimed through a code (a change left unverified, a code sent or returned)
-- reserves it in the org only while that code lives: email_claim_until is the code's expiry.
-- NULL: no expiring claim — verified, or set without a code (by an admin, the operator, SCIM),
-- which reserves it until changed. A later claimant releases an expired claim in its own batch:
-- that row's email_key becomes NULL (it keeps the text it was sent, still unverified), so the
-- one unique index on (org_id, email_key) lets the new claim in. README, "Choices".
ALTER TABLE users ADD COLUMN email_claim_until TEXT;

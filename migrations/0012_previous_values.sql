-- What the fields a user's last write changed held before it (src/store/users.rs, `update`: a JSON
-- object, column name → value, written by that write's UPDATE from the row as it was; never a
-- password hash), and its copy on that write's event, which the change feed renders as
-- `previous_attributes` (Stripe's name): a sender can tell the old address of an email change,
-- a sync client see what moved. `last_previous` is bookkeeping, like last_changes: never returned,
-- and cleared with the rest of a deleted user's personal data.
ALTER TABLE users ADD COLUMN last_previous TEXT;
ALTER TABLE user_events ADD COLUMN previous TEXT;

-- The fields the user's last write changed, as a JSON array of names, written by that write's
-- UPDATE from the row as it was (src/store/users.rs, `update`). Its event names these fields,
-- and a write that changed none ('[]': every value sent was the one stored) has no event and
-- keeps its version. Bookkeeping, like last_write: never returned.
ALTER TABLE users ADD COLUMN last_changes TEXT;

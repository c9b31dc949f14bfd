-- How far the change feed's retention sweep has gone (src/store/events.rs, `prune`): events with
-- an id up to `pruned_through` have had their snapshots (`data`, `previous`) and a code event's
-- recipient (`detail.to`) erased, FEED_RETENTION_DAYS after they were written. Their audit
-- fields stay. One row.
CREATE TABLE feed_retention (
  id              INTEGER PRIMARY KEY CHECK (id = 1),
  pruned_through  INTEGER NOT NULL
);
INSERT INTO feed_retention (id, pruned_through) VALUES (1, 0);

-- How far the change feed's retention sweep has gone (src/pipeline/feed.rs, `prune`), one row:
-- events with an id up to `pruned_through` have had what they carried of their user erased
-- (`data`, `previous`, a code event's `detail.to`) FEED_RETENTION_DAYS after they were written,
-- their audit fields kept; deliveries with an id up to `deliveries_pruned_through` that were
-- made (delivered or failed) as long ago are gone, as a webhook service keeps its attempts for a
-- while and no longer; verification codes with an id up to `codes_pruned_through` made as long ago
-- (an hour's life, long over) no longer keep the address or number they went to.
CREATE TABLE feed_retention (
  id                         INTEGER PRIMARY KEY CHECK (id = 1),
  pruned_through             INTEGER NOT NULL,
  deliveries_pruned_through  INTEGER NOT NULL,
  codes_pruned_through       INTEGER NOT NULL
);
INSERT INTO feed_retention (id, pruned_through, deliveries_pruned_through, codes_pruned_through) VALUES (1, 0, 0, 0);

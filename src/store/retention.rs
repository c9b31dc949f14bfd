//! What the Cron sweep's retention does to each table it walks (`pipeline::feed::prune`): reads
//! a window of the table's primary key past the table's mark in `feed_retention` (migration
//! 0014), prunes a run of it as the table's own module says, and moves the mark on. One range of
//! the primary key each time, however large the table.

use super::{codes, events, feed, Stmt};

/// A table the retention walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walked {
    /// Events lose what they carried of users; their audit fields stay.
    Events,
    /// Finished deliveries go.
    Deliveries,
    /// Codes forget the contact they went to.
    Codes,
}

impl Walked {
    pub const ALL: [Walked; 3] = [Walked::Events, Walked::Deliveries, Walked::Codes];

    /// The table, the column of when a row was written, the mark's column, and what holds the
    /// sweep back at a row (a delivery still being retried).
    fn parts(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Walked::Events => ("user_events", "at", "pruned_through", "0"),
            Walked::Deliveries => ("deliveries", "created_at", "deliveries_pruned_through", "status = 'pending'"),
            Walked::Codes => ("verification_codes", "created_at", "codes_pruned_through", "0"),
        }
    }
}

/// The oldest rows of `table` past its mark (`id`, `at`: when written, `pending`: 1 where the
/// sweep must stop), at most `limit`, in id order.
pub fn window(table: Walked, limit: u32) -> Stmt {
    let (name, at, mark, held) = table.parts();
    Stmt::new(
        format!(
            "SELECT id, {at} AS at, {held} AS pending FROM {name} \
             WHERE id > (SELECT {mark} FROM feed_retention WHERE id = 1) ORDER BY id LIMIT ?"
        ),
        vec![i64::from(limit).into()],
    )
}

/// Prune the rows of `table` after `after` through `through`, all written before `cutoff`, and
/// move its mark on: up to the first of them held by now (a delivery a replay set going again
/// since the window was read), which a later sweep reaches once it is finished.
pub fn prune(table: Walked, after: i64, through: i64, cutoff: &str) -> Vec<Stmt> {
    let mut batch = match table {
        Walked::Events => events::erase_before(after, through, cutoff),
        Walked::Deliveries => vec![feed::delete_finished(after, through)],
        Walked::Codes => vec![codes::forget_contacts(after, through)],
    };
    let (name, _, mark, held) = table.parts();
    batch.push(Stmt::new(
        format!(
            "UPDATE feed_retention SET {mark} = MAX({mark}, COALESCE((SELECT MIN(id) - 1 FROM {name} \
             WHERE id > ?1 AND id <= ?2 AND {held}), ?2)) WHERE id = 1"
        ),
        vec![after.into(), through.into()],
    ));
    batch
}

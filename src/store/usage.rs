//! `usage_daily`: a mirror of the rate limiter's day counts (the Durable Object is the
//! authority; this table is what usage reports and exports read).

use super::db::{Db, Result, Stmt};

/// Set `subject`'s count for `day` (YYYY-MM-DD) to `requests`.
pub async fn record(
    db: &impl Db,
    subject: &str,
    org_id: Option<&str>,
    day: &str,
    requests: u64,
) -> Result<usize> {
    db.run(
        Stmt::new(
            "INSERT INTO usage_daily (subject, org_id, day, requests) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(subject, day) DO UPDATE SET requests = excluded.requests",
        )
        .bind(subject)
        .bind(org_id)
        .bind(day)
        .bind(requests as i64),
    )
    .await
}

/// One day's count of one subject.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Day {
    pub subject: String,
    pub day: String,
    pub requests: f64,
}

/// The day counts of `subjects` from `from_day` (YYYY-MM-DD) on, oldest first.
pub async fn history(db: &impl Db, subjects: &[String; 2], from_day: &str) -> Result<Vec<Day>> {
    db.all(
        Stmt::new(
            "SELECT subject, day, requests FROM usage_daily WHERE subject IN (?1, ?2) AND day >= ?3 \
             ORDER BY day, subject",
        )
        .bind(subjects[0].as_str())
        .bind(subjects[1].as_str())
        .bind(from_day),
    )
    .await
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::store::testdb::{block_on, two_orgs};

    #[test]
    fn a_day_count_is_set_not_added() {
        let db = two_orgs();
        block_on(record(&db, "key_1", Some("org_a"), "2026-01-01", 3)).unwrap();
        block_on(record(&db, "key_1", Some("org_a"), "2026-01-01", 5)).unwrap();
        block_on(record(&db, "key_1", Some("org_a"), "2026-01-02", 1)).unwrap();
        #[derive(serde::Deserialize)]
        struct R {
            requests: i64,
        }
        let rows: Vec<R> = block_on(db.all(Stmt::new(
            "SELECT requests FROM usage_daily WHERE subject = 'key_1' ORDER BY day",
        )))
        .unwrap();
        assert_eq!(rows.iter().map(|r| r.requests).collect::<Vec<_>>(), [5, 1]);
        block_on(record(&db, "key_2", Some("org_a"), "2026-01-02", 7)).unwrap();
        block_on(record(&db, "key_3", Some("org_b"), "2026-01-02", 9)).unwrap();
        let h = block_on(history(
            &db,
            &["key_1".into(), "key_2".into()],
            "2026-01-02",
        ))
        .unwrap();
        let got: Vec<(&str, f64)> = h.iter().map(|d| (d.subject.as_str(), d.requests)).collect();
        assert_eq!(got, [("key_1", 1.0), ("key_2", 7.0)]);
    }
}

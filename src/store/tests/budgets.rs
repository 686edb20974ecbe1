//! Send budgets shared through the database.

use std::time::Duration;

use chrono::{TimeZone, Utc};

use super::stores;

#[tokio::test]
async fn a_budget_holds_its_limit_per_window_and_says_when_a_send_frees() {
    let minute = Duration::from_secs(60);
    let start = Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap();
    for db in stores().await {
        let store = &db.store;
        for n in 0..3 {
            let at = start + chrono::Duration::seconds(n * 10);
            assert_eq!(store.take_send("gh:1", 3, minute, at).await.unwrap(), None);
        }
        // The fourth within the minute waits until the first leaves the window.
        let at = start + chrono::Duration::seconds(30);
        let wait = store.take_send("gh:1", 3, minute, at).await.unwrap();
        assert_eq!(wait, Some(Duration::from_secs(30)), "{}", db.name);
        // Another installation has its own budget.
        assert_eq!(store.take_send("gh:2", 3, minute, at).await.unwrap(), None);
        // Once the first send is a minute old, one more goes.
        let later = start + chrono::Duration::seconds(61);
        assert_eq!(
            store.take_send("gh:1", 3, minute, later).await.unwrap(),
            None
        );
        assert!(
            store
                .take_send("gh:1", 3, minute, later)
                .await
                .unwrap()
                .is_some()
        );
    }
}

#[tokio::test]
async fn racing_takers_never_send_more_than_the_budget() {
    let minute = Duration::from_secs(60);
    let now = Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap();
    for db in stores().await {
        // Twenty takers on their own connections, like as many replicas, for ten sends.
        let takers: Vec<_> = (0..20)
            .map(|_| {
                let store = db.store.clone();
                tokio::spawn(async move {
                    let taken = store.take_send("gh:race", 10, minute, now).await;
                    taken.unwrap().is_none()
                })
            })
            .collect();
        let mut sent = 0;
        for taker in takers {
            sent += usize::from(taker.await.unwrap());
        }
        assert_eq!(sent, 10, "{}", db.name);
    }
}

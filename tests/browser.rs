//! The dashboard in a real browser: headless Chromium (Debian's, over chromedriver) against a
//! real `posture serve` on a seeded SQLite database. Sign in with a token through the form,
//! land on the org's page, compare a figure with the API's, follow the link to the findings,
//! sign out, and find the pages closed. Screenshots are saved under `target/tmp/browser/` and
//! checked not to be blank. Chromium missing fails the test.

#[path = "common/browser.rs"]
mod browser;
mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::org::*;
use fantoccini::Locator;

/// Bandit 1.8.6 on a Flask app: seven results, each a finding of its own.
fn bandit() -> PathBuf {
    common::fixture("sarif/bandit_1.8.6_flask.sarif")
}

/// How long a page may take to load before the test gives up (a bound, not a timing).
const PAGE_LOAD: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_read_the_dashboard_and_sign_out_in_chromium() {
    let db = Db::new(Backend::Sqlite).await;
    let uploader = create_token(&db, "acme", "upload", "ci");
    let reader = create_token(&db, "acme", "read", "security-team");
    let server = start_server(&db);
    let uploaded = accepted(&upload_cli(
        &server,
        &uploader.secret,
        "acme/shop",
        COMMIT_1,
        &time(seconds_ago(3600)),
        &[&bandit()],
    ));
    assert!(uploaded[0] > 0, "{uploaded:?}");
    let api = Api::new(&server);
    let summary = api.summary(&reader.secret, "").await;
    let open_total = summary["open"]["total"].as_u64().unwrap();
    assert_eq!(open_total, uploaded[0]);

    let driver = browser::Driver::start();
    let client = driver.session().await;
    let base = server.base.clone();
    let url = |path: &str| url::Url::parse(&format!("{base}{path}")).unwrap();

    // Sign in through the form.
    client.goto(&format!("{base}/login")).await.unwrap();
    let field = client.find(Locator::Css("#token")).await.unwrap();
    assert_eq!(
        field.attr("type").await.unwrap().as_deref(),
        Some("password")
    );
    field.send_keys(&reader.secret).await.unwrap();
    browser::screenshot(&client, "1-login").await;
    click(&client, "#login button[type=submit]").await;
    client
        .wait()
        .at_most(PAGE_LOAD)
        .for_url(&url("/orgs/acme"))
        .await
        .unwrap();

    // The org's page shows the API's figure.
    let shown = client
        .find(Locator::Css("[data-figure='open-findings'] .value"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(shown.trim(), open_total.to_string());
    let source = client.source().await.unwrap();
    assert!(source.contains("acme/shop"), "{source}");
    assert!(
        !source.contains(&reader.secret),
        "the token is never echoed"
    );
    browser::screenshot(&client, "2-org").await;

    // The findings page, by its link.
    click(&client, "#findings-link").await;
    client
        .wait()
        .at_most(PAGE_LOAD)
        .for_element(Locator::Css("table.findings"))
        .await
        .unwrap();
    let here = client.current_url().await.unwrap();
    assert_eq!(here.path(), "/orgs/acme/findings", "{here}");
    let rows = client.find_all(Locator::Css("tr.finding")).await.unwrap();
    assert_eq!(rows.len() as u64, open_total);
    browser::screenshot(&client, "3-findings").await;

    // Sign out: the pages send the browser back to the sign-in page.
    click(&client, "#logout button").await;
    client
        .wait()
        .at_most(PAGE_LOAD)
        .for_url(&url("/login"))
        .await
        .unwrap();
    client.goto(&format!("{base}/orgs/acme")).await.unwrap();
    let now = client.current_url().await.unwrap();
    assert_eq!(now.path(), "/login", "{now}");
    assert_eq!(now.query(), Some("next=%2Forgs%2Facme"));
    assert!(client.find(Locator::Css("#token")).await.is_ok());
    browser::screenshot(&client, "4-signed-out").await;
    client.close().await.unwrap();

    // Every page view was audited under the signed-in token's name.
    let audit = db.audit().await;
    for action in [
        "GET /orgs/acme",
        "GET /orgs/acme/findings?status=open",
        "POST /logout",
    ] {
        assert!(
            audit.iter().any(|a| a.0 == reader.actor && a.2 == action),
            "{action} in {audit:?}"
        );
    }
}

/// Clicks the element `css` finds.
async fn click(client: &fantoccini::Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

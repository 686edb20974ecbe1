//! Per-person access against a real `posture serve` and a GitHub faked at its HTTP boundary
//! (wiremock): a person signed in reads what the org's roles (settings file) and the forge
//! give them. octocat, a viewer, is a collaborator on `acme/shop`, not on the public
//! `acme/vault` (where GitHub's permission endpoint says `read` for anybody), and GitHub
//! fails on `acme/ledger` (502): both stay out of every figure,
//! chart, table and export, and answer 404 when named. alice, in the `appsec` team mapped to
//! `security`, reads all three. The forge's answers are cached, and `posture auth check`
//! explains the same grants.

mod common;

use std::path::{Path, PathBuf};

use common::org::*;
use common::server::Server;
use posture::store::{NewSession, Store};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tempfile::TempDir;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SHOP: &str = "acme/shop";
const VAULT: &str = "acme/vault";
const LEDGER: &str = "acme/ledger";

/// GitHub as posture's token sees it: whether octocat is a collaborator on each
/// repository, and the `appsec` team's members. `acme/vault` is public: GitHub's permission
/// endpoint says `read` for anyone there, which must not count.
async fn github() -> MockServer {
    let github = MockServer::start().await;
    let collaborator = |repository: &str, login: &str, answer: ResponseTemplate| {
        Mock::given(method("GET"))
            .and(path(format!("/repos/{repository}/collaborators/{login}")))
            .respond_with(answer)
    };
    let not_found = ResponseTemplate::new(404).set_body_json(json!({
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest/collaborators/collaborators#check-if-a-user-is-a-repository-collaborator",
        "status": "404",
    }));
    collaborator(SHOP, "octocat", ResponseTemplate::new(204))
        .mount(&github)
        .await;
    collaborator(VAULT, "octocat", not_found.clone())
        .mount(&github)
        .await;
    collaborator(LEDGER, "octocat", ResponseTemplate::new(502))
        .mount(&github)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/repos/{VAULT}/collaborators/octocat/permission"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "permission": "read",
            "role_name": "read",
            "user": {"login": "octocat", "id": 583231, "type": "User"},
        })))
        .mount(&github)
        .await;
    Mock::given(method("GET"))
        .and(path("/orgs/acme/teams/appsec/memberships/alice"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "url": "https://api.github.com/teams/1/memberships/alice",
            "role": "member",
            "state": "active",
        })))
        .mount(&github)
        .await;
    Mock::given(method("GET"))
        .and(path("/orgs/acme/teams/appsec/memberships/octocat"))
        .respond_with(not_found)
        .mount(&github)
        .await;
    github
}

const SETTINGS: &str =
    "orgs:\n  acme:\n    roles:\n      security:\n        github_teams: [appsec]\n";

struct Site {
    db: Db,
    server: Server,
    reader: Token,
    dir: TempDir,
    github: MockServer,
    http: reqwest::Client,
}

fn report(name: &str) -> PathBuf {
    common::fixture(name)
}

impl Site {
    async fn new() -> Site {
        let github = github().await;
        let dir = TempDir::new().unwrap();
        let settings = dir.path().join("settings.yml");
        std::fs::write(&settings, SETTINGS).unwrap();
        let db = Db::new(Backend::Sqlite).await;
        let uploader = create_token(&db, "acme", "upload", "ci");
        let reader = create_token(&db, "acme", "read", "security-team");
        let server = start_server_with(
            &db,
            &[
                ("POSTURE_SETTINGS_FILE", settings.to_str().unwrap()),
                ("POSTURE_GITHUB_TOKEN", "ghp_posture_test_token"),
                ("POSTURE_GITHUB_API_URL", &github.uri()),
            ],
        );
        let at = time(seconds_ago(3600));
        let uploads: [(&str, &Path); 3] = [
            (SHOP, &report("sarif/bandit_1.8.6_flask.sarif")),
            (VAULT, &report("sca/cyclonedx/dd_log4j.json")),
            (LEDGER, &report("sarif/bandit_1.9.4_yaml_load.sarif")),
        ];
        for (repository, file) in uploads {
            accepted(&upload_cli(
                &server,
                &uploader.secret,
                repository,
                COMMIT_1,
                &at,
                &[file],
            ));
        }
        Site {
            db,
            server,
            reader,
            dir,
            github,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// A session of `person` (as a GitHub sign-in records it) reading `acme`.
    async fn session_of(&self, login: &str) -> String {
        let id = format!("{:0>64}", hex::encode(login));
        let person = json!({"name": format!("{login} (github)"), "forge": {"forge": "github", "login": login}});
        let store = Store::connect(&self.db.url).await.unwrap();
        store
            .create_session(&NewSession {
                session_hash: &hex::encode(Sha256::digest(id.as_bytes())),
                actor: &format!("{login} (github)"),
                method: "github",
                orgs: "acme",
                scopes: "read",
                token_id: None,
                expires_at: chrono::Utc::now() + chrono::Duration::hours(1),
                person: Some(&person.to_string()),
            })
            .await
            .unwrap();
        id
    }

    /// `GET path` with the session cookie `session`: status and body.
    async fn get(&self, path: &str, session: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.server.base))
            .header("cookie", format!("posture_session={session}"))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn token_get(&self, path: &str) -> Value {
        Api::new(&self.server)
            .get(path, Some(&self.reader.secret))
            .await
            .ok()
    }
}

/// Every place of the org a repository could show: the API's figures, lists and exports,
/// and the dashboard's pages and CSV.
const EVERYWHERE: &[&str] = &[
    "/api/v1/orgs/acme/summary",
    "/api/v1/orgs/acme/timeseries?metric=open&group_by=repository",
    "/api/v1/orgs/acme/timeseries?metric=new&group_by=repository",
    "/api/v1/orgs/acme/findings?status=all",
    "/api/v1/orgs/acme/findings?status=all&format=csv",
    "/api/v1/orgs/acme/findings?status=all&format=ndjson",
    "/api/v1/orgs/acme/components",
    "/api/v1/orgs/acme/components?format=csv",
    "/api/v1/orgs/acme/apis",
    "/api/v1/orgs/acme/drift",
    "/orgs/acme",
    "/orgs/acme/findings",
    "/orgs/acme/findings?format=csv",
    "/orgs/acme/repos/shop",
];

#[tokio::test]
async fn a_viewer_never_sees_a_repository_the_forge_does_not_give_them() {
    let site = Site::new().await;
    let octocat = site.session_of("octocat").await;

    // The whole org, as a token reads it, names all three: the assertions below could fail.
    let whole = site.token_get("/orgs/acme/findings?status=all").await;
    let repositories: Vec<&str> = whole["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["repository"].as_str().unwrap())
        .collect();
    for repository in [SHOP, VAULT, LEDGER] {
        assert!(repositories.contains(&repository), "{repositories:?}");
    }

    for place in EVERYWHERE {
        let (status, body) = site.get(place, &octocat).await;
        assert_eq!(status, 200, "{place}: {body}");
        assert!(!body.contains("vault"), "{place} shows acme/vault:\n{body}");
        assert!(
            !body.contains("ledger"),
            "{place} shows acme/ledger:\n{body}"
        );
    }
    // Its figures are those of acme/shop alone.
    let (_, summary) = site.get("/api/v1/orgs/acme/summary", &octocat).await;
    let summary: Value = serde_json::from_str(&summary).unwrap();
    let shop = site
        .token_get("/orgs/acme/summary?repository=acme/shop")
        .await;
    let everything = site.token_get("/orgs/acme/summary").await;
    assert_eq!(summary["open"], shop["open"], "{summary}");
    assert_ne!(summary["open"]["total"], everything["open"]["total"]);
    let (_, findings) = site
        .get("/api/v1/orgs/acme/findings?status=all", &octocat)
        .await;
    let findings: Value = serde_json::from_str(&findings).unwrap();
    let rows = findings["findings"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|f| f["repository"] == SHOP), "{findings}");

    // Named, they do not exist.
    for hidden in [VAULT, LEDGER] {
        let name = hidden.trim_start_matches("acme/");
        for place in [
            format!("/api/v1/orgs/acme/summary?repository={hidden}"),
            format!("/api/v1/orgs/acme/findings?repository={hidden}"),
            format!("/api/v1/orgs/acme/components?repository={hidden}"),
            format!("/api/v1/repos/{hidden}/sbom"),
            format!("/api/v1/repos/{hidden}/components"),
            format!("/api/v1/repos/{hidden}/drift"),
            format!("/api/v1/repos/{hidden}/apis"),
            format!("/orgs/acme/repos/{name}"),
            format!("/orgs/acme?repository={hidden}"),
            format!("/orgs/acme/findings?repository={hidden}"),
        ] {
            let (status, body) = site.get(&place, &octocat).await;
            assert_eq!(status, 404, "{place}: {body}");
        }
    }
    // A token reads acme/vault's SBOM: the 404s above are the person's, not the data's.
    let sbom = Api::new(&site.server)
        .get("/repos/acme/vault/sbom", Some(&site.reader.secret))
        .await;
    assert_eq!(sbom.status, 200, "{}", sbom.body);

    // The forge was asked once about each repository however many pages were read: its
    // answers are cached, and so (for seconds) is its error.
    let asked = site.github.received_requests().await.unwrap();
    for repository in [SHOP, VAULT, LEDGER] {
        let path = format!("/repos/{repository}/collaborators/octocat");
        let times = asked.iter().filter(|r| r.url.path() == path).count();
        assert_eq!(times, 1, "{path} asked {times} times");
    }
}

#[tokio::test]
async fn the_security_role_reads_every_repository_and_others_orgs_stay_hidden() {
    let site = Site::new().await;
    let alice = site.session_of("alice").await;
    let (status, body) = site
        .get("/api/v1/orgs/acme/findings?status=all&format=csv", &alice)
        .await;
    assert_eq!(status, 200, "{body}");
    for repository in [SHOP, VAULT, LEDGER] {
        assert!(body.contains(repository), "{repository}:\n{body}");
    }
    let (status, _) = site.get("/orgs/acme/repos/vault", &alice).await;
    assert_eq!(status, 200);
    let (status, _) = site.get("/api/v1/orgs/globex/summary", &alice).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn auth_check_explains_who_reads_what_and_why() {
    let site = Site::new().await;
    let settings = site.dir.path().join("settings.yml");
    let settings = settings.to_str().unwrap();
    let github = site.github.uri();
    let check = |args: &[&str]| {
        let mut all = vec!["auth", "check", "--database", &site.db.url];
        all.extend_from_slice(args);
        common::posture_with_env(
            &all,
            &[
                ("POSTURE_SETTINGS_FILE", settings),
                ("POSTURE_GITHUB_TOKEN", "ghp_posture_test_token"),
                ("POSTURE_GITHUB_API_URL", &github),
            ],
        )
    };
    let run = check(&["--user", "octocat"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    assert!(out.starts_with("octocat (github)\n"), "{out}");
    assert!(
        out.contains("acme: 1 of 3 repositories asked about"),
        "{out}"
    );
    assert!(
        out.contains("because: role viewer (every person with forge access)"),
        "{out}"
    );
    assert!(
        out.contains("acme/shop: reads (the forge gives them access)"),
        "{out}"
    );
    assert!(
        out.contains("acme/vault: not readable (the forge gives them no access)"),
        "{out}"
    );
    assert!(
        out.contains("acme/ledger: not readable: the forge could not say"),
        "{out}"
    );
    assert!(
        !out.contains("ghp_posture_test_token") && !run.stderr.contains("ghp_posture_test_token")
    );

    let run = check(&["--user", "alice", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["orgs"][0]["org"], "acme");
    assert_eq!(json["orgs"][0]["reach"], "everything");
    assert_eq!(
        json["orgs"][0]["why"][0],
        json!({"because": "team", "role": "security", "team": "acme/appsec"})
    );

    // An OIDC person outside `security`: a viewer, but with no forge login to ask about.
    let run = check(&["--group", "secops"]);
    assert!(
        run.stdout.starts_with("OIDC groups secops\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("acme: nothing"), "{}", run.stdout);
    assert!(
        run.stdout.contains("POSTURE_OIDC_FORGE_LOGIN_CLAIM"),
        "{}",
        run.stdout
    );

    let run = check(&["--token-id", &site.reader.id.to_string()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("acme: every repository"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("because: API token"), "{}", run.stdout);

    let run = check(&[]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("--user"), "{}", run.stderr);
}

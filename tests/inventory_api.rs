//! The org's inventory end to end: SBOMs and scanner reports uploaded with `posture upload`
//! to a real `posture serve` (default branches and deployments), then read over HTTP — the
//! component search, the SBOM export, drift and the "deployed to production" factor — on
//! SQLite and on PostgreSQL, each answer under the org's access rules.

mod common;

use std::path::{Path, PathBuf};

use common::org::*;
use common::posture_with_env as posture;
use common::schemas::{validate_cyclonedx, validate_spdx};
use common::{Run, fixture};
use serde_json::{Value, json};
use tempfile::TempDir;

const LOG4J: &str = "pkg:maven/org.apache.logging.log4j/log4j-core";

/// `posture upload` of a deployment scan (`--environment`).
fn upload_deployment(
    server: &common::server::Server,
    token: &str,
    repository: &str,
    environment: &str,
    reports: &[&Path],
) -> Run {
    upload(
        server,
        token,
        repository,
        COMMIT_2,
        Scanned::Deployment(environment),
        None,
        reports,
    )
}

/// A CycloneDX SBOM of what a deployment runs, in the shape SBOM tools write.
fn deployment_sbom(dir: &Path, name: &str, components: &[(&str, &str)]) -> PathBuf {
    let components: Vec<Value> = components
        .iter()
        .map(|(purl, version)| {
            let name = purl.rsplit('/').next().unwrap();
            json!({
                "bom-ref": format!("{purl}@{version}"),
                "type": "library",
                "name": name,
                "version": version,
                "purl": format!("{purl}@{version}"),
            })
        })
        .collect();
    let sbom = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {"component": {"type": "container", "name": "registry.example/shop", "version": "v42"}},
        "components": components,
    });
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(&sbom).unwrap()).unwrap();
    path
}

fn log4j_sbom() -> PathBuf {
    fixture("sca/cyclonedx/dd_log4j.json")
}

async fn inventory(backend: Backend) {
    let db = Db::new(backend).await;
    let dir = TempDir::new().unwrap();
    let owner = create_token(&db, "acme", "upload,read", "ci");
    let stranger = create_token(&db, "globex", "upload,read", "other org");
    let uploader = create_token(&db, "acme", "upload", "upload only");
    let server = start_server(&db);
    let api = Api::new(&server);
    let t1 = time(seconds_ago(3 * 86_400));

    // Two repositories' default branches carry log4j-core 2.13.2 (a grype CycloneDX SBOM
    // with its vulnerabilities).
    for repository in ["acme/shop", "acme/billing"] {
        let run = upload_cli(
            &server,
            &owner.secret,
            repository,
            COMMIT_1,
            &t1,
            &[&log4j_sbom()],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.json()["components"], 1, "{}", run.stdout);
    }
    // shop runs exactly what its branch declares; billing runs an older log4j-core and a
    // package its branch does not declare.
    let shop_prod = deployment_sbom(dir.path(), "shop.cdx.json", &[(LOG4J, "2.13.2")]);
    let run = upload_deployment(
        &server,
        &owner.secret,
        "acme/shop",
        "production",
        &[&shop_prod],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["environment"], "production");
    let billing_prod = deployment_sbom(
        dir.path(),
        "billing.cdx.json",
        &[(LOG4J, "2.9.0"), ("pkg:npm/debug", "2.6.9")],
    );
    let run = upload_deployment(
        &server,
        &owner.secret,
        "acme/billing",
        "production",
        &[&billing_prod],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["components"], 2);
    assert!(
        run.json().get("snapshot").is_none(),
        "a deployment's scan is not a commit's snapshot: {}",
        run.stdout
    );
    // A second image of billing's production keeps the first image's rows.
    let worker = deployment_sbom(dir.path(), "worker.cdx.json", &[("pkg:npm/ms", "2.1.3")]);
    let run = upload_deployment(
        &server,
        &owner.secret,
        "acme/billing",
        "production",
        &[&worker],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // A delayed job's older scan of that image cannot roll production back.
    let stale = upload(
        &server,
        &owner.secret,
        "acme/billing",
        COMMIT_1,
        Scanned::Deployment("production"),
        Some(&t1),
        &[&worker],
    );
    assert_eq!(stale.code, 2, "{}", stale.stderr);
    assert!(
        stale
            .stderr
            .contains("before the latest production inventory"),
        "{}",
        stale.stderr
    );

    // A deployment scan must say what runs; a scan cannot be of both.
    let sarif = fixture("sarif/bandit_1.9.4_yaml_load.sarif");
    let run = upload_deployment(&server, &owner.secret, "acme/shop", "staging", &[&sarif]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("needs a report that lists what runs"),
        "{}",
        run.stderr
    );
    let run = posture(
        &[
            "upload",
            "--server",
            &server.base,
            "--repository",
            "acme/shop",
            "--commit",
            COMMIT_2,
            "--branch",
            "main",
            "--default-branch",
            "--environment",
            "production",
            sarif.to_str().unwrap(),
        ],
        &[("POSTURE_TOKEN", &owner.secret)],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);

    // "Where is log4j-core below 2.17.1 used?"
    let search = format!("/orgs/acme/components?purl={LOG4J}&version=%3C2.17.1");
    let found = api.get(&search, Some(&owner.secret)).await.ok();
    let rows = found["components"].as_array().unwrap();
    let seen: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["repository"].as_str().unwrap(),
                r["target"].as_str().unwrap(),
                r["version"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("acme/billing", "default_branch", "2.13.2"),
            ("acme/billing", "production", "2.9.0"),
            ("acme/shop", "default_branch", "2.13.2"),
            ("acme/shop", "production", "2.13.2"),
        ]
    );
    let branch_row = &rows[0];
    assert_eq!(branch_row["introduced_commit"], COMMIT_1, "{branch_row}");
    assert_eq!(branch_row["purl"], format!("{LOG4J}@2.13.2"));
    assert_eq!(branch_row["scope"], "runtime");
    assert!(branch_row["manifest"].is_string(), "{branch_row}");
    assert_eq!(found["next_cursor"], Value::Null);
    // Above the fix nothing is used; paging and CSV keep the order.
    let none = api
        .get(
            &format!("/orgs/acme/components?purl={LOG4J}&version=%3E%3D2.17.1"),
            Some(&owner.secret),
        )
        .await
        .ok();
    assert_eq!(none["components"].as_array().unwrap().len(), 0);
    let first = api
        .get(&format!("{search}&limit=3"), Some(&owner.secret))
        .await
        .ok();
    assert_eq!(first["components"].as_array().unwrap().len(), 3);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = api
        .get(
            &format!("{search}&limit=3&cursor={cursor}"),
            Some(&owner.secret),
        )
        .await
        .ok();
    assert_eq!(second["components"][0]["target"], "production");
    assert_eq!(second["components"][0]["repository"], "acme/shop");
    assert_eq!(second["next_cursor"], Value::Null);
    let csv = api
        .get(&format!("{search}&format=csv"), Some(&owner.secret))
        .await;
    assert_eq!(csv.status, 200);
    let mut lines = csv.body.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("repository,target,purl,ecosystem,name,version")
    );
    assert_eq!(lines.count(), 4);
    // A version in the purl is an exact match.
    let exact = api
        .get(
            &format!("/orgs/acme/components?purl={LOG4J}@2.9.0"),
            Some(&owner.secret),
        )
        .await
        .ok();
    assert_eq!(exact["components"].as_array().unwrap().len(), 1);
    for (query, problem) in [
        ("purl=log4j", "not a package URL"),
        ("version=%3C%3C1", "needs one of =, <"),
        ("scope=build", "unknown scope"),
        ("target=prod", "unknown target"),
        ("colour=red", "unknown parameter"),
    ] {
        let message = api
            .get(
                &format!("/orgs/acme/components?{query}"),
                Some(&owner.secret),
            )
            .await
            .error(400, "bad_request");
        assert!(message.contains(problem), "{query}: {message}");
    }

    // Drift: billing runs an older log4j-core and a package its branch does not declare.
    let drift = api
        .get("/repos/acme/billing/drift", Some(&owner.secret))
        .await
        .ok();
    let production = &drift["deployments"][0];
    assert_eq!(production["environment"], "production", "{drift}");
    assert_eq!(production["components"], 3, "both images: {drift}");
    assert_eq!(
        production["drift"]["older_deployed"][0]["name"],
        "org.apache.logging.log4j:log4j-core"
    );
    assert_eq!(
        production["drift"]["older_deployed"][0]["deployed"],
        json!(["2.9.0"])
    );
    assert_eq!(production["drift"]["only_deployed"][0]["name"], "debug");
    let shop = api
        .get("/repos/acme/shop/drift", Some(&owner.secret))
        .await
        .ok();
    let shop_drift = &shop["deployments"][0]["drift"];
    for list in [
        "only_deployed",
        "older_deployed",
        "newer_deployed",
        "only_declared",
    ] {
        assert_eq!(shop_drift[list], json!([]), "{list}: {shop}");
    }
    let org_drift = api.get("/orgs/acme/drift", Some(&owner.secret)).await.ok();
    assert_eq!(
        org_drift["repositories"].as_array().unwrap().len(),
        2,
        "{org_drift}"
    );

    // The SBOM of a default branch, in both formats.
    let cyclonedx = api
        .get(
            "/repos/acme/shop/sbom?format=cyclonedx",
            Some(&owner.secret),
        )
        .await
        .ok();
    assert_eq!(cyclonedx["bomFormat"], "CycloneDX");
    assert_eq!(validate_cyclonedx(&cyclonedx), Vec::<String>::new());
    assert!(
        cyclonedx.to_string().contains(&format!("{LOG4J}@2.13.2")),
        "{cyclonedx}"
    );
    let spdx = api
        .get("/repos/acme/shop/sbom?format=spdx", Some(&owner.secret))
        .await
        .ok();
    assert_eq!(spdx["spdxVersion"], "SPDX-2.3");
    assert_eq!(validate_spdx(&spdx), Vec::<String>::new());
    let message = api
        .get("/repos/acme/shop/sbom?format=xml", Some(&owner.secret))
        .await
        .error(400, "bad_request");
    assert!(message.contains("format"), "{message}");

    // What production runs ranks higher: the same findings, 10 points more in shop, whose
    // production deployment runs the vulnerable version (billing's runs another).
    for repository in ["acme/shop", "acme/billing"] {
        let run = upload_cli(
            &server,
            &owner.secret,
            repository,
            COMMIT_2,
            &time(seconds_ago(3600)),
            &[&log4j_sbom()],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let scores = |answer: Value| -> Vec<(String, i64)> {
        let mut scores: Vec<(String, i64)> = answer["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["finding_id"].as_str().unwrap().to_owned(),
                    f["risk_score"].as_i64().unwrap(),
                )
            })
            .collect();
        scores.sort();
        scores
    };
    let shop = scores(
        api.get(
            "/orgs/acme/findings?repository=acme/shop",
            Some(&owner.secret),
        )
        .await
        .ok(),
    );
    let billing = scores(
        api.get(
            "/orgs/acme/findings?repository=acme/billing",
            Some(&owner.secret),
        )
        .await
        .ok(),
    );
    assert_eq!(shop.len(), 8);
    assert_eq!(shop.len(), billing.len());
    let mut compared = 0;
    for ((id, in_shop), (billing_id, in_billing)) in shop.iter().zip(&billing) {
        assert_eq!(id, billing_id, "one finding id in both repositories");
        if *in_billing <= 90 {
            assert_eq!(*in_shop, in_billing + 10, "{id}");
            compared += 1;
        }
    }
    assert!(
        compared > 0,
        "a finding below the clamp to compare: {billing:?}"
    );

    // The API inventory, as a baseline job records it from the default branch's OpenAPI
    // documents (here the OAI petstore: a public server, three operations without security).
    let store = posture::store::Store::connect(&db.url).await.unwrap();
    let project = store
        .upsert_project(posture::store::Forge::GitHub, "acme/shop", None)
        .await
        .unwrap();
    let text = std::fs::read_to_string(fixture("openapi/petstore-3.0.yaml")).unwrap();
    let document = posture::inventory::openapi::read("api/petstore.yaml", &text)
        .unwrap()
        .unwrap();
    store
        .replace_endpoints(project, COMMIT_1, chrono::Utc::now(), &[document])
        .await
        .unwrap();
    let apis = api
        .get(
            "/orgs/acme/apis?security=none&public=true",
            Some(&owner.secret),
        )
        .await
        .ok();
    let endpoints = apis["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), 3, "{apis}");
    assert!(
        endpoints
            .iter()
            .all(|e| e["repository"] == "acme/shop" && e["file"] == "api/petstore.yaml")
    );
    assert!(
        endpoints.iter().any(|e| e["path"] == "/pets/{petId}"),
        "{apis}"
    );
    let required = api
        .get("/orgs/acme/apis?security=required", Some(&owner.secret))
        .await
        .ok();
    assert_eq!(required["endpoints"], json!([]));
    let shop_apis = api
        .get("/repos/acme/shop/apis", Some(&owner.secret))
        .await
        .ok();
    assert_eq!(shop_apis["endpoints"].as_array().unwrap().len(), 3);
    let billing_apis = api
        .get("/repos/acme/billing/apis", Some(&owner.secret))
        .await
        .ok();
    assert_eq!(billing_apis["endpoints"], json!([]));

    // Out of reach is 404 whatever the path; without `read` it is 403.
    for path in [
        "/orgs/acme/components",
        "/orgs/acme/apis",
        "/orgs/acme/drift",
        "/repos/acme/shop/sbom",
        "/repos/acme/shop/drift",
        "/repos/acme/shop/components",
        "/repos/acme/shop/apis",
    ] {
        api.get(path, Some(&stranger.secret))
            .await
            .error(404, "not_found");
        api.get(path, Some(&uploader.secret))
            .await
            .error(403, "forbidden");
        api.get(path, None).await.error(401, "unauthorized");
    }
    // A repository of the org posture never saw is as absent as another org's.
    api.get("/repos/acme/unknown/sbom", Some(&owner.secret))
        .await
        .error(404, "not_found");
    api.get("/repos/acme/shop/nothing", Some(&owner.secret))
        .await
        .error(404, "not_found");
    let other = api
        .get(
            &format!("/orgs/globex/components?purl={LOG4J}"),
            Some(&stranger.secret),
        )
        .await
        .ok();
    assert_eq!(
        other["components"],
        json!([]),
        "another org sees none of acme's"
    );
    server.kill();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_inventory_answers_where_a_package_runs_on_sqlite() {
    inventory(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_inventory_answers_where_a_package_runs_on_postgres() {
    inventory(Backend::Postgres).await;
}

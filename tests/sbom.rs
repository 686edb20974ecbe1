//! `posture sbom` and the SBOM writers behind it against the published CycloneDX 1.6 and SPDX 2.3 JSON schemas (offline,
//! from `fixtures/schemas/`), plus what the schemas cannot say: unique ids, references that
//! resolve, valid licence expressions, stable output.

mod common;

use std::collections::BTreeSet;

use chrono::TimeZone;
use serde_json::Value;

use common::schemas::{validate_cyclonedx, validate_spdx};
use posture::inventory::sbom::*;
use posture::model::{Component, ComponentScope, Ecosystem, Licenses, Package};

fn subject() -> Subject<'static> {
    Subject {
        name: "acme/shop",
        revision: "0123456789abcdef0123456789abcdef01234567",
        // Constant, not "now": the documents must be reproducible.
        created: chrono::Utc
            .with_ymd_and_hms(2026, 3, 14, 15, 9, 26)
            .single()
            .unwrap(),
    }
}

fn component(
    ecosystem: Ecosystem,
    name: &str,
    version: Option<&str>,
    manifest: &str,
    scope: ComponentScope,
) -> Component {
    let mut component = Component::new(
        Package {
            ecosystem,
            name: name.into(),
            version: version.map(str::to_string),
            manifest: Some(manifest.into()),
        },
        scope,
    )
    .unwrap();
    component.direct = Some(true);
    component
}

/// Every ecosystem and scope, a transitive chain, a licence expression, free licence text,
/// declared and concluded licences that differ, no version, an npm scope, a Maven group, a
/// component listed by two manifests, and one listed twice by the same manifest.
fn components() -> Vec<Component> {
    use ComponentScope::{Dev, Runtime, Test};
    let lock = "web/package-lock.json";
    let mut express = component(Ecosystem::Npm, "express", Some("4.18.2"), lock, Runtime);
    express.licenses.declared = Some("MIT".into());
    let mut body_parser = component(Ecosystem::Npm, "body-parser", Some("1.20.1"), lock, Runtime);
    body_parser.direct = Some(false);
    body_parser.chain = vec!["express@4.18.2".into(), "body-parser@1.20.1".into()];
    let mut qs = component(Ecosystem::Npm, "qs", Some("6.11.0"), lock, Runtime);
    qs.direct = Some(false);
    qs.chain = vec![
        "express@4.18.2".into(),
        "body-parser@1.20.1".into(),
        "qs@6.11.0".into(),
    ];
    qs.licenses.declared = Some("BSD-3-Clause".into());
    let mut babel = component(Ecosystem::Npm, "@babel/core", Some("7.22.5"), lock, Dev);
    babel.licenses = Licenses {
        declared: Some("MIT".into()),
        concluded: Some("MIT".into()),
    };
    let mut jest = component(Ecosystem::Npm, "jest", Some("29.7.0"), lock, Test);
    jest.licenses.declared = Some("SEE LICENSE IN LICENSE.md".into());
    let mut serde = component(
        Ecosystem::CratesIo,
        "serde",
        Some("1.0.200"),
        "Cargo.lock",
        Runtime,
    );
    serde.licenses.declared = Some("MIT OR Apache-2.0".into());
    let mut log4j = component(
        Ecosystem::Maven,
        "org.apache.logging.log4j:log4j-core",
        Some("2.17.1"),
        "pom.xml",
        Runtime,
    );
    log4j.licenses = Licenses {
        declared: Some("The Apache Software License, Version 2.0".into()),
        concluded: Some("Apache-2.0".into()),
    };
    let junit = component(
        Ecosystem::Maven,
        "junit:junit",
        Some("4.13.2"),
        "pom.xml",
        Test,
    );
    let mut requests = component(
        Ecosystem::PyPI,
        "requests",
        None,
        "requirements.txt",
        Runtime,
    );
    requests.direct = None;
    requests.licenses.concluded = Some("Apache-2.0 WITH LLVM-exception".into());
    let mut openssl = component(
        Ecosystem::Other("Debian".into()),
        "openssl",
        Some("1.1.1n-0+deb11u3"),
        "Dockerfile",
        Runtime,
    );
    openssl.licenses.declared = Some("NOASSERTION".into());
    let mut lodash_twice = component(Ecosystem::Npm, "lodash", Some("4.17.21"), lock, Dev);
    lodash_twice.direct = Some(false);
    vec![
        qs,
        express,
        body_parser,
        babel,
        jest,
        component(Ecosystem::Npm, "lodash", Some("4.17.21"), lock, Runtime),
        lodash_twice,
        component(
            Ecosystem::Npm,
            "lodash",
            Some("4.17.21"),
            "admin/package-lock.json",
            Dev,
        ),
        serde,
        component(
            Ecosystem::CratesIo,
            "proptest",
            Some("1.4.0"),
            "Cargo.lock",
            Dev,
        ),
        component(
            Ecosystem::Go,
            "github.com/gin-gonic/gin",
            Some("v1.9.1"),
            "go.mod",
            Runtime,
        ),
        log4j,
        junit,
        requests,
        component(
            Ecosystem::RubyGems,
            "rails",
            Some("7.1.2"),
            "Gemfile.lock",
            Runtime,
        ),
        component(
            Ecosystem::NuGet,
            "Newtonsoft.Json",
            Some("13.0.3"),
            "packages.lock.json",
            Runtime,
        ),
        component(
            Ecosystem::Packagist,
            "symfony/console",
            Some("v6.4.1"),
            "composer.lock",
            Runtime,
        ),
        component(
            Ecosystem::Pub,
            "http",
            Some("1.1.0"),
            "pubspec.lock",
            Runtime,
        ),
        component(
            Ecosystem::Hex,
            "phoenix",
            Some("1.7.10"),
            "mix.lock",
            Runtime,
        ),
        openssl,
        component(
            Ecosystem::Other("Alpine".into()),
            "musl",
            Some("1.2.4-r2"),
            "Dockerfile",
            Runtime,
        ),
        component(
            Ecosystem::Other("RPM".into()),
            "glibc",
            Some("2.34-60.el9"),
            "Dockerfile",
            Runtime,
        ),
    ]
}

fn strings<'v>(values: &'v Value, key: &str) -> Vec<&'v str> {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[key].as_str().unwrap())
        .collect()
}

#[test]
fn cyclonedx_follows_the_1_6_schema() {
    let bom = write(SbomFormat::Cyclonedx, &subject(), &components());
    let errors = validate_cyclonedx(&bom);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(bom["specVersion"], "1.6");
    assert_eq!(bom["metadata"]["timestamp"], "2026-03-14T15:09:26Z");
    let tool = &bom["metadata"]["tools"]["components"][0];
    assert_eq!(tool["name"], "posture");
    assert_eq!(tool["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(bom["metadata"]["component"]["name"], "acme/shop");
    let serial = bom["serialNumber"].as_str().unwrap();
    assert!(serial.starts_with("urn:uuid:"), "{serial}");
}

#[test]
fn cyclonedx_components_refs_scopes_groups_and_licences() {
    let bom = write(SbomFormat::Cyclonedx, &subject(), &components());
    let list = &bom["components"];
    let refs = strings(list, "bom-ref");
    assert_eq!(
        refs.len(),
        21,
        "lodash twice in one lockfile is written once"
    );
    assert_eq!(
        refs.iter().collect::<BTreeSet<_>>().len(),
        refs.len(),
        "unique"
    );
    let mut sorted = refs.clone();
    sorted.sort_unstable();
    assert_eq!(refs, sorted, "sorted");
    let find = |reference: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|c| c["bom-ref"] == reference)
            .unwrap_or_else(|| panic!("{reference}"))
    };
    let babel = find("pkg:npm/%40babel/core@7.22.5 | web/package-lock.json");
    assert_eq!(babel["group"], "@babel");
    assert_eq!(babel["name"], "core");
    assert_eq!(babel["scope"], "excluded");
    assert_eq!(
        babel["licenses"],
        serde_json::json!([{"expression": "MIT", "acknowledgement": "concluded"}])
    );
    let log4j = find("pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1 | pom.xml");
    assert_eq!(log4j["group"], "org.apache.logging.log4j");
    assert_eq!(log4j["name"], "log4j-core");
    assert_eq!(log4j["scope"], "required");
    assert_eq!(
        log4j["licenses"],
        serde_json::json!([
            {"license": {"id": "Apache-2.0", "acknowledgement": "concluded"}},
            {"license": {"name": "The Apache Software License, Version 2.0", "acknowledgement": "declared"}},
        ])
    );
    let jest = find("pkg:npm/jest@29.7.0 | web/package-lock.json");
    assert_eq!(
        jest["licenses"],
        serde_json::json!([{"license": {"name": "SEE LICENSE IN LICENSE.md", "acknowledgement": "declared"}}])
    );
    assert_eq!(
        jest["properties"],
        serde_json::json!([
            {"name": "posture:direct", "value": "true"},
            {"name": "posture:manifest", "value": "web/package-lock.json"},
            {"name": "posture:scope", "value": "test"},
        ])
    );
    let requests = find("pkg:pypi/requests | requirements.txt");
    assert!(requests.get("version").is_none());
    assert_eq!(
        requests["licenses"][0]["expression"],
        "Apache-2.0 WITH LLVM-exception"
    );
    let lodash = find("pkg:npm/lodash@4.17.21 | web/package-lock.json");
    assert_eq!(lodash["scope"], "required", "the runtime listing wins");
    let openssl = find("pkg:deb/openssl@1.1.1n-0%2Bdeb11u3 | Dockerfile");
    assert!(
        openssl.get("licenses").is_none(),
        "NOASSERTION is no licence"
    );
}

#[test]
fn cyclonedx_dependencies_follow_the_chains() {
    let bom = write(SbomFormat::Cyclonedx, &subject(), &components());
    let dependencies = bom["dependencies"].as_array().unwrap();
    let edges: BTreeSet<(String, String)> = dependencies
        .iter()
        .flat_map(|d| {
            let from = d["ref"].as_str().unwrap().to_string();
            d["dependsOn"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |to| (from.clone(), to.as_str().unwrap().to_string()))
        })
        .collect();
    let edge = |a: &str, b: &str| edges.contains(&(a.to_string(), b.to_string()));
    let root = "acme/shop@0123456789abcdef0123456789abcdef01234567";
    let express = "pkg:npm/express@4.18.2 | web/package-lock.json";
    let body_parser = "pkg:npm/body-parser@1.20.1 | web/package-lock.json";
    let qs = "pkg:npm/qs@6.11.0 | web/package-lock.json";
    assert!(edge(root, express));
    assert!(edge(express, body_parser));
    assert!(edge(body_parser, qs));
    assert!(!edge(root, qs), "transitive, not the subject's");
    assert!(
        edge(root, "pkg:pypi/requests | requirements.txt"),
        "direct unknown, no chain"
    );
    let refs: BTreeSet<&str> = strings(&bom["components"], "bom-ref").into_iter().collect();
    for (from, to) in &edges {
        assert!(from == root || refs.contains(from.as_str()), "{from}");
        assert!(refs.contains(to.as_str()), "{to}");
    }
}

#[test]
fn spdx_follows_the_2_3_schema_and_its_rules() {
    let document = write(SbomFormat::Spdx, &subject(), &components());
    let errors = validate_spdx(&document);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(document["spdxVersion"], "SPDX-2.3");
    assert_eq!(document["dataLicense"], "CC0-1.0");
    assert_eq!(document["SPDXID"], "SPDXRef-DOCUMENT");
    assert_eq!(
        document["creationInfo"]["creators"],
        serde_json::json!([format!("Tool: posture-{}", env!("CARGO_PKG_VERSION"))])
    );
    assert_eq!(document["creationInfo"]["created"], "2026-03-14T15:09:26Z");
    let namespace = document["documentNamespace"].as_str().unwrap();
    assert!(
        namespace.starts_with("https://spdx.org/spdxdocs/posture/acme-shop-"),
        "{namespace}"
    );

    let packages = document["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 22, "the subject and 21 components");
    let ids: Vec<&str> = strings(&document["packages"], "SPDXID");
    assert_eq!(
        ids.iter().collect::<BTreeSet<_>>().len(),
        ids.len(),
        "unique"
    );
    let extracted: BTreeSet<&str> = strings(&document["hasExtractedLicensingInfos"], "licenseId")
        .into_iter()
        .collect();
    for package in packages {
        let id = package["SPDXID"].as_str().unwrap();
        let rest = id.strip_prefix("SPDXRef-").unwrap();
        assert!(
            !rest.is_empty()
                && rest
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
            "{id}"
        );
        assert_eq!(package["downloadLocation"], "NOASSERTION");
        if id == "SPDXRef-Subject" {
            continue;
        }
        for field in ["licenseDeclared", "licenseConcluded"] {
            let license = package[field].as_str().unwrap();
            assert!(
                license == "NOASSERTION"
                    || (is_spdx_expression(license)
                        && (!license.starts_with("LicenseRef-") || extracted.contains(license))),
                "{id} {field}: {license}"
            );
        }
        let reference = &package["externalRefs"][0];
        assert_eq!(reference["referenceCategory"], "PACKAGE-MANAGER");
        assert_eq!(reference["referenceType"], "purl");
        assert!(
            reference["referenceLocator"]
                .as_str()
                .unwrap()
                .starts_with("pkg:")
        );
    }
    let by_purl = |purl: &str| {
        packages
            .iter()
            .find(|p| {
                p["externalRefs"][0]["referenceLocator"] == purl
                    && p["sourceInfo"]
                        .as_str()
                        .is_some_and(|s| !s.contains("admin/"))
            })
            .unwrap_or_else(|| panic!("{purl}"))
    };
    let jest = by_purl("pkg:npm/jest@29.7.0");
    let jest_licence = jest["licenseDeclared"].as_str().unwrap();
    assert!(jest_licence.starts_with("LicenseRef-"), "{jest_licence}");
    let info = document["hasExtractedLicensingInfos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["licenseId"] == jest_licence)
        .unwrap();
    assert_eq!(info["extractedText"], "SEE LICENSE IN LICENSE.md");
    let serde = by_purl("pkg:cargo/serde@1.0.200");
    assert_eq!(serde["licenseDeclared"], "MIT OR Apache-2.0");
    assert_eq!(serde["licenseConcluded"], "NOASSERTION");
    let requests = by_purl("pkg:pypi/requests");
    assert!(requests.get("versionInfo").is_none());

    let relationships: BTreeSet<(String, String, String)> = document["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let field = |k: &str| r[k].as_str().unwrap().to_string();
            (
                field("spdxElementId"),
                field("relationshipType"),
                field("relatedSpdxElement"),
            )
        })
        .collect();
    let id_of = |purl: &str| by_purl(purl)["SPDXID"].as_str().unwrap().to_string();
    let has = |a: &str, kind: &str, b: &str| {
        relationships.contains(&(a.to_string(), kind.to_string(), b.to_string()))
    };
    assert!(has("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Subject"));
    let subject = "SPDXRef-Subject";
    let express = id_of("pkg:npm/express@4.18.2");
    let body_parser = id_of("pkg:npm/body-parser@1.20.1");
    let qs = id_of("pkg:npm/qs@6.11.0");
    assert!(has(subject, "DEPENDS_ON", &express));
    assert!(has(&express, "DEPENDS_ON", &body_parser));
    assert!(has(&body_parser, "DEPENDS_ON", &qs));
    assert!(has(
        &id_of("pkg:npm/%40babel/core@7.22.5"),
        "DEV_DEPENDENCY_OF",
        subject
    ));
    assert!(has(
        &id_of("pkg:maven/junit/junit@4.13.2"),
        "TEST_DEPENDENCY_OF",
        subject
    ));
    let all: BTreeSet<&str> = ids.iter().copied().chain(["SPDXRef-DOCUMENT"]).collect();
    for (a, _, b) in &relationships {
        assert!(
            all.contains(a.as_str()) && all.contains(b.as_str()),
            "{a} {b}"
        );
    }
}

#[test]
fn the_same_input_gives_byte_identical_documents() {
    for format in [SbomFormat::Cyclonedx, SbomFormat::Spdx] {
        let mut shuffled = components();
        shuffled.reverse();
        let first = serde_json::to_string_pretty(&write(format, &subject(), &components()));
        let second = serde_json::to_string_pretty(&write(format, &subject(), &shuffled));
        assert_eq!(first.unwrap(), second.unwrap(), "{format}");
        let mut changed = components();
        changed[0].package.version = Some("6.11.1".into());
        changed[0].purl = "pkg:npm/qs@6.11.1".into();
        let one = write(format, &subject(), &components());
        let other = write(format, &subject(), &changed);
        let identity = match format {
            SbomFormat::Cyclonedx => "serialNumber",
            SbomFormat::Spdx => "documentNamespace",
        };
        assert_ne!(one[identity], other[identity], "{format}");
    }
}

#[test]
fn an_empty_inventory_is_still_a_valid_document() {
    let bom = write(SbomFormat::Cyclonedx, &subject(), &[]);
    let errors = validate_cyclonedx(&bom);
    assert!(errors.is_empty(), "{errors:#?}");
    let document = write(SbomFormat::Spdx, &subject(), &[]);
    assert!(validate_spdx(&document).is_empty());
    assert_eq!(document["packages"].as_array().unwrap().len(), 1);
}

#[test]
fn formats_parse_from_the_api_query() {
    assert_eq!("cyclonedx".parse(), Ok(SbomFormat::Cyclonedx));
    assert_eq!("SPDX".parse(), Ok(SbomFormat::Spdx));
    assert!("swid".parse::<SbomFormat>().unwrap_err().contains("swid"));
    assert_eq!(SbomFormat::Spdx.to_string(), "spdx");
}

// ---------------------------------------------------------------------------------------
// `posture sbom` on real repositories

/// A repository holding every lockfile and manifest fixture (`fixtures/inventory/`), one
/// project per folder, committed: a polyglot monorepo.
fn monorepo() -> (common::Repo, usize) {
    let mut repo = common::Repo::new();
    let root = common::fixture("inventory");
    let mut files = 0;
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().unwrap() != "SOURCES.txt" {
                let relative = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned();
                repo.write(&relative, &std::fs::read_to_string(&path).unwrap());
                files += 1;
            }
        }
    }
    repo.commit("Ann", "every ecosystem");
    (repo, files)
}

fn sbom(repo: &common::Repo, rev: &str, format: &str, extra: &[&str]) -> common::Run {
    let mut args = vec![
        "sbom",
        "--repo",
        repo.path().to_str().unwrap(),
        "--rev",
        rev,
        "--format",
        format,
        "--name",
        "acme/monorepo",
    ];
    args.extend_from_slice(extra);
    common::posture(&args)
}

#[test]
fn posture_sbom_of_every_fixture_lockfile_follows_both_schemas() {
    let (repo, files) = monorepo();
    assert!(files >= 20, "{files} fixture files");
    let trivy = common::fixture("sca/trivy/npm.json");
    let cyclonedx = sbom(
        &repo,
        "main",
        "cyclonedx",
        &["--report", trivy.to_str().unwrap()],
    );
    assert_eq!(cyclonedx.code, 0, "{}", cyclonedx.stderr);
    let bom: Value = cyclonedx.json();
    assert_eq!(validate_cyclonedx(&bom), Vec::<String>::new());
    let components = bom["components"].as_array().unwrap();
    assert!(components.len() > 100, "{} components", components.len());
    let purls: BTreeSet<&str> = components
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .collect();
    for ecosystem in ["npm", "cargo", "pypi", "golang", "maven", "gem", "composer"] {
        assert!(
            purls
                .iter()
                .any(|p| p.starts_with(&format!("pkg:{ecosystem}/"))),
            "no {ecosystem} component in {purls:?}"
        );
    }
    assert!(
        cyclonedx.stderr.contains("components of acme/monorepo"),
        "{}",
        cyclonedx.stderr
    );

    let spdx = sbom(
        &repo,
        "main",
        "spdx",
        &["--report", trivy.to_str().unwrap()],
    );
    assert_eq!(spdx.code, 0, "{}", spdx.stderr);
    let document: Value = spdx.json();
    assert_eq!(validate_spdx(&document), Vec::<String>::new());
    // The subject and one package per component.
    assert_eq!(
        document["packages"].as_array().unwrap().len(),
        components.len() + 1
    );

    // The same revision, the same document: the time is the commit's, not the clock's.
    let again = sbom(
        &repo,
        "main",
        "cyclonedx",
        &["--report", trivy.to_str().unwrap()],
    );
    assert_eq!(again.stdout, cyclonedx.stdout);
}

#[test]
fn posture_sbom_of_the_demo_repository_writes_to_a_file() {
    let repo = common::Repo::demo();
    let out = repo.path().parent().unwrap().join("demo.spdx.json");
    let run = common::posture(&[
        "sbom",
        "--repo",
        repo.path().to_str().unwrap(),
        "--format",
        "spdx",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let document: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(validate_spdx(&document), Vec::<String>::new());
    assert_eq!(document["spdxVersion"], "SPDX-2.3");
}

#[test]
fn posture_sbom_names_what_it_cannot_read() {
    let (repo, _) = monorepo();
    let run = sbom(&repo, "no-such-branch", "cyclonedx", &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no-such-branch"), "{}", run.stderr);
    let broken = repo.path().parent().unwrap().join("broken.json");
    std::fs::write(&broken, "{\"bomFormat\": \"CycloneDX\", ").unwrap();
    let run = sbom(
        &repo,
        "main",
        "cyclonedx",
        &["--report", broken.to_str().unwrap()],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("broken.json"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "nothing half-written");
}

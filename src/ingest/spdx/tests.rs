//! The SPDX reader on the SPDX specification's own 2.3 example, on a document shaped like
//! the GitHub dependency graph export, on posture's own export, and on broken documents.

use chrono::TimeZone;

use super::*;
use crate::ingest::{Format, SecretHasher, detect};
use crate::inventory::sbom::{self, SbomFormat, Subject};
use crate::model::{Ecosystem, Package as ModelPackage};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/fixtures/sbom/spdx/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The example of the SPDX 2.3 specification: four packages, one the document describes,
/// one with a package URL (Jena), two without.
#[test]
fn the_specification_example() {
    let bytes = fixture("SPDXJSONExample-v2.3.spdx.json");
    assert_eq!(detect(&bytes), Some(Format::Spdx));
    let report = crate::ingest::parse("sbom.spdx.json", &bytes, &SecretHasher::default()).unwrap();
    assert_eq!(report.format, Format::Spdx);
    assert_eq!(report.tools, vec!["LicenseFind"]);
    assert!(report.findings.is_empty(), "an SBOM has no findings");
    assert_eq!(
        report.warnings,
        vec!["SPDX: 2 package(s) without a package URL skipped"]
    );
    assert_eq!(report.components.len(), 1);
    let jena = &report.components[0];
    assert_eq!(jena.purl, "pkg:maven/org.apache.jena/apache-jena@3.12.0");
    assert_eq!(jena.package.ecosystem, Ecosystem::Maven);
    assert_eq!(jena.package.name, "org.apache.jena:apache-jena");
    assert_eq!(jena.package.version.as_deref(), Some("3.12.0"));
    assert_eq!(jena.package.manifest, None);
    assert_eq!(jena.direct, None, "no dependency relationship names it");
    assert!(jena.licenses.is_empty());
}

/// Shaped like GitHub's dependency graph export (protobom): the repository package the
/// document describes depends on every package; a package URL without a version; licences
/// concluded only.
const GITHUB_EXPORT: &str = r#"{
  "spdxVersion": "SPDX-2.3",
  "dataLicense": "CC0-1.0",
  "SPDXID": "SPDXRef-DOCUMENT",
  "name": "com.github.acme/shop",
  "documentNamespace": "https://spdx.org/spdxdocs/protobom/bd363291-b3aa-478a-91b9-d2a76c20a3b0",
  "creationInfo": {
    "creators": ["Tool: protobom-v0.0.0-20250919084336-6301d6fbb0b9+dirty", "Tool: GitHub.com-Dependency-Graph"],
    "created": "2025-09-24T08:05:47Z"
  },
  "packages": [
    {"name": "express", "SPDXID": "SPDXRef-npm-express-4.18.2-aaaaaa", "versionInfo": "4.18.2",
     "downloadLocation": "NOASSERTION", "filesAnalyzed": false, "licenseConcluded": "MIT",
     "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:npm/express@4.18.2"}]},
    {"name": "qs", "SPDXID": "SPDXRef-npm-qs-6.11.0-bbbbbb", "versionInfo": "6.11.0",
     "downloadLocation": "NOASSERTION", "filesAnalyzed": false, "licenseConcluded": "BSD-3-Clause",
     "externalRefs": [{"referenceCategory": "PACKAGE_MANAGER", "referenceType": "purl", "referenceLocator": "pkg:npm/qs@6.11.0"}]},
    {"name": "sphinx-autobuild", "SPDXID": "SPDXRef-pypi-sphinx-autobuild-7b26ed", "versionInfo": "2024.2.4",
     "downloadLocation": "NOASSERTION", "filesAnalyzed": false,
     "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:pypi/sphinx-autobuild"}]},
    {"name": "jest", "SPDXID": "SPDXRef-npm-jest-29.7.0-cccccc", "versionInfo": "29.7.0",
     "downloadLocation": "NOASSERTION", "filesAnalyzed": false, "licenseConcluded": "NOASSERTION",
     "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:npm/jest@29.7.0"}]},
    {"name": "com.github.acme/shop", "SPDXID": "SPDXRef-github-acme-shop-main-1fcc87", "versionInfo": "main",
     "downloadLocation": "git+https://github.com/acme/shop", "filesAnalyzed": false,
     "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:github/acme/shop@main"}]}
  ],
  "relationships": [
    {"spdxElementId": "SPDXRef-github-acme-shop-main-1fcc87", "relatedSpdxElement": "SPDXRef-npm-express-4.18.2-aaaaaa", "relationshipType": "DEPENDS_ON"},
    {"spdxElementId": "SPDXRef-npm-express-4.18.2-aaaaaa", "relatedSpdxElement": "SPDXRef-npm-qs-6.11.0-bbbbbb", "relationshipType": "DEPENDS_ON"},
    {"spdxElementId": "SPDXRef-github-acme-shop-main-1fcc87", "relatedSpdxElement": "SPDXRef-pypi-sphinx-autobuild-7b26ed", "relationshipType": "DEPENDS_ON"},
    {"spdxElementId": "SPDXRef-npm-jest-29.7.0-cccccc", "relatedSpdxElement": "SPDXRef-github-acme-shop-main-1fcc87", "relationshipType": "DEV_DEPENDENCY_OF"},
    {"spdxElementId": "SPDXRef-npm-express-4.18.2-aaaaaa", "relatedSpdxElement": "SPDXRef-github-acme-shop-main-1fcc87", "relationshipType": "DEV_DEPENDENCY_OF"},
    {"spdxElementId": "SPDXRef-DOCUMENT", "relatedSpdxElement": "SPDXRef-github-acme-shop-main-1fcc87", "relationshipType": "DESCRIBES"}
  ]
}"#;

#[test]
fn direct_and_transitive_from_the_relationships() {
    let parsed = parse(GITHUB_EXPORT.as_bytes()).unwrap();
    assert_eq!(parsed.tools, vec!["GitHub.com-Dependency-Graph"]);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let purls: Vec<&str> = parsed.components.iter().map(|c| c.purl.as_str()).collect();
    assert_eq!(
        purls,
        vec![
            "pkg:npm/express@4.18.2",
            "pkg:npm/qs@6.11.0",
            "pkg:pypi/sphinx-autobuild@2024.2.4",
            "pkg:npm/jest@29.7.0"
        ],
        "the described repository is not a component"
    );
    let [express, qs, sphinx, jest] = &parsed.components[..] else {
        panic!("four components")
    };
    assert_eq!(express.direct, Some(true));
    assert_eq!(
        express.scope,
        ComponentScope::Runtime,
        "a runtime dependency that is also a dev one runs"
    );
    assert_eq!(express.licenses.concluded.as_deref(), Some("MIT"));
    assert_eq!(express.licenses.declared, None);
    assert_eq!(qs.direct, Some(false), "only express depends on it");
    assert_eq!(qs.scope, ComponentScope::Runtime);
    assert_eq!(
        sphinx.package.version.as_deref(),
        Some("2024.2.4"),
        "versionInfo when the package URL has none"
    );
    assert_eq!(
        sphinx.purl, "pkg:pypi/sphinx-autobuild@2024.2.4",
        "and the package URL names it"
    );
    assert_eq!(jest.scope, ComponentScope::Dev);
    assert_eq!(jest.direct, Some(true));
    assert!(jest.licenses.is_empty(), "NOASSERTION is no licence");
}

/// posture's own SPDX export read back: the same packages, manifests, scopes, licences and
/// directness.
#[test]
fn posture_export_reads_back() {
    let component = |name: &str, manifest: &str, scope: ComponentScope| {
        let mut c = Component::new(
            ModelPackage {
                ecosystem: Ecosystem::Npm,
                name: name.into(),
                version: Some("1.0.0".into()),
                manifest: Some(manifest.into()),
            },
            scope,
        )
        .unwrap();
        c.direct = Some(true);
        c
    };
    let mut express = component("express", "package-lock.json", ComponentScope::Runtime);
    express.licenses.declared = Some("MIT".into());
    let mut qs = component("qs", "package-lock.json", ComponentScope::Runtime);
    qs.direct = Some(false);
    qs.chain = vec!["express@1.0.0".into(), "qs@1.0.0".into()];
    qs.licenses.concluded = Some("BSD-3-Clause OR MIT".into());
    let mut jest = component("jest", "web/package-lock.json", ComponentScope::Test);
    jest.licenses.declared = Some("SEE LICENSE IN LICENSE.md".into());
    let eslint = component("eslint", "web/package-lock.json", ComponentScope::Dev);
    let written = vec![express, qs, jest, eslint];
    let subject = Subject {
        name: "acme/shop",
        revision: "abc123",
        created: chrono::Utc
            .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
            .single()
            .unwrap(),
    };
    let document = sbom::write(SbomFormat::Spdx, &subject, &written);
    let bytes = serde_json::to_vec_pretty(&document).unwrap();
    assert_eq!(detect(&bytes), Some(Format::Spdx));
    let parsed = parse(&bytes).unwrap();
    assert_eq!(parsed.tools, vec!["posture"]);
    assert_eq!(parsed.components.len(), 4);
    for original in &written {
        let read = parsed
            .components
            .iter()
            .find(|c| c.purl == original.purl && c.package.manifest == original.package.manifest)
            .unwrap_or_else(|| panic!("{}", original.purl));
        assert_eq!(read.package, original.package);
        assert_eq!(read.scope, original.scope, "{}", original.purl);
        assert_eq!(read.direct, original.direct, "{}", original.purl);
        assert_eq!(read.licenses.concluded, original.licenses.concluded);
    }
    let jest = parsed
        .components
        .iter()
        .find(|c| c.package.name == "jest")
        .unwrap();
    let reference = jest.licenses.declared.as_deref().unwrap();
    assert!(
        reference.starts_with("LicenseRef-"),
        "free text as a licence reference: {reference}"
    );
}

#[test]
fn malformed_documents_name_the_position() {
    let hasher = SecretHasher::default();
    let bytes = fixture("SPDXJSONExample-v2.3.spdx.json");
    let error = crate::ingest::parse("sbom.spdx.json", &bytes[..9000], &hasher).unwrap_err();
    assert_eq!(error.file, "sbom.spdx.json");
    assert_eq!(error.format, Some(Format::Spdx));
    let position = error.position.clone().unwrap();
    assert!(position.starts_with("line "), "{position}");
    assert!(
        error
            .to_string()
            .starts_with("sbom.spdx.json: SPDX JSON: at line "),
        "{error}"
    );

    let wrong = br#"{"spdxVersion":"SPDX-2.3","packages":[{"SPDXID":"a"},
        {"SPDXID":"b","externalRefs":[{"referenceType":"purl","referenceLocator":["pkg:npm/x@1"]}]}]}"#;
    let error = crate::ingest::parse("bad.json", wrong, &hasher).unwrap_err();
    assert_eq!(error.format, Some(Format::Spdx));
    assert_eq!(
        error.position.as_deref(),
        Some("$.packages[1].externalRefs[0].referenceLocator")
    );
}

#[test]
fn odd_but_valid_documents() {
    // Not a package URL, a non-SPDX-2 version, no creators: read, warned, never a panic.
    let parsed = parse(
        br#"{"spdxVersion":"SPDX-3.0","packages":[{"SPDXID":"p","externalRefs":[
            {"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"not a purl"}]}],
            "relationships":[{"spdxElementId":"p","relationshipType":"DEPENDS_ON","relatedSpdxElement":"p"}]}"#,
    )
    .unwrap();
    assert_eq!(parsed.tools, vec!["SPDX"]);
    assert!(parsed.components.is_empty());
    assert_eq!(
        parsed.warnings,
        vec![
            "SPDX: version `SPDX-3.0` is not SPDX 2; read as SPDX 2.3",
            "SPDX: 1 package(s) without a package URL skipped"
        ]
    );
}

#[test]
fn tool_names_without_their_version() {
    assert_eq!(without_version("syft-0.83.0"), "syft");
    assert_eq!(without_version("trivy-0.71.2"), "trivy");
    assert_eq!(
        without_version("protobom-v0.0.0-20250919084336-6301d6fbb0b9+dirty"),
        "protobom"
    );
    assert_eq!(
        without_version("GitHub.com-Dependency-Graph"),
        "GitHub.com-Dependency-Graph"
    );
    assert_eq!(without_version("posture"), "posture");
}

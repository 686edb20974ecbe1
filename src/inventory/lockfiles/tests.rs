//! Tests of the inventory readers, on real lockfiles and manifests from public repositories
//! (fixtures/inventory, origins in its SOURCES.txt). Line numbers were checked by eye
//! against the fixtures.

use super::*;

/// The fixtures `names` of `fixtures/inventory/<dir>`, as if they were in `as_dir` of a
/// repository.
fn load(dir: &str, names: &[&str], as_dir: &str) -> Vec<(String, String)> {
    names
        .iter()
        .map(|name| {
            let path = format!(
                "{}/fixtures/inventory/{dir}/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            let in_repo = if as_dir.is_empty() {
                name.to_string()
            } else {
                format!("{as_dir}/{name}")
            };
            (in_repo, text)
        })
        .collect()
}

fn find<'a>(inventory: &'a Inventory, name: &str) -> &'a Component {
    let found: Vec<&Component> = inventory
        .components
        .iter()
        .filter(|c| c.package.name == name)
        .collect();
    assert_eq!(found.len(), 1, "{name}: {found:#?}");
    found[0]
}

fn dump(inventory: &Inventory) -> String {
    inventory
        .components
        .iter()
        .map(|c| {
            format!(
                "{} {:?} {} direct={:?} line={:?} chain={:?} lic={:?}\n",
                c.purl, c.package.manifest, c.scope, c.direct, c.line, c.chain, c.licenses.declared
            )
        })
        .collect::<String>()
        + &inventory.warnings.join("\n")
}

fn chain(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The one warning of `inventory`.
fn warning(inventory: &Inventory) -> &str {
    assert_eq!(inventory.warnings.len(), 1, "{:?}", inventory.warnings);
    &inventory.warnings[0]
}

#[test]
fn inventory_files_are_known_by_name_outside_installed_trees() {
    for path in [
        "package-lock.json",
        "web/npm-shrinkwrap.json",
        "a/b/yarn.lock",
        "pnpm-lock.yaml",
        "Cargo.toml",
        "crates/x/Cargo.lock",
        "pyproject.toml",
        "poetry.lock",
        "uv.lock",
        "requirements.txt",
        "requirements-dev.txt",
        "svc/go.mod",
        "go.sum",
        "pom.xml",
        "Gemfile",
        "Gemfile.lock",
        "composer.json",
        "composer.lock",
        "package.json",
    ] {
        assert!(is_inventory_file(path), "{path}");
    }
    for path in [
        "node_modules/left-pad/package.json",
        "web/node_modules/a/package-lock.json",
        "vendor/github.com/x/go.mod",
        "php/vendor/monolog/monolog/composer.json",
        "README.md",
        "requirements.in",
        "src/package.json.bak",
    ] {
        assert!(!is_inventory_file(path), "{path}");
    }
}

#[test]
fn package_lock_v2_direct_from_package_json_and_chains_through_yargs() {
    let inventory = read(&load(
        "npm/v2",
        &["package.json", "package-lock.json"],
        "cli",
    ));
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    assert_eq!(inventory.components.len(), 17, "{}", dump(&inventory));
    let yargs = find(&inventory, "yargs");
    assert_eq!(yargs.purl, "pkg:npm/yargs@17.4.1");
    assert_eq!(yargs.package.manifest.as_deref(), Some("cli/package.json"));
    assert_eq!(
        (yargs.direct, yargs.scope),
        (Some(true), ComponentScope::Runtime)
    );
    // `"yargs": "^17.4.1"` in package.json.
    assert_eq!(yargs.line, Some(15));
    let color_name = find(&inventory, "color-name");
    assert_eq!(
        color_name.package.manifest.as_deref(),
        Some("cli/package-lock.json")
    );
    assert_eq!(color_name.direct, Some(false));
    assert_eq!(color_name.scope, ComponentScope::Runtime);
    assert_eq!(
        color_name.chain,
        chain(&[
            "yargs@17.4.1",
            "cliui@7.0.4",
            "wrap-ansi@7.0.0",
            "ansi-styles@4.3.0",
            "color-convert@2.0.1",
            "color-name@1.1.4"
        ])
    );
    // `"version": "1.1.4",` under `"node_modules/color-name": {` (line 59).
    assert_eq!(color_name.line, Some(60));
}

#[test]
fn package_lock_v3_dev_optional_and_licences() {
    let inventory = read(&load("npm/v3", &["package.json", "package-lock.json"], ""));
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    assert!(
        inventory
            .components
            .iter()
            .all(|c| c.scope == ComponentScope::Dev),
        "only a devDependency: {}",
        dump(&inventory)
    );
    let sass = find(&inventory, "sass");
    assert_eq!(sass.package.version.as_deref(), Some("1.89.2"));
    assert_eq!(sass.direct, Some(true));
    // Line 5 is the script `"sass": "sass scss/…"`; line 13 declares the dependency.
    assert_eq!(sass.line, Some(13));
    assert_eq!(sass.licenses.declared.as_deref(), Some("MIT"));
    let libc = find(&inventory, "detect-libc");
    assert_eq!(libc.licenses.declared.as_deref(), Some("Apache-2.0"));
    assert_eq!(
        libc.chain,
        chain(&["sass@1.89.2", "@parcel/watcher@2.5.1", "detect-libc@1.0.3"])
    );
    let watcher = find(&inventory, "@parcel/watcher");
    assert_eq!(watcher.purl, "pkg:npm/%40parcel/watcher@2.5.1");
    assert_eq!(watcher.line, Some(16));
    assert_eq!(
        find(&inventory, "source-map-js")
            .licenses
            .declared
            .as_deref(),
        Some("BSD-3-Clause")
    );
}

#[test]
fn package_lock_v1_nested_tree_without_package_json() {
    let inventory = read(&load("npm/v1", &["package-lock.json"], ""));
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    let wrappy = find(&inventory, "wrappy");
    assert_eq!(wrappy.package.version.as_deref(), Some("1.0.2"));
    assert_eq!(wrappy.scope, ComponentScope::Dev);
    // Version 1 does not say what is direct.
    assert_eq!(wrappy.direct, None);
    assert_eq!(wrappy.line, Some(6));
    let color = find(&inventory, "supports-color");
    assert_eq!(color.scope, ComponentScope::Runtime);
    assert_eq!(color.line, Some(13));
    assert_eq!(
        inventory.components.len(),
        2,
        "has-flag is required, not locked"
    );
}

#[test]
fn agpl_runtime_and_dev_only_dependencies_keep_their_scope_and_licence() {
    let inventory = read(&load(
        "npm/agpl",
        &["package.json", "package-lock.json"],
        "web",
    ));
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    let server = find(&inventory, "copyleft-server");
    assert_eq!(server.scope, ComponentScope::Runtime);
    assert_eq!(server.direct, Some(true));
    assert_eq!(server.licenses.declared.as_deref(), Some("AGPL-3.0-only"));
    assert_eq!(server.licenses.effective(), Some("AGPL-3.0-only"));
    assert_eq!(server.package.manifest.as_deref(), Some("web/package.json"));
    assert_eq!(server.line, Some(6));
    let util = find(&inventory, "tiny-util");
    assert_eq!(util.scope, ComponentScope::Runtime);
    assert_eq!(
        util.chain,
        chain(&["copyleft-server@2.1.3", "tiny-util@1.0.4"])
    );
    assert_eq!(util.licenses.declared.as_deref(), Some("MIT"));
    let runner = find(&inventory, "test-runner");
    assert_eq!(runner.scope, ComponentScope::Dev);
    assert_eq!(runner.direct, Some(true));
    assert_eq!(
        runner.licenses.declared.as_deref(),
        Some("AGPL-3.0-or-later")
    );
}

#[test]
fn yarn_classic_and_berry() {
    let classic = read(&load("yarn/classic", &["yarn.lock"], ""));
    assert!(classic.warnings.is_empty(), "{:?}", classic.warnings);
    let tslib = find(&classic, "tslib");
    assert_eq!(tslib.purl, "pkg:npm/tslib@2.6.2");
    // `version "2.6.2"` under `tslib@^2.3.0:` (line 10).
    assert_eq!(tslib.line, Some(11));
    assert_eq!(tslib.direct, None, "no package.json beside it");
    let domino = find(&classic, "domino");
    assert_eq!(domino.package.version.as_deref(), Some("2.1.6+git"));

    // Berry records the workspace itself, with its direct dependencies.
    let berry = read(&load("yarn/berry", &["yarn.lock"], "site"));
    assert!(berry.warnings.is_empty(), "{:?}", berry.warnings);
    assert_eq!(berry.components.len(), 2, "{}", dump(&berry));
    assert!(berry.components.iter().all(|c| c.package.name != "zone.js"));
    let tslib = find(&berry, "tslib");
    assert_eq!(tslib.direct, Some(true));
    assert_eq!(tslib.package.manifest.as_deref(), Some("site/yarn.lock"));
    assert_eq!(tslib.line, Some(19));
    assert_eq!(find(&berry, "domino").direct, Some(true));
}

#[test]
fn pnpm_v6_sections_and_v9_snapshots() {
    let v6 = read(&load("pnpm/v6", &["pnpm-lock.yaml"], ""));
    assert!(v6.warnings.is_empty(), "{:?}", v6.warnings);
    let number = find(&v6, "is-number");
    assert_eq!(
        (number.scope, number.direct),
        (ComponentScope::Dev, Some(true))
    );
    assert_eq!(number.package.version.as_deref(), Some("7.0.0"));
    assert_eq!(number.line, Some(20));
    let uuid = find(&v6, "uuid");
    assert_eq!(
        (uuid.scope, uuid.direct),
        (ComponentScope::Runtime, Some(true))
    );

    let v9 = read(&load("pnpm/v9", &["pnpm-lock.yaml"], ""));
    assert!(v9.warnings.is_empty(), "{:?}", v9.warnings);
    assert_eq!(v9.components.len(), 7, "{}", dump(&v9));
    // A peer-resolved snapshot `ajv-keywords@3.4.1(ajv@6.10.2)` is version 3.4.1.
    let keywords = find(&v9, "ajv-keywords");
    assert_eq!(keywords.purl, "pkg:npm/ajv-keywords@3.4.1");
    assert_eq!(keywords.direct, Some(true));
    let punycode = find(&v9, "punycode");
    assert_eq!(punycode.direct, Some(false));
    assert_eq!(
        punycode.chain,
        chain(&["ajv@6.10.2", "uri-js@4.2.2", "punycode@2.1.1"])
    );
    assert_eq!(punycode.line, Some(37));
}

#[test]
fn cargo_lock_with_its_manifest() {
    let inventory = read(&load("cargo", &["Cargo.toml", "Cargo.lock"], "alloq"));
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    assert!(
        inventory
            .components
            .iter()
            .all(|c| c.package.name != "alloq"),
        "the workspace's own package is not a component"
    );
    let spin = find(&inventory, "spin");
    assert_eq!(spin.purl, "pkg:cargo/spin@0.9.8");
    assert_eq!(spin.package.manifest.as_deref(), Some("alloq/Cargo.toml"));
    assert_eq!(spin.line, Some(13));
    assert_eq!(spin.direct, Some(true));
    let scopeguard = find(&inventory, "scopeguard");
    assert_eq!(scopeguard.direct, Some(false));
    assert_eq!(
        scopeguard.chain,
        chain(&["spin@0.9.8", "lock_api@0.4.11", "scopeguard@1.2.0"])
    );
    assert_eq!(
        scopeguard.package.manifest.as_deref(),
        Some("alloq/Cargo.lock")
    );
    assert_eq!(scopeguard.line, Some(30));
}

#[test]
fn cargo_dev_dependencies_are_dev_and_so_is_what_only_they_need() {
    // The real Cargo.lock of alloq, with its spin dependency declared for tests only.
    let mut files = load("cargo", &["Cargo.lock"], "");
    files.push((
        "Cargo.toml".to_string(),
        "[package]\nname = \"alloq\"\nversion = \"0.1.0\"\n\n[dev-dependencies]\nspin = \"0.9.8\"\n"
            .to_string(),
    ));
    let inventory = read(&files);
    let spin = find(&inventory, "spin");
    assert_eq!(
        (spin.scope, spin.direct, spin.line),
        (ComponentScope::Dev, Some(true), Some(6))
    );
    assert_eq!(find(&inventory, "autocfg").scope, ComponentScope::Dev);
}

#[test]
fn poetry_lock_old_categories_and_pyproject_groups() {
    let inventory = read(&load("poetry", &["pyproject.toml", "poetry.lock"], ""));
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    let prompt = find(&inventory, "prompt");
    assert_eq!(
        (prompt.scope, prompt.direct),
        (ComponentScope::Runtime, Some(true))
    );
    assert_eq!(prompt.package.manifest.as_deref(), Some("pyproject.toml"));
    assert_eq!(prompt.line, Some(13));
    let flake8 = find(&inventory, "flake8");
    assert_eq!((flake8.scope, flake8.line), (ComponentScope::Dev, Some(16)));
    let mccabe = find(&inventory, "mccabe");
    assert_eq!(mccabe.scope, ComponentScope::Dev);
    assert_eq!(mccabe.chain, chain(&["flake8@3.7.9", "mccabe@0.6.1"]));
    assert_eq!(mccabe.package.manifest.as_deref(), Some("poetry.lock"));
    assert_eq!(mccabe.line, Some(29));
}

#[test]
fn poetry_test_group_is_test() {
    let mut files = load("poetry", &["poetry.lock"], "");
    files.push((
        "pyproject.toml".to_string(),
        "[tool.poetry.dependencies]\npython = \"^3.6\"\nprompt = \"^0.4.1\"\n\n[tool.poetry.group.test.dependencies]\nflake8 = \"^3.7.9\"\n"
            .to_string(),
    ));
    let inventory = read(&files);
    let flake8 = find(&inventory, "flake8");
    assert_eq!((flake8.scope, flake8.line), (ComponentScope::Test, Some(6)));
    // The old lock calls flake8's dependencies `dev`; the lock's word stands for them.
    assert_eq!(find(&inventory, "pyflakes").scope, ComponentScope::Dev);
}

#[test]
fn uv_lock_project_groups() {
    let inventory = read(&load("uv", &["pyproject.toml", "uv.lock"], "pkg"));
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    assert_eq!(inventory.components.len(), 7, "{}", dump(&inventory));
    assert!(
        inventory
            .components
            .iter()
            .all(|c| c.package.name != "test-pkg")
    );
    let polars = find(&inventory, "polars");
    assert_eq!(
        (polars.scope, polars.direct),
        (ComponentScope::Runtime, Some(true))
    );
    assert_eq!(polars.line, Some(8));
    let pytest = find(&inventory, "pytest");
    assert_eq!((pytest.scope, pytest.line), (ComponentScope::Dev, Some(13)));
    let colorama = find(&inventory, "colorama");
    assert_eq!(colorama.scope, ComponentScope::Dev);
    assert_eq!(colorama.chain, chain(&["pytest@8.4.1", "colorama@0.4.6"]));
    assert_eq!(colorama.package.manifest.as_deref(), Some("pkg/uv.lock"));
    assert_eq!(colorama.line, Some(7));
}

#[test]
fn requirements_files_pin_versions_and_name_the_scope() {
    let inventory = read(&load(
        "requirements",
        &["requirements.txt", "requirements-dev.txt"],
        "",
    ));
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    let flask = find(&inventory, "Flask");
    assert_eq!(flask.purl, "pkg:pypi/flask@2.0.2");
    assert_eq!(
        (flask.scope, flask.direct, flask.line),
        (ComponentScope::Runtime, Some(true), Some(12))
    );
    let pytest = find(&inventory, "pytest");
    assert_eq!(
        pytest.package.manifest.as_deref(),
        Some("requirements-dev.txt")
    );
    assert_eq!((pytest.scope, pytest.line), (ComponentScope::Dev, Some(31)));
    assert_eq!(
        find(&inventory, "keras-nightly").package.version.as_deref(),
        Some("2.5.0.dev2021032900")
    );
}

#[test]
fn requirements_extras_markers_comments_and_options() {
    let text = "# pinned by hand\n-r requirements.txt\n-e .\nrequests[socks]==2.31.0 ; python_version >= \"3.8\"  # http\nurllib3==2.0.7 \\\n    --hash=sha256:aaaa \\\n    --hash=sha256:bbbb\nDjango>=4.2\nfoo @ https://example.com/foo.whl\n";
    let inventory = read(&[("requirements-test.txt".to_string(), text.to_string())]);
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    let requests = find(&inventory, "requests");
    assert_eq!(requests.package.version.as_deref(), Some("2.31.0"));
    assert_eq!(
        (requests.scope, requests.line),
        (ComponentScope::Test, Some(4))
    );
    let urllib3 = find(&inventory, "urllib3");
    assert_eq!(
        (urllib3.package.version.as_deref(), urllib3.line),
        (Some("2.0.7"), Some(5))
    );
    assert_eq!(
        find(&inventory, "Django").package.version,
        None,
        "a range is not a pin"
    );
    assert_eq!(find(&inventory, "foo").package.version, None);
    assert_eq!(inventory.components.len(), 4, "{}", dump(&inventory));
}

#[test]
fn go_mod_requires_and_indirect() {
    let inventory = read(&load("go", &["go.mod"], "svc"));
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    assert_eq!(inventory.components.len(), 39);
    let pq = find(&inventory, "github.com/lib/pq");
    assert_eq!(pq.purl, "pkg:golang/github.com/lib/pq@v1.10.7");
    assert_eq!((pq.direct, pq.line), (Some(true), Some(5)));
    let jwt = find(&inventory, "github.com/dgrijalva/jwt-go");
    assert_eq!(jwt.package.version.as_deref(), Some("v3.2.0+incompatible"));
    assert_eq!((jwt.direct, jwt.line), (Some(true), Some(25)));
    let gin = find(&inventory, "github.com/gin-gonic/gin");
    assert_eq!((gin.direct, gin.line), (Some(false), Some(27)));
    assert_eq!(gin.package.manifest.as_deref(), Some("svc/go.mod"));
}

#[test]
fn go_sum_alone_gives_versions_and_go_mod_wins_beside_it() {
    let inventory = read(&load("gosum", &["go.sum"], ""));
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    let gin = find(&inventory, "github.com/gin-gonic/gin");
    assert_eq!(
        (gin.package.version.as_deref(), gin.direct, gin.line),
        (Some("v1.7.7"), None, Some(7))
    );
    assert!(
        inventory
            .components
            .iter()
            .all(|c| c.package.name != "github.com/creack/pty"),
        "a go.mod hash alone is not a download"
    );
    assert_eq!(inventory.components.len(), 35, "{}", dump(&inventory));

    let mut both = load("gosum", &["go.sum"], "");
    both.push((
        "go.mod".to_string(),
        "module x\n\nrequire gorm.io/gorm v1.22.4\n".to_string(),
    ));
    let inventory = read(&both);
    assert_eq!(inventory.components.len(), 1);
    assert_eq!(
        inventory.components[0].package.manifest.as_deref(),
        Some("go.mod")
    );
}

#[test]
fn pom_scopes_and_versions_the_parent_manages() {
    let inventory = read(&load("maven", &["pom.xml"], "api"));
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    assert_eq!(inventory.components.len(), 8);
    let mockito = find(&inventory, "org.mockito:mockito-core");
    assert_eq!(mockito.purl, "pkg:maven/org.mockito/mockito-core@5.12.0");
    assert_eq!(
        (mockito.scope, mockito.direct, mockito.line),
        (ComponentScope::Test, Some(true), Some(78))
    );
    let web = find(
        &inventory,
        "org.springframework.boot:spring-boot-starter-web",
    );
    assert_eq!(
        web.package.version, None,
        "spring-boot-starter-parent manages it"
    );
    assert_eq!((web.scope, web.line), (ComponentScope::Runtime, Some(35)));
    let devtools = find(&inventory, "org.springframework.boot:spring-boot-devtools");
    assert_eq!(
        devtools.scope,
        ComponentScope::Runtime,
        "<scope>runtime</scope>"
    );
}

#[test]
fn pom_properties_and_dependency_management_resolve_versions() {
    let pom = r#"<project xmlns="http://maven.apache.org/POM/4.0.0">
  <groupId>org.example</groupId>
  <artifactId>app</artifactId>
  <version>1.4.0</version>
  <properties>
    <jackson.version>2.15.2</jackson.version>
    <log4j2.version>${log4j.base}.1</log4j2.version>
    <log4j.base>2.17</log4j.base>
  </properties>
  <dependencyManagement>
    <dependencies>
      <dependency>
        <groupId>org.apache.logging.log4j</groupId>
        <artifactId>log4j-core</artifactId>
        <version>${log4j2.version}</version>
      </dependency>
    </dependencies>
  </dependencyManagement>
  <dependencies>
    <dependency>
      <groupId>com.fasterxml.jackson.core</groupId>
      <artifactId>jackson-databind</artifactId>
      <version>${jackson.version}</version>
      <scope>provided</scope>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
    </dependency>
    <dependency>
      <groupId>${project.groupId}</groupId>
      <artifactId>app-model</artifactId>
      <version>${project.version}</version>
    </dependency>
    <dependency>
      <groupId>org.example</groupId>
      <artifactId>unknown</artifactId>
      <version>${not.defined}</version>
      <scope>system</scope>
    </dependency>
  </dependencies>
</project>
"#;
    let inventory = read(&[("pom.xml".to_string(), pom.to_string())]);
    let version = |name: &str| find(&inventory, name).package.version.clone();
    assert_eq!(
        version("com.fasterxml.jackson.core:jackson-databind").as_deref(),
        Some("2.15.2")
    );
    assert_eq!(
        version("org.apache.logging.log4j:log4j-core").as_deref(),
        Some("2.17.1")
    );
    assert_eq!(version("org.example:app-model").as_deref(), Some("1.4.0"));
    assert_eq!(version("org.example:unknown"), None);
    let databind = find(&inventory, "com.fasterxml.jackson.core:jackson-databind");
    assert_eq!(
        (databind.scope, databind.line),
        (ComponentScope::Runtime, Some(23))
    );
}

#[test]
fn gemfile_lock_graph_dependencies_and_gemfile_groups() {
    let inventory = read(&load("bundler", &["Gemfile", "Gemfile.lock"], "cli"));
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    assert!(
        inventory
            .components
            .iter()
            .all(|c| c.package.name != "simple_commander"),
        "the gemspec's own gem (PATH) is the project"
    );
    let reporter = find(&inventory, "codeclimate-test-reporter");
    assert_eq!(reporter.scope, ComponentScope::Test, "group: :test");
    assert_eq!(reporter.package.manifest.as_deref(), Some("cli/Gemfile"));
    assert_eq!((reporter.direct, reporter.line), (Some(true), Some(4)));
    // The gemspec's runtime dependency is direct; there is no Gemfile line for it.
    let highline = find(&inventory, "highline");
    assert_eq!(highline.direct, Some(true));
    assert_eq!(
        highline.package.manifest.as_deref(),
        Some("cli/Gemfile.lock")
    );
    assert_eq!(highline.line, Some(18));
    let ast = find(&inventory, "ast");
    assert_eq!(ast.direct, Some(false));
    assert_eq!(
        ast.chain,
        chain(&["rubocop@0.29.1", "parser@2.3.3.1", "ast@2.3.0"])
    );
    assert_eq!(ast.line, Some(10));
}

#[test]
fn composer_lock_dev_packages_and_licence_lists() {
    let inventory = read(&load("composer", &["composer.json", "composer.lock"], ""));
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    let tools = find(&inventory, "wp-cli/php-cli-tools");
    assert_eq!(tools.purl, "pkg:composer/wp-cli/php-cli-tools@v0.11.13");
    assert_eq!(
        (tools.scope, tools.direct, tools.line),
        (ComponentScope::Runtime, Some(true), Some(32))
    );
    assert_eq!(tools.licenses.declared.as_deref(), Some("MIT"));
    let sniffer = find(&inventory, "squizlabs/php_codesniffer");
    assert_eq!(
        (sniffer.scope, sniffer.line),
        (ComponentScope::Dev, Some(35))
    );
    assert_eq!(sniffer.licenses.declared.as_deref(), Some("BSD-3-Clause"));
}

#[test]
fn composer_licence_arrays_join_with_or_and_require_gives_chains() {
    let lock = r#"{
    "packages": [
        {"name": "monolog/monolog", "version": "2.9.1", "license": ["MIT"],
         "require": {"php": ">=7.2", "psr/log": "^1.0.1 || ^2.0 || ^3.0"}},
        {"name": "psr/log", "version": "3.0.0", "license": ["MIT", "Apache-2.0"]}
    ],
    "packages-dev": null
}"#;
    let json = r#"{"require": {"php": "^8.1", "monolog/monolog": "^2.9"}}"#;
    let inventory = read(&[
        ("composer.lock".to_string(), lock.to_string()),
        ("composer.json".to_string(), json.to_string()),
    ]);
    let log = find(&inventory, "psr/log");
    assert_eq!(log.licenses.declared.as_deref(), Some("MIT OR Apache-2.0"));
    assert_eq!(
        log.chain,
        chain(&["monolog/monolog@2.9.1", "psr/log@3.0.0"])
    );
    assert_eq!(log.direct, Some(false));
}

#[test]
fn components_are_sorted_and_one_per_purl_and_manifest() {
    let mut files = load("npm/v2", &["package.json", "package-lock.json"], "");
    files.extend(load(
        "npm/v2",
        &["package.json", "package-lock.json"],
        "copy",
    ));
    let inventory = read(&files);
    assert_eq!(inventory.components.len(), 34);
    let keys: Vec<(Option<&str>, &str)> = inventory
        .components
        .iter()
        .map(|c| (c.package.manifest.as_deref(), c.purl.as_str()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted);
}

#[test]
fn workspace_members_without_a_lockfile_are_covered_by_the_one_above() {
    let mut files = load("npm/v2", &["package.json", "package-lock.json"], "");
    files.push((
        "packages/ui/package.json".to_string(),
        "{\"dependencies\": {\"react\": \"^18.0.0\"}}".to_string(),
    ));
    files.push((
        "tools/package.json".to_string(),
        "{\"devDependencies\": {\"eslint\": \"^8.0.0\"}}".to_string(),
    ));
    let inventory = read(&files);
    assert!(
        inventory
            .components
            .iter()
            .all(|c| c.package.name != "react")
    );
    // A manifest under no lockfile lists what it declares, without versions.
    let mut lone = vec![(
        "tools/package.json".to_string(),
        "{\n  \"devDependencies\": {\n    \"eslint\": \"^8.0.0\"\n  }\n}\n".to_string(),
    )];
    lone.extend(load("npm/v2", &["package-lock.json"], "other"));
    let inventory = read(&lone);
    let eslint = find(&inventory, "eslint");
    assert_eq!(eslint.package.version, None);
    assert_eq!(
        (eslint.scope, eslint.direct, eslint.line),
        (ComponentScope::Dev, Some(true), Some(3))
    );
}

/// Malformed files give one warning naming the file and the position, never a panic, and
/// the other files are still read.
#[test]
fn malformed_files_warn_with_file_and_position() {
    let cases: [(&str, &str, &str); 14] = [
        (
            "a/package-lock.json",
            "{\n  \"packages\": {\n    \"\": [}\n",
            "a/package-lock.json: line 3, column",
        ),
        (
            "b/package.json",
            "{\n  \"dependencies\": 5\n}\n",
            "b/package.json: line 2, column",
        ),
        (
            "c/yarn.lock",
            "# yarn lockfile v1\n\nleft-pad@^1.0.0:\n  version \"1.3.0\"\nthis is not yarn\n",
            "c/yarn.lock: line 5, column 1",
        ),
        (
            "d/yarn.lock",
            "__metadata:\n  version: 6\n\"a@npm:1\": [oops\n",
            "d/yarn.lock: line 4, column 1",
        ),
        (
            "e/pnpm-lock.yaml",
            "lockfileVersion: '9.0'\nimporters:\n  .: [\n",
            "e/pnpm-lock.yaml: line",
        ),
        (
            "f/Cargo.lock",
            "version = 3\n\n[[package]]\nname = 1\n",
            "f/Cargo.lock: line 4, column",
        ),
        (
            "g/poetry.lock",
            "[[package]]\nname = \"x\"\nversion = \n",
            "g/poetry.lock: line 3, column",
        ),
        (
            "h/uv.lock",
            "version = 1\n[[package]]\nname = \"x\"\ndependencies = [{ nam = \"y\" }]\n",
            "h/uv.lock: line 4, column",
        ),
        (
            "i/requirements.txt",
            "flask==2.0.2\n!!! not a requirement\n",
            "i/requirements.txt: line 2, column 1",
        ),
        (
            "j/go.mod",
            "module x\n\nrequire (\n\tgithub.com/a/b\n)\n",
            "j/go.mod: line 4, column 2",
        ),
        (
            "k/pom.xml",
            "<project>\n  <dependencies>\n</project>\n",
            "k/pom.xml: line 3, column",
        ),
        (
            "l/Gemfile.lock",
            "GEM\n  remote: https://rubygems.org/\n  specs:\n    rails 7.0\n",
            "l/Gemfile.lock: line 4, column 5",
        ),
        (
            "m/composer.lock",
            "{\"packages\": [{\"name\": 1, \"version\": \"1\"}]}",
            "m/composer.lock: line 1, column",
        ),
        (
            "n/pyproject.toml",
            "[project\ndependencies = []\n",
            "n/pyproject.toml: line 1, column",
        ),
    ];
    for (path, text, expected) in cases {
        let mut files = vec![(path.to_string(), text.to_string())];
        // A good file beside the bad one is still read.
        files.extend(load("go", &["go.mod"], "ok"));
        let inventory = read(&files);
        let warning = warning(&inventory);
        assert!(warning.starts_with(expected), "{path}: {warning}");
        assert!(
            inventory
                .components
                .iter()
                .any(|c| c.package.name == "github.com/lib/pq"),
            "{path}"
        );
    }
    // The requirements file's good line still counts.
    let inventory = read(&[(
        "requirements.txt".to_string(),
        "flask==2.0.2\n!!! not a requirement\n".to_string(),
    )]);
    assert_eq!(
        find(&inventory, "flask").package.version.as_deref(),
        Some("2.0.2")
    );
}

#[test]
fn workspace_members_manifests_say_what_is_direct_for_the_lockfile_above() {
    // alloq's real Cargo.lock at the root of a workspace, its real Cargo.toml in a member.
    let mut files = load("cargo", &["Cargo.lock"], "");
    files.extend(load("cargo", &["Cargo.toml"], "crates/alloq"));
    files.push((
        "Cargo.toml".to_string(),
        "[workspace]\nmembers = [\"crates/alloq\"]\n".to_string(),
    ));
    let inventory = read(&files);
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    let spin = find(&inventory, "spin");
    assert_eq!(
        spin.package.manifest.as_deref(),
        Some("crates/alloq/Cargo.toml")
    );
    assert_eq!((spin.direct, spin.line), (Some(true), Some(13)));
    let lock_api = find(&inventory, "lock_api");
    assert_eq!(lock_api.package.manifest.as_deref(), Some("Cargo.lock"));
    assert_eq!(lock_api.chain, chain(&["spin@0.9.8", "lock_api@0.4.11"]));
    // A member's manifest that cannot be read is named, and the lock is still read.
    files.push((
        "crates/broken/Cargo.toml".to_string(),
        "[dependencies\n".to_string(),
    ));
    let inventory = read(&files);
    assert!(warning(&inventory).starts_with("crates/broken/Cargo.toml: line 1, column"));
    assert_eq!(find(&inventory, "spin").direct, Some(true));
}

#[test]
fn poetry_2_groups_give_the_scope_of_what_no_manifest_names() {
    let lock = "[[package]]\nname = \"pytest\"\nversion = \"8.3.3\"\ngroups = [\"test\"]\n\n[package.dependencies]\npluggy = \">=1.5,<2\"\n\n[[package]]\nname = \"pluggy\"\nversion = \"1.5.0\"\ngroups = [\"dev\", \"test\"]\n\n[[package]]\nname = \"requests\"\nversion = \"2.32.3\"\ngroups = [\"main\", \"dev\"]\n";
    let inventory = read(&[("poetry.lock".to_string(), lock.to_string())]);
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    assert_eq!(find(&inventory, "pytest").scope, ComponentScope::Test);
    assert_eq!(find(&inventory, "pluggy").scope, ComponentScope::Dev);
    assert_eq!(find(&inventory, "requests").scope, ComponentScope::Runtime);
    assert_eq!(find(&inventory, "requests").line, Some(16));
}

#[test]
fn yarn_classic_direct_dependencies_come_from_package_json_ranges() {
    let mut files = load("yarn/classic", &["yarn.lock"], "");
    files.push((
        "package.json".to_string(),
        "{\n  \"name\": \"zone.js\",\n  \"devDependencies\": {\n    \"tslib\": \"^2.3.0\"\n  }\n}\n"
            .to_string(),
    ));
    let inventory = read(&files);
    let tslib = find(&inventory, "tslib");
    assert_eq!(
        (tslib.direct, tslib.scope),
        (Some(true), ComponentScope::Dev)
    );
    assert_eq!(tslib.package.manifest.as_deref(), Some("package.json"));
    assert_eq!(tslib.line, Some(4));
    let domino = find(&inventory, "domino");
    assert_eq!(domino.direct, Some(false));
    assert_eq!(domino.package.manifest.as_deref(), Some("yarn.lock"));
}

#[test]
fn pnpm_v5_ids_with_slashes_and_peer_suffixes() {
    let lock = "lockfileVersion: 5.4\n\nspecifiers:\n  react-dom: ^18.2.0\n\ndependencies:\n  react-dom: 18.2.0_react@18.2.0\n\npackages:\n\n  /loose-envify/1.4.0:\n    resolution: {integrity: sha512-x}\n    dev: false\n\n  /react-dom/18.2.0_react@18.2.0:\n    resolution: {integrity: sha512-y}\n    dependencies:\n      loose-envify: 1.4.0\n    dev: false\n";
    let inventory = read(&[("pnpm-lock.yaml".to_string(), lock.to_string())]);
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    let dom = find(&inventory, "react-dom");
    assert_eq!(dom.purl, "pkg:npm/react-dom@18.2.0");
    assert_eq!(dom.direct, Some(true));
    let envify = find(&inventory, "loose-envify");
    assert_eq!(
        envify.chain,
        chain(&["react-dom@18.2.0", "loose-envify@1.4.0"])
    );
    assert_eq!(envify.line, Some(11));
}

/// Every fixture cut short anywhere reads without a panic; what cannot be read is a warning.
#[test]
fn truncated_fixtures_never_panic() {
    let fixtures = [
        ("npm/v1", "package-lock.json"),
        ("npm/v2", "package-lock.json"),
        ("npm/v3", "package.json"),
        ("yarn/classic", "yarn.lock"),
        ("yarn/berry", "yarn.lock"),
        ("pnpm/v6", "pnpm-lock.yaml"),
        ("pnpm/v9", "pnpm-lock.yaml"),
        ("cargo", "Cargo.lock"),
        ("poetry", "poetry.lock"),
        ("uv", "uv.lock"),
        ("requirements", "requirements.txt"),
        ("go", "go.mod"),
        ("gosum", "go.sum"),
        ("maven", "pom.xml"),
        ("bundler", "Gemfile.lock"),
        ("bundler", "Gemfile"),
        ("composer", "composer.lock"),
    ];
    for (dir, name) in fixtures {
        let (_, text) = load(dir, &[name], "").remove(0);
        for step in 1..40 {
            let mut cut = text.len() * step / 40;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            let inventory = read(&[(name.to_string(), text[..cut].to_string())]);
            for warning in &inventory.warnings {
                assert!(warning.starts_with(&format!("{name}: ")), "{warning}");
            }
        }
    }
}

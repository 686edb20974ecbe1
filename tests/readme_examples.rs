//! The examples in README.md are read by the code they document: every YAML block parses,
//! the `.posture.yml` example passes `posture config check`, the settings example parses as
//! a settings file, and every complete JSON example is JSON. (The files under deploy/ and
//! the GitHub Action are checked by deploy_files.rs and ci_publish.rs.)

mod common;

use common::posture;

/// The fenced blocks of README.md in `language`, with the line each starts on.
fn blocks(language: &str) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (number, line) in text.lines().enumerate() {
        match &mut current {
            None if line.trim() == format!("```{language}") => {
                current = Some((number + 2, String::new()));
            }
            Some(_) if line.trim() == "```" => out.push(current.take().unwrap()),
            Some((_, block)) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    assert!(current.is_none(), "an unclosed ```{language} block");
    out
}

#[test]
fn every_yaml_example_parses_and_the_config_example_passes_config_check() {
    let yaml = blocks("yaml");
    assert!(yaml.len() >= 3, "{} yaml blocks", yaml.len());
    let (mut configs, mut settings) = (0, 0);
    for (line, block) in &yaml {
        let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(block)
            .unwrap_or_else(|e| panic!("README.md:{line}: not YAML: {e}\n{block}"));
        if value.get("version").is_some() || value.get("fail_on").is_some() {
            let dir = tempfile::TempDir::new().unwrap();
            let file = dir.path().join(".posture.yml");
            std::fs::write(&file, block).unwrap();
            let run = posture(&["config", "check", file.to_str().unwrap()]);
            assert_eq!(run.code, 0, "README.md:{line}: {}", run.stderr);
            configs += 1;
        } else if value.get("orgs").is_some() && !block.contains("[...]") {
            posture::settings::Settings::parse("README.md", block)
                .unwrap_or_else(|e| panic!("README.md:{line}: {e}"));
            settings += 1;
        }
    }
    assert_eq!((configs, settings), (1, 3));
}

#[test]
fn every_complete_json_example_is_json() {
    let json = blocks("json");
    let complete: Vec<_> = json
        .iter()
        .filter(|(_, b)| b.trim_start().starts_with('{'))
        .collect();
    assert!(!complete.is_empty());
    for (line, block) in complete {
        serde_json::from_str::<serde_json::Value>(block)
            .unwrap_or_else(|e| panic!("README.md:{line}: not JSON: {e}"));
    }
}

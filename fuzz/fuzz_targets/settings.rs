//! The server's configuration files: the org settings file (`POSTURE_SETTINGS_FILE`, YAML,
//! `Settings::parse`) and the `KEY=VALUE` env file (`envfile::parse`). The first input
//! byte picks the parser; the rest is the text.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Some((&selector, rest)) = bytes.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    if selector & 1 == 0 {
        if let Err(error) = posture::settings::Settings::parse("settings.yml", text) {
            assert_eq!(error.file, "settings.yml");
            let _ = error.to_string();
        }
    } else {
        match posture::envfile::parse("posture.env", text) {
            Ok(settings) => {
                for (key, _) in &settings {
                    assert!(key.starts_with("POSTURE_"), "{key}");
                }
            }
            Err(error) => {
                let _ = error.to_string();
            }
        }
    }
});

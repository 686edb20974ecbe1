//! `.posture.yml`: a broken file must be a `ConfigError` naming the file, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Err(error) = posture::config::Config::parse(".posture.yml", text) {
        assert_eq!(error.file, ".posture.yml");
        let _ = error.to_string();
    }
});

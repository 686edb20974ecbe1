//! Scanner reports: format detection and every report parser behind `ingest::parse`.
//! Bad input must be an `IngestError`, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let detected = posture::ingest::detect(bytes);
    match posture::ingest::parse(
        "fuzz.json",
        bytes,
        &posture::ingest::SecretHasher::default(),
    ) {
        Ok(report) => {
            // `parse` reads the format `detect` names.
            assert_eq!(Some(report.format), detected);
            assert!(report.findings.len() <= posture::ingest::MAX_RESULTS);
        }
        Err(error) => {
            assert_eq!(error.file, "fuzz.json");
            let _ = error.to_string();
        }
    }
});

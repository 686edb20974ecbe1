//! Measures ingest of a large SARIF log: generates one of the size asked for (default 200
//! MB, results shaped like CodeQL's, with code flows), ingests it with `read_report`, and
//! prints the time, the findings and the peak resident memory of the process.
//!
//! usage: cargo run --release --example ingest_large [MEGABYTES]

use std::io::Write;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let megabytes: u64 = std::env::args().nth(1).map_or(Ok(200), |a| a.parse())?;
    let dir = tempfile::TempDir::new()?;
    let path = dir.path().join("large.sarif");
    let results = write_log(&path, megabytes * 1_000_000)?;
    let size = std::fs::metadata(&path)?.len();
    let before = peak_rss_kib();
    let start = Instant::now();
    let report = posture::ingest::read_report(&path, &posture::ingest::SecretHasher::default())?;
    let elapsed = start.elapsed();
    println!(
        "{:.0} MB, {results} results → {} findings in {:.2} s ({:.0} MB/s); peak RSS {} MiB (before ingest {} MiB)",
        size as f64 / 1e6,
        report.findings.len(),
        elapsed.as_secs_f64(),
        size as f64 / 1e6 / elapsed.as_secs_f64(),
        peak_rss_kib() / 1024,
        before / 1024,
    );
    Ok(())
}

/// Writes results until the log reaches `target` bytes; returns how many.
fn write_log(path: &std::path::Path, target: u64) -> std::io::Result<usize> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    write!(
        out,
        r#"{{"version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"CodeQL","rules":[{{"id":"py/sql-injection","shortDescription":{{"text":"SQL query built from user-controlled sources"}},"properties":{{"security-severity":"8.8","tags":["security","external/cwe/cwe-089"]}}}}]}}}},"originalUriBaseIds":{{"%SRCROOT%":{{"uri":"file:///home/runner/work/app/app/"}}}},"results":["#
    )?;
    let mut written = 200u64;
    let mut count = 0usize;
    while written < target {
        let flow: String = (0..8)
            .map(|step| {
                format!(
                    r#"{{"location":{{"physicalLocation":{{"artifactLocation":{{"uri":"src/module_{m}/views.py","uriBaseId":"%SRCROOT%"}},"region":{{"startLine":{l},"startColumn":5,"endColumn":40}}}},"message":{{"text":"step {step}: request.args flows into query"}}}}}}"#,
                    m = count % 997,
                    l = step * 3 + 1
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        let result = format!(
            r#"{}{{"ruleId":"py/sql-injection","ruleIndex":0,"message":{{"text":"This SQL query depends on a user-provided value."}},"locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"src/module_{m}/views.py","uriBaseId":"%SRCROOT%"}},"region":{{"startLine":{line},"startColumn":9,"endColumn":60}}}}}}],"partialFingerprints":{{"primaryLocationLineHash":"{count:016x}:1"}},"codeFlows":[{{"threadFlows":[{{"locations":[{flow}]}}]}}]}}"#,
            if count == 0 { "" } else { "," },
            m = count % 997,
            line = count % 500 + 1,
        );
        out.write_all(result.as_bytes())?;
        written += result.len() as u64;
        count += 1;
    }
    out.write_all(b"]}]}")?;
    out.flush()?;
    Ok(count)
}

/// The process's peak resident set size (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

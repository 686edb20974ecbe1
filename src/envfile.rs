//! The server's configuration file: `KEY=VALUE` lines setting any `POSTURE_*` variable
//! (12-factor: one set of names, whether they come from the environment or a file). The
//! environment wins over the file, and flags win over both. Secrets may live here, so
//! errors name the line, never its value.

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum EnvFileError {
    #[error("{file}: cannot read: {message}")]
    Unreadable { file: String, message: String },
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
}

/// The settings of a file, in order: `KEY=VALUE`, blank lines and `#` comments; values may
/// be quoted with `"` or `'`.
pub fn parse(file: &str, text: &str) -> Result<Vec<(String, String)>, EnvFileError> {
    let mut settings = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let invalid = |message: &str| EnvFileError::Invalid {
            file: file.to_owned(),
            line: index + 1,
            message: message.to_owned(),
        };
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| invalid("expected KEY=VALUE"))?;
        let key = key.trim();
        // Text that is not a name may be a value (`KEY: secret=` splits inside the secret):
        // it is never repeated.
        let name_like = key.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
            && key
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if !name_like {
            return Err(invalid(
                "the text before the first '=' is not a variable name in capitals \
                 (POSTURE_*; a ':' or a space where '=' belongs?)",
            ));
        }
        if !key.starts_with("POSTURE_") {
            return Err(invalid(&format!(
                "'{key}' is not a posture setting (names are POSTURE_* in capitals)"
            )));
        }
        let value = value.trim();
        let value = ['"', '\'']
            .iter()
            .find_map(|q| value.strip_prefix(*q)?.strip_suffix(*q))
            .unwrap_or(value);
        settings.push((key.to_owned(), value.to_owned()));
    }
    Ok(settings)
}

/// Reads `path`'s settings.
pub fn load(path: &Path) -> Result<Vec<(String, String)>, EnvFileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| EnvFileError::Unreadable {
        file: file.clone(),
        message: e.to_string(),
    })?;
    parse(&file, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_comments_quotes_and_export() {
        let text = "# posture\nPOSTURE_LISTEN=0.0.0.0:8080\n\nexport POSTURE_WORKERS = 4\nPOSTURE_GITHUB_API_URL=\"https://ghe.example/api/v3\"\n";
        let settings = parse("posture.env", text).unwrap();
        assert_eq!(
            settings,
            [
                ("POSTURE_LISTEN".into(), "0.0.0.0:8080".into()),
                ("POSTURE_WORKERS".into(), "4".into()),
                (
                    "POSTURE_GITHUB_API_URL".into(),
                    "https://ghe.example/api/v3".into()
                ),
            ]
        );
    }

    #[test]
    fn errors_name_the_line_and_never_the_value() {
        let error = parse(
            "p.env",
            "POSTURE_LISTEN=x\nPOSTURE_GITHUB_TOKEN ghp_secretvalue\n",
        )
        .unwrap_err();
        assert_eq!(error.to_string(), "p.env:2: expected KEY=VALUE");
        let error = parse("p.env", "HOME=/root\n").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("p.env:1: 'HOME' is not a posture setting")
        );
        // A colon where '=' belongs, and a base64 secret holding '=': none of it repeated.
        let error = parse("p.env", "POSTURE_GITLAB_WEBHOOK_TOKEN: c2VjcmV0=\n").unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with("p.env:1: the text before"), "{message}");
        assert!(
            !message.contains("c2V") && !message.contains("TOKEN"),
            "{message}"
        );
    }
}

//! Headless Chromium driven over WebDriver: Debian's `chromium` and `chromium-driver`
//! (`/usr/bin/chromium`, `/usr/bin/chromedriver`, which `.ci/run` installs), `chromedriver`
//! on a free loopback port, Chromium started with a fresh profile and without the background
//! networking a closed machine refuses. A missing browser fails the test, never skips it.
//!
//! Not declared in `common/mod.rs` (only tests/browser.rs links a WebDriver client): include
//! it with `#[path = "common/browser.rs"] mod browser;`.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use tempfile::TempDir;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A running `chromedriver` (and its browsers, in its process group), stopped when dropped.
pub struct Driver {
    child: Child,
    pub url: String,
    profile: TempDir,
}

impl Driver {
    /// Starts `chromedriver` on a free loopback port and waits for it to say it started.
    pub fn start() -> Driver {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(program).exists(),
                "{program} is missing: install Debian's browser with \
                 `apt-get install -y chromium chromium-driver` (.ci/run does)"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // A group of its own: dropping the driver stops the browsers it started too.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut said = String::new();
        let started = lines.by_ref().take(50).map_while(Result::ok).any(|line| {
            said.push_str(&line);
            said.push('\n');
            line.contains("started successfully")
        });
        if !started {
            let _ = child.kill();
            panic!("chromedriver did not start:\n{said}");
        }
        // Keep reading its output so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            profile: TempDir::new().unwrap(),
        }
    }

    /// A new headless Chromium session with a fresh profile.
    pub async fn session(&self) -> Client {
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1280,900",
            &format!("--user-data-dir={}", self.profile.path().display()),
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        // rustls is built with two crypto providers here: name one (an error only means one
        // is installed already).
        let _ = rustls::crypto::ring::default_provider().install_default();
        ClientBuilder::rustls()
            .unwrap()
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e}"))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the screenshots go: `target/tmp/browser/` (kept after the run, to look at).
pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Saves a screenshot as `name.png` and checks it is a PNG that is not blank: more than one
/// colour, and a fair share of pixels that differ from the first.
pub async fn screenshot(client: &Client, name: &str) -> PathBuf {
    let bytes = client.screenshot().await.unwrap();
    let path = screenshot_dir().join(format!("{name}.png"));
    std::fs::write(&path, &bytes).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(&bytes[..]));
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buffer).unwrap();
    assert!(
        info.width >= 200 && info.height >= 200,
        "{}x{}",
        info.width,
        info.height
    );
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buffer[..info.buffer_size()].chunks(channels).collect();
    let colours: std::collections::HashSet<&[u8]> = pixels.iter().copied().collect();
    let differing = pixels.iter().filter(|p| **p != pixels[0]).count();
    assert!(
        colours.len() > 2 && differing > pixels.len() / 1000,
        "{}: a blank screenshot ({} colours, {differing} of {} pixels differ)",
        path.display(),
        colours.len(),
        pixels.len()
    );
    path
}

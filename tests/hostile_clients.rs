//! `posture serve` against clients that try to hold it: sockets that send nothing, headers a
//! byte at a time, large bodies without a signature, more large bodies than it reads at once.
//! Through all of it, a signed delivery and `/healthz` are answered.
//!
//! The waits below are upper bounds that fail a hung server, not speed targets: each
//! answer the test waits for comes in milliseconds when posture is right (the figures are in
//! the README), and never without the fix.

mod common;

use std::time::Duration;

use common::server::Server;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SECRET: &str = "it's a secret to everybody";

/// How long any answer this file waits for may take before the server counts as stuck.
const STUCK: Duration = Duration::from_secs(5);

fn start(extra: &[&str], dir: &tempfile::TempDir) -> Server {
    let database = format!("sqlite://{}", dir.path().join("posture.db").display());
    let mut command = common::posture_command();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &database])
        .args(["--workers", "0"])
        .args(extra)
        .env("POSTURE_GITHUB_WEBHOOK_SECRET", SECRET);
    Server::spawn(command)
}

fn address(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A real pull_request delivery, signed, on a fresh connection.
async fn signed_delivery(server: &Server, id: &str) -> reqwest::StatusCode {
    let body = std::fs::read(common::fixture("github/pull_request_opened.json")).unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let send = client
        .post(format!("{}/webhooks/github", server.base))
        .header("X-GitHub-Event", "pull_request")
        .header("X-GitHub-Delivery", id)
        .header("X-Hub-Signature-256", sign(&body))
        .header("Content-Type", "application/json")
        .body(body)
        .send();
    tokio::time::timeout(STUCK, send)
        .await
        .expect("the delivery is answered")
        .unwrap()
        .status()
}

async fn healthz(server: &Server) -> reqwest::StatusCode {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let send = client.get(format!("{}/healthz", server.base)).send();
    tokio::time::timeout(STUCK, send)
        .await
        .expect("/healthz is answered")
        .unwrap()
        .status()
}

/// Reads what the server sends until it closes the connection.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    tokio::time::timeout(STUCK * 2, stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .ok();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_past_the_cap_and_slow_headers_lock_nobody_out() {
    let dir = tempfile::TempDir::new().unwrap();
    let server = start(&["--max-connections", "16", "--header-timeout", "1s"], &dir);
    // Forty sockets that never send a byte, and a client sending its headers slowly.
    let mut idle = Vec::new();
    for _ in 0..40 {
        idle.push(TcpStream::connect(address(&server)).await.unwrap());
    }
    let mut slow = TcpStream::connect(address(&server)).await.unwrap();
    slow.write_all(b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();

    assert_eq!(signed_delivery(&server, "after-idle-1").await, 202);
    assert_eq!(healthz(&server).await, 200);

    // The slow client never finished its headers: it is cut off (with a 408 or none).
    let answer = read_until_closed(&mut slow).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    // So is each idle socket, by eviction or by the header timeout.
    for socket in &mut idle {
        let answer = read_until_closed(socket).await;
        assert!(!answer.starts_with("HTTP/1.1 2"), "{answer}");
    }
    assert_eq!(signed_delivery(&server, "after-idle-2").await, 202);
    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("posture_connections_shed_total{reason=\"evicted\"}"),
        "{metrics}"
    );
    server.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_read_only_once_what_can_be_checked_without_them_is() {
    let dir = tempfile::TempDir::new().unwrap();
    let server = start(&["--body-timeout", "2s"], &dir);

    // 24 MB announced, no signature: refused before a byte of it is read.
    let mut unsigned = TcpStream::connect(address(&server)).await.unwrap();
    unsigned
        .write_all(
            b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: pull_request\r\n\
              X-GitHub-Delivery: u-1\r\nContent-Type: application/json\r\n\
              Content-Length: 24000000\r\n\r\n",
        )
        .await
        .unwrap();
    let mut head = [0u8; 12];
    tokio::time::timeout(STUCK, unsigned.read_exact(&mut head))
        .await
        .expect("answered without the body")
        .unwrap();
    assert_eq!(&head, b"HTTP/1.1 401");

    // Large bodies with a signature header: four are read at once, the fifth is told to come
    // back later; each sender dribbles and holds its turn.
    let large = |n: usize| {
        format!(
            "POST /webhooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: pull_request\r\n\
             X-GitHub-Delivery: big-{n}\r\nX-Hub-Signature-256: sha256={}\r\n\
             Content-Type: application/json\r\nContent-Length: 20000000\r\n\r\n{{",
            "0".repeat(64)
        )
    };
    let mut holders = Vec::new();
    for n in 0..posture::server::MAX_LARGE_BODIES {
        let mut stream = TcpStream::connect(address(&server)).await.unwrap();
        stream.write_all(large(n).as_bytes()).await.unwrap();
        holders.push(stream);
    }
    // The turns are taken once the server has read those headers: a delivery on a fresh
    // connection after a /healthz round trip on each ensures it has.
    assert_eq!(healthz(&server).await, 200);
    let mut refused = None;
    for attempt in 0..20 {
        let mut extra = TcpStream::connect(address(&server)).await.unwrap();
        extra
            .write_all(large(100 + attempt).as_bytes())
            .await
            .unwrap();
        let mut head = [0u8; 12];
        let read = tokio::time::timeout(Duration::from_millis(500), extra.read_exact(&mut head));
        if let Ok(Ok(_)) = read.await {
            refused = Some(head);
            break;
        }
    }
    assert_eq!(
        &refused.expect("a sixth large body is refused"),
        b"HTTP/1.1 503"
    );

    // Small signed deliveries need no turn.
    assert_eq!(signed_delivery(&server, "small-while-busy").await, 202);

    // A dribbling sender is cut off at the body timeout with 408, and its turn is free.
    let answer = read_until_closed(&mut holders[0]).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    server.terminate();
}

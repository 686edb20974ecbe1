//! The listening edge of `posture serve`: accepts connections and bounds what each may cost
//! before a handler sees a request.
//!
//! axum's own `serve` keeps a connection as long as its peer likes: a client that sends its
//! headers a byte a second, or opens sockets and sends nothing, holds a file descriptor
//! forever, and a thousand of them lock everyone out. Here:
//! - a request's headers must arrive within [`Limits::header_timeout`], which is also how
//!   long a kept-alive connection may sit idle between requests;
//! - at most [`Limits::max_connections`] are open. At the cap, a new connection evicts the
//!   oldest one with no request in flight (a socket that never sent anything, a client
//!   dribbling its headers), or is closed at once when every one is busy, so a forge's
//!   delivery is answered while idle sockets pile up;
//! - on shutdown, accepting stops, requests in flight finish and idle connections close.
//!
//! Bodies are the handlers' business (see [`super::read_body`] for webhooks).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tracing::{debug, warn};

/// Counter: connections closed by the listener, by `reason` (`evicted`, `refused`).
pub const CONNECTIONS_SHED_TOTAL: &str = "posture_connections_shed_total";
/// Gauge: connections open.
pub const CONNECTIONS_OPEN: &str = "posture_connections_open";

/// What one listener allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once.
    pub max_connections: usize,
    /// How long a request's headers may take, and a kept-alive connection may idle.
    pub header_timeout: Duration,
}

impl Default for Limits {
    /// Half the usual 1,024 file limit, so the database pool, forge clients and logs always
    /// have descriptors left.
    fn default() -> Limits {
        Limits {
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
        }
    }
}

/// Describes the listener's metrics to the recorder.
pub fn describe_metrics() {
    ::metrics::describe_counter!(
        CONNECTIONS_SHED_TOTAL,
        "Connections the listener closed to stay within its limit, by reason"
    );
    ::metrics::describe_gauge!(CONNECTIONS_OPEN, "HTTP connections open");
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes, then waits for the
/// requests in flight.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let registry = Arc::new(Registry::default());
    let (stop, stopped) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors, most likely: give the closing ones a moment rather
                    // than spin on the error.
                    warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        let Some(admitted) = registry.admit(limits.max_connections) else {
            debug!("closed a new connection: every connection has a request in flight");
            ::metrics::counter!(CONNECTIONS_SHED_TOTAL, "reason" => "refused").increment(1);
            continue;
        };
        connections.spawn(serve_connection(
            stream,
            peer,
            app.clone(),
            admitted,
            limits.header_timeout,
            stopped.clone(),
        ));
    }
    // New clients are refused at once rather than left waiting on a closing server.
    drop(listener);
    stop.send_replace(true);
    while connections.join_next().await.is_some() {}
}

async fn serve_connection(
    stream: TcpStream,
    peer: std::net::SocketAddr,
    app: Router,
    admitted: Admitted,
    header_timeout: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let app = TowerToHyperService::new(app);
    let busy = Arc::clone(&admitted.busy);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        // The peer's address, for what is decided per client (the sign-in's rate limit).
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        let in_flight = InFlight::enter(&busy);
        let answer = hyper::service::Service::call(&app, request);
        async move {
            // In flight until the last byte of the answer is written, not merely produced.
            let response = answer.await?;
            Ok::<_, std::convert::Infallible>(response.map(|body| {
                axum::body::Body::new(body.map_frame(move |frame| {
                    let _held = &in_flight;
                    frame
                }))
            }))
        }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                debug!(%error, "a connection ended with an error");
            }
            return;
        }
        () = admitted.evict.notified() => {
            // Idle when chosen; if a request started since, it is answered first.
            if admitted.busy.load(Ordering::SeqCst) == 0 {
                ::metrics::counter!(CONNECTIONS_SHED_TOTAL, "reason" => "evicted").increment(1);
                return;
            }
        }
        _ = stopped.wait_for(|stopped| *stopped) => {}
    }
    connection.as_mut().graceful_shutdown();
    let _ = connection.await;
}

/// The open connections, oldest first.
#[derive(Default)]
struct Registry {
    open: Mutex<BTreeMap<u64, Slot>>,
    next: AtomicU64,
}

struct Slot {
    busy: Arc<AtomicUsize>,
    evict: Arc<Notify>,
}

impl Registry {
    /// Makes room for one more connection: at the cap, evicts the oldest idle one, and
    /// refuses (`None`) when every one is busy.
    fn admit(self: &Arc<Self>, max_connections: usize) -> Option<Admitted> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.len() >= max_connections.max(1) {
            let idle = open
                .iter()
                .find(|(_, slot)| slot.busy.load(Ordering::SeqCst) == 0)
                .map(|(&id, _)| id)?;
            if let Some(slot) = open.remove(&idle) {
                // A stored permit: the connection sees it even if not yet waiting.
                slot.evict.notify_one();
            }
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let busy = Arc::new(AtomicUsize::new(0));
        let evict = Arc::new(Notify::new());
        open.insert(
            id,
            Slot {
                busy: Arc::clone(&busy),
                evict: Arc::clone(&evict),
            },
        );
        ::metrics::gauge!(CONNECTIONS_OPEN).set(open.len() as f64);
        Some(Admitted {
            id,
            busy,
            evict,
            registry: Arc::clone(self),
        })
    }
}

/// One admitted connection; leaves the registry when dropped.
struct Admitted {
    id: u64,
    busy: Arc<AtomicUsize>,
    evict: Arc<Notify>,
    registry: Arc<Registry>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.registry.open.lock().unwrap_or_else(|e| e.into_inner());
        open.remove(&self.id);
        ::metrics::gauge!(CONNECTIONS_OPEN).set(open.len() as f64);
    }
}

/// A request in flight on a connection, for as long as it lives.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn enter(busy: &Arc<AtomicUsize>) -> InFlight {
        busy.fetch_add(1, Ordering::SeqCst);
        InFlight(Arc::clone(busy))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_cap_the_oldest_idle_connection_makes_room() {
        let registry = Arc::new(Registry::default());
        let first = registry.admit(2).unwrap();
        let second = registry.admit(2).unwrap();
        let _busy = InFlight::enter(&first.busy);
        // The first is busy: the second, idle, is evicted for the third.
        let third = registry.admit(2).expect("room made");
        assert!(!registry.open.lock().unwrap().contains_key(&second.id));
        assert!(registry.open.lock().unwrap().contains_key(&third.id));
        let _also_busy = InFlight::enter(&third.busy);
        // Everyone busy: refused.
        assert!(registry.admit(2).is_none());
        drop(first);
        assert!(
            registry.admit(2).is_some(),
            "a closed connection frees its place"
        );
    }
}

//! A real `posture serve` process: started with the command a test builds, its address read
//! from the line it prints, its log kept (and printed when the test fails), stopped with
//! SIGTERM as Kubernetes and systemd do, or SIGKILL.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    log: Arc<Mutex<String>>,
    drain: Option<JoinHandle<()>>,
}

impl Server {
    /// Spawns `command` (a `posture serve … --listen 127.0.0.1:0`) with its standard error
    /// piped, and waits for it to say where it listens.
    pub fn spawn(mut command: Command) -> Server {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let log = Arc::new(Mutex::new(String::new()));
        let mut address = None;
        // Bounded: the server prints its address among its first lines, or exits.
        for _ in 0..1_000 {
            let Some(line) = lines.next() else { break };
            let line = line.unwrap();
            log.lock().unwrap().push_str(&format!("{line}\n"));
            if let Some(found) = line.strip_prefix("posture: listening on ") {
                address = Some(found.to_owned());
                break;
            }
        }
        let Some(address) = address else {
            let _ = child.kill();
            panic!("the server did not start:\n{}", log.lock().unwrap());
        };
        // Keep draining standard error so the server never blocks on a full pipe.
        let sink = log.clone();
        let drain = std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        Server {
            child,
            base: format!("http://{address}"),
            log,
            drain: Some(drain),
        }
    }

    /// SIGTERM; waits for a clean exit and returns the log.
    pub fn terminate(mut self) -> String {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "posture serve exited with {exit}");
        self.log()
    }

    /// SIGKILL: nothing gets to run; returns the log.
    pub fn kill(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.log()
    }

    fn log(&mut self) -> String {
        if let Some(drain) = self.drain.take() {
            drain.join().unwrap();
        }
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            if let Some(drain) = self.drain.take() {
                let _ = drain.join();
            }
            eprintln!("posture serve's log:\n{}", self.log.lock().unwrap());
        }
    }
}

//! Starts `moto_server` on a free local port and stops it when dropped.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto server, private to one test.
pub struct MotoServer {
    child: Child,
    pub endpoint: String,
}

impl MotoServer {
    /// Starts moto with AWS-managed policies loaded and waits until it answers.
    ///
    /// Panics with install instructions when `moto_server` is missing: the test cannot run
    /// without it, and a silent skip would pass without testing anything.
    pub fn start() -> Self {
        let port = super::free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match child {
            Ok(child) => child,
            Err(error) => panic!(
                "cannot start `moto_server` ({error}); install with `pip install 'moto[server]'`"
            ),
        };
        let mut server = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        server.wait_ready(port, Duration::from_secs(30));
        server
    }

    fn wait_ready(&mut self, port: u16, timeout: Duration) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("`moto_server` exited early with {status}; run it by hand to see why");
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            if started.elapsed() > timeout {
                panic!("`moto_server` did not listen on 127.0.0.1:{port} within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

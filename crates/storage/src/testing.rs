//! Test support shared by arco's test suites (feature `testing`): a real
//! S3-compatible server (moto, from the peers venv) on 127.0.0.1.
//!
//! moto's server comes from `$ARCO_PEERS_VENV` (default: `.peers-venv` at the
//! repository root, made by `scripts/setup-peers.sh`). Without it,
//! [`Moto::start`] prints a line and returns `None` so the test can pass as
//! skipped — unless `ARCO_REQUIRE_PEERS=1`, where it panics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use crate::{OpenOptions, S3Options};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A moto S3 server on 127.0.0.1, killed on drop.
pub struct Moto {
    child: Child,
    /// The port it listens on.
    pub port: u16,
}

impl Moto {
    /// Start moto, or `None` (after saying so) when it is not installed.
    pub fn start() -> Option<Moto> {
        let venv = std::env::var_os("ARCO_PEERS_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.peers-venv"));
        let bin = venv.join("bin").join("moto_server");
        if !bin.exists() {
            if std::env::var("ARCO_REQUIRE_PEERS").as_deref() == Ok("1") {
                panic!(
                    "moto_server not found at {} and ARCO_REQUIRE_PEERS=1: run scripts/setup-peers.sh",
                    bin.display()
                );
            }
            eprintln!(
                "skipped: moto_server not found at {} (run scripts/setup-peers.sh)",
                bin.display()
            );
            return None;
        }
        // The port may be taken between the probe and moto's bind: try a few.
        for _ in 0..3 {
            let port = free_port();
            let mut child = Command::new(&bin)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start moto_server");
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited: port taken, probably
                }
                if let Ok((200, _)) = request(port, "GET", "/", &[], b"") {
                    return Some(Moto { child, port });
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("moto_server did not start answering on 127.0.0.1 within 60 s");
    }

    /// The server's URL, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Create a bucket.
    pub fn create_bucket(&self, bucket: &str) {
        let (status, body) = request(self.port, "PUT", &format!("/{bucket}"), &[], b"").unwrap();
        assert_eq!(
            status,
            200,
            "create bucket: {}",
            String::from_utf8_lossy(&body)
        );
    }

    /// Upload with a plain unsigned PUT (moto accepts it); `public` adds a
    /// public-read ACL so anonymous reads work.
    pub fn put(&self, bucket: &str, key: &str, data: &[u8], public: bool) {
        let headers: &[(&str, &str)] = if public {
            &[("x-amz-acl", "public-read")]
        } else {
            &[]
        };
        let (status, body) =
            request(self.port, "PUT", &format!("/{bucket}/{key}"), headers, data).unwrap();
        assert_eq!(status, 200, "put {key}: {}", String::from_utf8_lossy(&body));
    }

    /// Options for this server with explicit (fake) credentials, so nothing
    /// comes from the process environment.
    pub fn options(&self, rt: &tokio::runtime::Runtime) -> OpenOptions {
        OpenOptions {
            handle: Some(rt.handle().clone()),
            s3: S3Options {
                endpoint: Some(self.endpoint()),
                region: Some("us-east-1".into()),
                access_key_id: Some("test".into()),
                secret_access_key: Some("test".into()),
                session_token: Some("test".into()),
                ..S3Options::default()
            },
            ..OpenOptions::default()
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a probe port");
    l.local_addr().expect("probe addr").port()
}

/// A minimal HTTP/1.1 request (`Connection: close`); returns status and body.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut out = Vec::new();
    s.read_to_end(&mut out)?;
    let status = std::str::from_utf8(out.get(9..12).unwrap_or_default())
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let body_at = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(out.len(), |p| p + 4);
    Ok((status, out[body_at..].to_vec()))
}

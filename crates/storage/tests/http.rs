//! `http://` reads against a tiny range-serving HTTP server in a thread.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_storage::{open, ByteSource, Error, OpenOptions, ReadCounter};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Serves `data` at `/data/file.bin` with HEAD and `Range: bytes=a-b`
/// support, one request per connection; counts the requests it answers.
struct RangeServer {
    port: u16,
    requests: Arc<AtomicU64>,
    ranged: Arc<AtomicU64>,
}

impl RangeServer {
    fn start(data: Vec<u8>, honour_ranges: bool) -> RangeServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicU64::new(0));
        let ranged = Arc::new(AtomicU64::new(0));
        let data = Arc::new(data);
        let (req, rng) = (Arc::clone(&requests), Arc::clone(&ranged));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (data, req, rng) = (Arc::clone(&data), Arc::clone(&req), Arc::clone(&rng));
                std::thread::spawn(move || {
                    let _ = serve(stream, &data, honour_ranges, &req, &rng);
                });
            }
        });
        RangeServer {
            port,
            requests,
            ranged,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

fn serve(
    stream: TcpStream,
    data: &[u8],
    honour_ranges: bool,
    requests: &AtomicU64,
    ranged: &AtomicU64,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let mut range = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        let lower = h.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("range: bytes=") {
            let (a, b) = v.trim().split_once('-').unwrap();
            range = Some((a.parse::<usize>().unwrap(), b.parse::<usize>().unwrap()));
        }
    }
    requests.fetch_add(1, Ordering::SeqCst);
    let mut out = stream;
    if path != "/data/file.bin" {
        return out.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
    }
    let n = data.len();
    let (status, body, extra) = match range {
        Some((a, b)) if honour_ranges && a < n => {
            ranged.fetch_add(1, Ordering::SeqCst);
            let b = b.min(n - 1);
            (
                "206 Partial Content",
                &data[a..=b],
                format!("Content-Range: bytes {a}-{b}/{n}\r\n"),
            )
        }
        _ => ("200 OK", data, String::new()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    out.write_all(head.as_bytes())?;
    if method != "HEAD" {
        out.write_all(body)?;
    }
    out.flush()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn sample(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

#[test]
fn an_http_url_is_read_with_range_requests_and_counted() {
    let data = sample(2_000_000);
    let server = RangeServer::start(data.clone(), true);
    let rt = runtime();
    let counter = ReadCounter::new();
    let opts = OpenOptions {
        handle: Some(rt.handle().clone()),
        counter: Some(counter.clone()),
        ..OpenOptions::default()
    };
    let src = open(&server.url("/data/file.bin"), &opts).unwrap();
    assert_eq!(src.len(), 2_000_000);

    // Metadata-style reads: all inside the first 256 KiB block.
    for i in 0..20 {
        let r = i * 1000..i * 1000 + 100;
        assert_eq!(
            &src.read_range(r.clone()).unwrap()[..],
            &data[r.start as usize..r.end as usize]
        );
    }
    // Chunk reads: two clusters more than 1 MiB apart.
    let ranges: Vec<_> = (0..10u64)
        .map(|i| 500_000 + i * 5000..500_000 + i * 5000 + 2000)
        .chain((0..5u64).map(|i| 1_900_000 + i * 1000..1_900_000 + i * 1000 + 500))
        .collect();
    let got = src.read_ranges(&ranges).unwrap();
    for (r, g) in ranges.iter().zip(&got) {
        assert_eq!(&g[..], &data[r.start as usize..r.end as usize]);
    }
    let s = counter.stats();
    eprintln!(
        "http: 20 small reads + {} ranges -> {} requests ({} at the server), {} bytes",
        ranges.len(),
        s.requests,
        server.requests.load(Ordering::SeqCst),
        s.bytes
    );
    // HEAD + one block + two coalesced requests.
    assert_eq!(s.requests, 4);
    assert_eq!(server.requests.load(Ordering::SeqCst), 4);
    assert_eq!(server.ranged.load(Ordering::SeqCst), 3);
    assert_eq!(s.bytes, 256 * 1024 + (9 * 5000 + 2000) + (4 * 1000 + 500));
}

#[test]
fn a_missing_url_is_not_found_and_names_it() {
    let server = RangeServer::start(sample(10), true);
    let rt = runtime();
    let opts = OpenOptions::default().with_handle(rt.handle().clone());
    let url = server.url("/data/other.bin");
    let e = open(&url, &opts).unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    assert!(
        e.to_string().starts_with(&format!("{url}: not found")),
        "{e}"
    );
}

#[test]
fn a_server_without_range_support_is_an_error_not_a_whole_download() {
    let server = RangeServer::start(sample(100_000), false);
    let rt = runtime();
    let opts = OpenOptions::default().with_handle(rt.handle().clone());
    let src = open(&server.url("/data/file.bin"), &opts).unwrap();
    let e = src.read_range(10..20).unwrap_err().to_string();
    assert!(e.contains("range requests"), "{e}");
}

#[test]
fn remote_reads_from_rayon_like_threads_share_one_runtime() {
    let data = sample(300_000);
    let server = RangeServer::start(data.clone(), true);
    let rt = runtime();
    let opts = OpenOptions {
        cache_bytes: 0,
        ..OpenOptions::default().with_handle(rt.handle().clone())
    };
    let src = open(&server.url("/data/file.bin"), &opts).unwrap();
    let handles: Vec<_> = (0..8u64)
        .map(|t| {
            let src = Arc::clone(&src);
            std::thread::spawn(move || src.read_range(t * 30_000..t * 30_000 + 1234).unwrap())
        })
        .collect();
    for (t, h) in handles.into_iter().enumerate() {
        let start = t * 30_000;
        assert_eq!(&h.join().unwrap()[..], &data[start..start + 1234]);
    }
}

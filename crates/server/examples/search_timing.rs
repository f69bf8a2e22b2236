//! Time searches in process against a catalog: `search_timing CATALOG 'cql2-text' [...]`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use arco_server::search::Endpoint;
use arco_server::{EmbeddedBackend, LoadOptions, SearchRequest};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let cat = args.next().expect("usage: search_timing CATALOG QUERY...");
    let t = Instant::now();
    let loaded = arco_server::load(&[cat], &LoadOptions::default()).unwrap();
    let b = EmbeddedBackend::new(loaded).unwrap();
    eprintln!("load + index: {:?} ({} items)", t.elapsed(), b.item_count());
    for q in args {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect();
        let req = SearchRequest::from_query(&pairs, Endpoint::Search).unwrap();
        let mut best = f64::MAX;
        let mut n = 0;
        for _ in 0..5 {
            let t = Instant::now();
            let page = b.search(&req).unwrap();
            best = best.min(t.elapsed().as_secs_f64() * 1000.0);
            n = page.number_matched.unwrap_or(0);
        }
        println!("{best:8.3} ms  matched {n:6}  {q}");
    }
}

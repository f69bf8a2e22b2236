//! The map viewer at `/viewer`: a single page (Leaflet map of a dataset's
//! tiles, dimension sliders, colormap and range, colour bar, and the time
//! series at a clicked point in a uPlot chart) built into the binary.
//!
//! The files live in `crates/server/viewer/` and are embedded with
//! `include_bytes!`: plain ES modules and CSS, no build step, and the
//! third-party libraries vendored under `viewer/vendor/` by
//! `viewer/vendor.sh` (exact npm versions, with their licences), so the page
//! works offline and asks nothing of any other host.
//!
//! The router serves [`asset`]`(rest)` for `GET /viewer{rest}`: `""` and
//! `"/"` are the page itself, `"/app.js"`, `"/vendor/leaflet.js"`, … the
//! files beside it. The page finds its assets relative to its own address and
//! the API one folder above `/viewer/`, so it also works behind a path prefix.
//! The names are not content-hashed: answer with the asset's [`Asset::etag`]
//! and `Cache-Control: no-cache` so browsers revalidate (a 304 costs nothing).

use std::sync::OnceLock;

/// One embedded file of the viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    /// The file's bytes.
    pub body: &'static [u8],
    /// Its media type (`Content-Type`), with `charset=utf-8` for text.
    pub media_type: &'static str,
    /// A strong ETag (quoted) from a hash of the content, computed once per
    /// process.
    pub etag: &'static str,
}

/// (path under `/viewer/`, bytes) of every served file.
macro_rules! viewer_files {
    ($($path:literal),* $(,)?) => {
        const FILES: &[(&str, &[u8])] = &[
            $(($path, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/viewer/", $path)))),*
        ];
    };
}

viewer_files!(
    "index.html",
    "app.js",
    "style.css",
    "vendor/leaflet.js",
    "vendor/leaflet.css",
    "vendor/images/layers.png",
    "vendor/images/layers-2x.png",
    "vendor/images/marker-icon.png",
    "vendor/images/marker-icon-2x.png",
    "vendor/images/marker-shadow.png",
    "vendor/LICENSE-leaflet.txt",
    "vendor/uPlot.iife.min.js",
    "vendor/uPlot.min.css",
    "vendor/LICENSE-uplot.txt",
);

/// The file served for `GET /viewer{path}`, or `None` (answer 404).
///
/// `path` is what follows `/viewer` in the request path, without the query:
/// `""` or `"/"` is the page (`index.html`); `"/app.js"`,
/// `"/vendor/leaflet.js"`, … the files beside it. Only the listed files are
/// served: `..`, doubled slashes or any other name give `None`.
pub fn asset(path: &str) -> Option<Asset> {
    let name = match path {
        "" | "/" => "index.html",
        _ => path.strip_prefix('/')?,
    };
    let i = FILES.iter().position(|(p, _)| *p == name)?;
    let (_, body) = FILES[i];
    Some(Asset {
        body,
        media_type: media_type(name),
        etag: etags()[i].as_str(),
    })
}

/// The paths [`asset`] answers (each with its leading `/`), the page first.
pub fn paths() -> impl Iterator<Item = String> {
    FILES.iter().map(|(p, _)| format!("/{p}"))
}

fn media_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("png") => "image/png",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn etags() -> &'static [String] {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        FILES
            .iter()
            .map(|(_, body)| format!("\"{:x}-{:016x}\"", body.len(), fnv1a64(body)))
            .collect()
    })
}

/// FNV-1a, 64 bits: enough to tell versions of a file apart (with the length
/// beside it in the ETag); not a security boundary.
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    /// Files in `viewer/` that are deliberately not served.
    const NOT_SERVED: &[&str] = &["vendor.sh"];

    /// URLs that may appear in code (outside comments) because nothing
    /// fetches them: the SVG namespace and Leaflet's attribution link.
    const NON_FETCHED_URLS: &[&str] = &["http://www.w3.org/2000/svg", "https://leafletjs.com"];

    fn viewer_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("viewer")
    }

    fn walk(dir: &Path, root: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel);
            }
        }
    }

    fn text(name: &str) -> String {
        String::from_utf8(asset(&format!("/{name}")).unwrap().body.to_vec()).unwrap()
    }

    /// The text with `/* … */` comments (and, for HTML, `<!-- … -->`) removed.
    fn without_block_comments(s: &str, open: &str, close: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find(open) {
            out.push_str(&rest[..i]);
            match rest[i + open.len()..].find(close) {
                Some(j) => rest = &rest[i + open.len() + j + close.len()..],
                None => rest = "",
            }
        }
        out.push_str(rest);
        out
    }

    /// Also drops `// …` line comments (a `//` not preceded by `:`).
    fn without_line_comments(s: &str) -> String {
        s.lines()
            .map(|line| {
                let mut cut = line.len();
                let bytes = line.as_bytes();
                for i in 0..bytes.len().saturating_sub(1) {
                    if bytes[i] == b'/' && bytes[i + 1] == b'/' && (i == 0 || bytes[i - 1] != b':')
                    {
                        cut = i;
                        break;
                    }
                }
                &line[..cut]
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn urls(s: &str) -> Vec<String> {
        let mut found = Vec::new();
        for scheme in ["http://", "https://"] {
            let mut rest = s;
            while let Some(i) = rest.find(scheme) {
                let url: String = rest[i..]
                    .chars()
                    .take_while(|c| !c.is_whitespace() && !"\"'`)<>,;".contains(*c))
                    .collect();
                found.push(url);
                rest = &rest[i + scheme.len()..];
            }
        }
        found
    }

    /// The quoted string arguments of `call("…")` in `s`.
    fn call_args(s: &str, call: &str) -> Vec<String> {
        s.match_indices(&format!("{call}(\""))
            .map(|(i, m)| {
                let rest = &s[i + m.len()..];
                rest[..rest.find('"').unwrap()].to_string()
            })
            .collect()
    }

    #[test]
    fn every_file_in_the_viewer_folder_is_served_and_every_served_file_exists() {
        let mut on_disk = BTreeSet::new();
        walk(&viewer_dir(), &viewer_dir(), &mut on_disk);
        let mut expected: BTreeSet<String> = paths()
            .map(|p| p.trim_start_matches('/').to_string())
            .collect();
        expected.extend(NOT_SERVED.iter().map(|s| s.to_string()));
        assert_eq!(
            on_disk, expected,
            "crates/server/viewer/ and the list in viewer.rs differ: add new files to viewer_files! (or to NOT_SERVED)"
        );
        for p in paths() {
            let rel = p.trim_start_matches('/');
            assert_eq!(
                asset(&p).unwrap().body,
                std::fs::read(viewer_dir().join(rel)).unwrap().as_slice(),
                "{p} is stale"
            );
        }
    }

    #[test]
    fn the_page_is_served_for_an_empty_path_a_slash_and_its_own_name() {
        let page = asset("").unwrap();
        assert_eq!(page.media_type, "text/html; charset=utf-8");
        assert!(String::from_utf8_lossy(page.body).contains("<title>arco viewer</title>"));
        assert_eq!(asset("/"), Some(page));
        assert_eq!(asset("/index.html"), Some(page));
    }

    #[test]
    fn media_types_follow_the_file_extension() {
        let want = [
            ("/app.js", "text/javascript; charset=utf-8"),
            ("/style.css", "text/css; charset=utf-8"),
            ("/vendor/leaflet.js", "text/javascript; charset=utf-8"),
            ("/vendor/uPlot.min.css", "text/css; charset=utf-8"),
            ("/vendor/images/layers.png", "image/png"),
            ("/vendor/LICENSE-leaflet.txt", "text/plain; charset=utf-8"),
        ];
        for (path, media) in want {
            assert_eq!(asset(path).unwrap().media_type, media, "{path}");
        }
        for p in paths() {
            let a = asset(&p).unwrap();
            assert_ne!(
                a.media_type, "application/octet-stream",
                "{p} has no media type"
            );
            if p.ends_with(".png") {
                assert!(a.body.starts_with(b"\x89PNG\r\n\x1a\n"), "{p} is not a PNG");
            }
        }
    }

    #[test]
    fn unknown_or_escaping_paths_are_not_served() {
        for path in [
            "/nope.js",
            "nope",
            "/vendor.sh",
            "/../Cargo.toml",
            "/vendor/../index.html",
            "//index.html",
            "/INDEX.HTML",
            "/vendor/",
            "/app.js?x=1",
            "index.html",
        ] {
            assert_eq!(asset(path), None, "{path:?} should be unknown");
        }
    }

    #[test]
    fn etags_are_quoted_stable_and_differ_between_files() {
        let mut seen = BTreeSet::new();
        for p in paths() {
            let a = asset(&p).unwrap();
            assert!(
                a.etag.starts_with('"') && a.etag.ends_with('"') && a.etag.len() > 4,
                "{}",
                a.etag
            );
            assert_eq!(asset(&p).unwrap().etag, a.etag);
            assert!(
                std::ptr::eq(asset(&p).unwrap().etag, a.etag),
                "the ETag is recomputed per call"
            );
            assert!(seen.insert(a.etag), "{p} shares its ETag");
        }
        assert_ne!(fnv1a64(b"a"), fnv1a64(b"b"));
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn the_viewers_own_files_name_no_remote_url() {
        let page = without_block_comments(&text("index.html"), "<!--", "-->");
        let app = without_line_comments(&without_block_comments(&text("app.js"), "/*", "*/"));
        let css = without_block_comments(&text("style.css"), "/*", "*/");
        for (name, code) in [("index.html", page), ("app.js", app), ("style.css", css)] {
            let found = urls(&code);
            assert!(
                found.is_empty(),
                "{name} refers to remote URLs {found:?}: the viewer must work offline"
            );
            assert!(
                !code.contains("//cdn") && !code.contains("\"//"),
                "{name} has a protocol-relative URL"
            );
        }
    }

    #[test]
    fn the_vendored_libraries_fetch_nothing_remote() {
        for p in paths().filter(|p| p.ends_with(".js") || p.ends_with(".css")) {
            let code = without_block_comments(&text(p.trim_start_matches('/')), "/*", "*/");
            for url in urls(&code) {
                assert!(
                    NON_FETCHED_URLS.contains(&url.as_str()),
                    "{p} has the URL {url} outside comments: check that nothing fetches it, then list it in NON_FETCHED_URLS"
                );
            }
        }
    }

    #[test]
    fn every_asset_the_page_loads_is_served() {
        let page = text("index.html");
        for attr in ["src=\"", "href=\""] {
            for (i, m) in page.match_indices(attr) {
                let rest = &page[i + m.len()..];
                let target = &rest[..rest.find('"').unwrap()];
                assert!(
                    target.starts_with("data:"),
                    "index.html loads {target}: assets are loaded by app.js"
                );
            }
        }
        let app = text("app.js");
        let mut loaded = call_args(&app, "loadCss");
        loaded.extend(call_args(&app, "loadScript"));
        assert!(loaded.len() >= 5, "app.js loads {loaded:?}");
        for name in &loaded {
            assert!(
                asset(&format!("/{name}")).is_some(),
                "app.js loads {name}, which is not served"
            );
        }
        // url(...) in the stylesheets, relative to each stylesheet.
        for p in paths().filter(|p| p.ends_with(".css")) {
            let css = without_block_comments(&text(p.trim_start_matches('/')), "/*", "*/");
            let dir = &p[..p.rfind('/').unwrap() + 1];
            for (i, m) in css.match_indices("url(") {
                let rest = &css[i + m.len()..];
                let target =
                    rest[..rest.find(')').unwrap()].trim_matches(|c| c == '"' || c == '\'');
                if target.starts_with('#') || target.starts_with("data:") {
                    continue;
                }
                assert!(
                    asset(&format!("{dir}{target}")).is_some(),
                    "{p} refers to {target}, which is not served"
                );
            }
        }
    }

    #[test]
    fn the_assets_stay_small() {
        let total: usize = FILES.iter().map(|(_, b)| b.len()).sum();
        assert!(
            total < 400 * 1024,
            "the viewer's assets are {total} bytes (keep them < 400 KiB)"
        );
    }
}

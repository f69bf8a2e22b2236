//! Licenses as STAC wants them: an SPDX identifier or expression (checked
//! against the SPDX license list bundled with the `spdx` crate), `other`,
//! or the STAC 1.0 keywords `proprietary` and `various`.

use crate::{Error, Result};

/// A checked license string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct License(String);

/// Levenshtein distance, for suggestions.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Up to five SPDX identifiers close to `s`.
fn suggestions(s: &str) -> Vec<String> {
    let lower = s.trim().to_ascii_lowercase();
    let mut out: Vec<String> = Vec::new();
    if let Some((id, _)) = spdx::imprecise_license_id(s.trim()) {
        out.push(id.name.to_string());
    }
    let mut scored: Vec<(usize, usize, &str)> = spdx::identifiers::LICENSES
        .iter()
        .filter(|(_, _, flags)| flags & spdx::identifiers::IS_DEPRECATED == 0)
        .map(|(id, _, _)| {
            let l = id.to_ascii_lowercase();
            let mut d = distance(&lower, &l);
            if lower.len() >= 3 && (l.starts_with(&lower) || lower.starts_with(&l)) {
                d = d.min(1);
            }
            (d, id.len(), *id)
        })
        .filter(|(d, _, _)| *d <= (lower.len() / 3).max(2))
        .collect();
    scored.sort();
    for (_, _, id) in scored {
        if out.len() >= 5 {
            break;
        }
        if !out.iter().any(|o| o == id) {
            out.push(id.to_string());
        }
    }
    out
}

impl License {
    /// Check `s`: an SPDX license identifier (`CC-BY-4.0`, `MIT`) or
    /// expression (`MIT OR Apache-2.0`), `other`, `proprietary` or `various`.
    ///
    /// Anything else is [`Error::License`], naming the string and suggesting
    /// close SPDX identifiers:
    ///
    /// ```
    /// use arco_catalog::License;
    /// assert_eq!(License::parse("CC-BY-4.0").unwrap().as_str(), "CC-BY-4.0");
    /// let e = License::parse("cc-by-4").unwrap_err().to_string();
    /// assert!(e.contains("'cc-by-4'") && e.contains("CC-BY-4.0"), "{e}");
    /// ```
    pub fn parse(s: &str) -> Result<License> {
        let t = s.trim();
        match t {
            "other" | "proprietary" | "various" => return Ok(License(t.to_string())),
            _ => {}
        }
        if let Some(id) = spdx::license_id(t) {
            if id.name == t.trim_end_matches('+') {
                return Ok(License(t.to_string()));
            }
        }
        let compound = [" OR ", " AND ", " WITH "].iter().any(|op| t.contains(op));
        if compound && spdx::Expression::parse(t).is_ok() {
            return Ok(License(t.to_string()));
        }
        Err(Error::License {
            given: s.to_string(),
            suggestions: suggestions(t),
        })
    }

    /// `other`: a license that is not on the SPDX list (STAC 1.1 wants a
    /// `license` link to its text then).
    pub fn other() -> License {
        License("other".into())
    }

    /// The license string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for SPDX identifiers and expressions (not `other`, `proprietary`, `various`).
    pub fn is_spdx(&self) -> bool {
        !matches!(self.0.as_str(), "other" | "proprietary" | "various")
    }

    /// The SPDX identifiers it names (one, or each of an expression).
    pub fn spdx_ids(&self) -> Vec<String> {
        if !self.is_spdx() {
            return Vec::new();
        }
        if let Some(id) = spdx::license_id(&self.0) {
            return vec![id.name.to_string()];
        }
        match spdx::Expression::parse(&self.0) {
            Ok(e) => {
                let mut ids: Vec<String> = Vec::new();
                for r in e.requirements() {
                    if let Some(id) = r.req.license.id() {
                        if !ids.iter().any(|i| i == id.name) {
                            ids.push(id.name.to_string());
                        }
                    }
                }
                ids
            }
            Err(_) => Vec::new(),
        }
    }

    /// `license` links to `https://spdx.org/licenses/<ID>.html`, one per
    /// SPDX identifier.
    pub fn links(&self) -> Vec<stac::Link> {
        self.spdx_ids()
            .into_iter()
            .map(|id| {
                let full = spdx::license_id(&id).map(|l| l.full_name).unwrap_or("");
                let mut link =
                    stac::Link::new(format!("https://spdx.org/licenses/{id}.html"), "license")
                        .r#type(Some("text/html".to_string()));
                link.title = Some(if full.is_empty() {
                    id.clone()
                } else {
                    format!("{full} ({id})")
                });
                link
            })
            .collect()
    }
}

impl std::fmt::Display for License {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn spdx_identifiers_and_stac_keywords_are_accepted() {
        for ok in [
            "MIT",
            "CC-BY-4.0",
            "other",
            "proprietary",
            "various",
            "MIT OR Apache-2.0",
        ] {
            assert_eq!(License::parse(ok).unwrap().as_str(), ok);
        }
        assert_eq!(
            License::parse("MIT OR Apache-2.0").unwrap().spdx_ids(),
            ["MIT", "Apache-2.0"]
        );
        assert!(License::parse("other").unwrap().links().is_empty());
        let l = License::parse("CC-BY-4.0").unwrap().links();
        assert_eq!(l[0].href, "https://spdx.org/licenses/CC-BY-4.0.html");
    }

    #[test]
    fn unknown_licenses_are_errors_with_suggestions() {
        let e = License::parse("apache").unwrap_err();
        let Error::License { given, suggestions } = &e else {
            panic!("{e}")
        };
        assert_eq!(given, "apache");
        assert!(
            suggestions.iter().any(|s| s == "Apache-2.0"),
            "{suggestions:?}"
        );
        let e = License::parse("cc-by-4.0").unwrap_err().to_string();
        assert!(e.contains("CC-BY-4.0"), "{e}");
        assert!(License::parse("CopyRight EUMETSAT 2017").is_err());
    }
}

//! Common metadata from CF and ACDD global attributes.

use crate::license::License;
use arco_core::{AttrValue, Dataset, Values};
use serde_json::{json, Map, Value};

pub(crate) struct Globals {
    pub title: Option<String>,
    pub description: Option<String>,
    pub history: Option<String>,
    pub keywords: Vec<String>,
    pub license: Option<String>,
    pub license_text: Option<String>,
    pub providers: Vec<stac::Provider>,
    pub links: Vec<stac::Link>,
    /// `arco:conventions`, `arco:source`, `arco:references`.
    pub extra: Map<String, Value>,
}

/// A global attribute's text: text attributes, and string arrays joined by
/// `, `; `None` when empty or a placeholder (`NA`, `N/A`, `none`).
fn text(ds: &Dataset, names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| {
        let a = ds
            .root
            .attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))?;
        let s = match &a.value {
            AttrValue::Text(t) => t.clone(),
            AttrValue::Array(Values::Str(v)) => v.join(", "),
            AttrValue::Array(_) => return None,
        };
        let s = s.trim().to_string();
        let placeholder = ["na", "n/a", "none", "null", "unknown", "-"]
            .contains(&s.to_ascii_lowercase().as_str());
        (!s.is_empty() && !placeholder).then_some(s)
    })
}

/// URLs in free text (http, https, doi:).
fn urls(s: &str) -> Vec<String> {
    s.split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '(' || c == ')')
        .map(|w| {
            w.trim_end_matches(['.', ',', ';', ')', ']', '>'])
                .trim_start_matches('<')
        })
        .filter_map(|w| {
            if w.starts_with("http://") || w.starts_with("https://") {
                Some(w.to_string())
            } else {
                w.strip_prefix("doi:")
                    .map(|d| format!("https://doi.org/{d}"))
            }
        })
        .collect()
}

pub(crate) fn globals(ds: &Dataset) -> Globals {
    let title = text(ds, &["title"]);
    let description = text(ds, &["summary", "comment", "description", "abstract"]);
    let history = text(ds, &["history"]);
    let mut keywords: Vec<String> = Vec::new();
    if let Some(k) = text(ds, &["keywords"]) {
        for w in k.split([',', ';']) {
            let w = w.trim();
            if !w.is_empty() && !keywords.iter().any(|x| x.eq_ignore_ascii_case(w)) {
                keywords.push(w.to_string());
            }
        }
    }
    let license_text = text(ds, &["license", "licence"]);
    let license = license_text
        .as_deref()
        .and_then(|l| License::parse(l).ok())
        .filter(|l| l.is_spdx())
        .map(|l| l.as_str().to_string());

    let mut providers = Vec::new();
    let institution = text(ds, &["institution"]);
    let source = text(ds, &["source"]);
    if let Some(name) = &institution {
        let mut p = stac::Provider::new(name);
        p.roles = Some(vec!["producer".into()]);
        p.url = text(ds, &["institution_url", "creator_url"]).filter(|u| u.starts_with("http"));
        p.description = source.as_ref().map(|s| format!("source: {s}"));
        providers.push(p);
    }
    if let Some(creator) = text(ds, &["creator_name", "creator_institution"]) {
        if institution.as_deref() != Some(creator.as_str()) {
            let mut p = stac::Provider::new(&creator);
            p.roles = Some(vec!["producer".into()]);
            p.url = text(ds, &["creator_url"]).filter(|u| u.starts_with("http"));
            providers.push(p);
        }
    }
    if let Some(publisher) = text(ds, &["publisher_name", "publisher_institution"]) {
        let mut p = stac::Provider::new(&publisher);
        p.roles = Some(vec!["host".into()]);
        p.url = text(ds, &["publisher_url"]).filter(|u| u.starts_with("http"));
        providers.push(p);
    }

    let mut extra = Map::new();
    let mut links = Vec::new();
    if let Some(c) = text(ds, &["Conventions"]) {
        extra.insert("arco:conventions".into(), json!(c));
    }
    if let Some(s) = &source {
        extra.insert("arco:source".into(), json!(s));
    }
    if let Some(r) = text(ds, &["references"]) {
        for url in urls(&r) {
            let rel = if url.contains("doi.org/") {
                "cite-as"
            } else {
                "related"
            };
            let mut link = stac::Link::new(url, rel);
            link.title = Some("references (global attribute)".into());
            links.push(link);
        }
        extra.insert("arco:references".into(), json!(r));
    }
    Globals {
        title,
        description,
        history,
        keywords,
        license,
        license_text,
        providers,
        links,
        extra,
    }
}

/// A description made from the variables when the data carry none.
/// `location` names the dataset (it may differ from where it is read).
pub(crate) fn generated_description(ds: &Dataset, location: &str, history: Option<&str>) -> String {
    let vars: Vec<String> = ds
        .root
        .all_variables()
        .iter()
        .filter(|v| !v.is_coordinate() && !v.dims.is_empty())
        .take(20)
        .map(|v| {
            let name = v.path.trim_start_matches('/');
            match v
                .attr("long_name")
                .and_then(AttrValue::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                Some(l) => format!("{name} ({l})"),
                None => name.to_string(),
            }
        })
        .collect();
    let name = location
        .trim_end_matches('/')
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(location);
    let mut s = format!("{} dataset {name}", ds.format);
    if !vars.is_empty() {
        s.push_str(&format!(" with variables {}", vars.join(", ")));
    }
    s.push('.');
    if let Some(h) = history {
        s.push_str(&format!("\n\nHistory: {h}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_found_in_references() {
        assert_eq!(
            urls("See http://a.org/x. and doi:10.1/abc, (https://b.org)"),
            [
                "http://a.org/x",
                "https://doi.org/10.1/abc",
                "https://b.org"
            ]
        );
    }
}

//! GDAL's private tags: `GDAL_METADATA` (42112, an XML list of items) and
//! `GDAL_NODATA` (42113, the nodata value as text).

/// One `<Item>` of `GDAL_METADATA`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    pub(crate) name: String,
    /// Zero-based band, for band items.
    pub(crate) sample: Option<usize>,
    /// `scale`, `offset`, `unittype`, `description`, or none for plain items.
    pub(crate) role: Option<String>,
    /// Metadata domain (empty for the default one).
    pub(crate) domain: Option<String>,
    pub(crate) value: String,
}

/// The items of a `GDAL_METADATA` document, in order. Malformed parts are skipped.
pub(crate) fn parse_items(xml: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<Item") {
        rest = &rest[start + 5..];
        let Some(close) = rest.find('>') else { break };
        let head = &rest[..close];
        let self_closing = head.ends_with('/');
        let attrs = parse_attrs(head.trim_end_matches('/'));
        rest = &rest[close + 1..];
        let value = if self_closing {
            String::new()
        } else {
            let Some(end) = rest.find("</Item>") else {
                break;
            };
            let v = unescape(&rest[..end]);
            rest = &rest[end + 7..];
            v
        };
        let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let Some(name) = get("name") else { continue };
        items.push(Item {
            name,
            sample: get("sample").and_then(|s| s.trim().parse().ok()),
            role: get("role"),
            domain: get("domain"),
            value,
        });
    }
    items
}

/// `key="value"` pairs of a start tag.
fn parse_attrs(head: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = head;
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].trim().to_string();
        let after = rest[eq + 1..].trim_start();
        let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            break;
        };
        let body = &after[1..];
        let Some(end) = body.find(quote) else { break };
        out.push((key, unescape(&body[..end])));
        rest = &body[end + 1..];
    }
    out
}

/// Replace XML entities.
fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';') else { break };
        let entity = &rest[1..semi];
        let ch = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The nodata value of `GDAL_NODATA` (`nan`, `inf`, `-inf` or a decimal number).
pub(crate) fn parse_nodata(text: &str) -> Option<f64> {
    let t = text.trim().trim_end_matches('\0');
    match t.to_ascii_lowercase().as_str() {
        "nan" | "-nan" => Some(f64::NAN),
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        _ => t.parse::<f64>().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gdal_metadata_items_keep_band_roles_and_unescape_text() {
        let xml = r#"<GDALMetadata>
  <Item name="SOURCE">a &amp; b &lt;c&gt;</Item>
  <Item name="OFFSET" sample="0" role="offset">-5</Item>
  <Item name="SCALE" sample="0" role="scale">0.01</Item>
  <Item name="DESCRIPTION" sample="1" role="description">green &#233;</Item>
  <Item name="EMPTY" sample="0"/>
  <Item name="xml" domain="xml:XMP">x</Item>
</GDALMetadata>"#;
        let items = parse_items(xml);
        assert_eq!(items.len(), 6);
        assert_eq!(items[0].value, "a & b <c>");
        assert_eq!(items[0].sample, None);
        assert_eq!(items[1].role.as_deref(), Some("offset"));
        assert_eq!(items[2].sample, Some(0));
        assert_eq!(items[3].value, "green é");
        assert_eq!(items[4].value, "");
        assert_eq!(items[5].domain.as_deref(), Some("xml:XMP"));
    }

    #[test]
    fn nodata_text_parses_like_gdal() {
        assert_eq!(parse_nodata("-9999"), Some(-9999.0));
        assert_eq!(
            parse_nodata("-3.40282306073709653e+38\0"),
            Some(-3.402_823_060_737_096_5e38)
        );
        assert!(parse_nodata("nan").unwrap().is_nan());
        assert_eq!(parse_nodata("-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_nodata("none"), None);
    }
}

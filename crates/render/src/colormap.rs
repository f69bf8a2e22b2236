//! Colormaps as titiler takes them: a name (`colormap_name=viridis`, any of
//! [`names`], each also reversed as `<name>_r`) or a JSON `colormap`
//! parameter, either a dict of values to colours (`{"0": [r,g,b,a], "1":
//! "#ff0000", ...}`) or a list of intervals (`[[[min, max], [r,g,b,a]],
//! ...]`).
//!
//! The named tables are matplotlib's (`scripts/make_colormaps.py` samples
//! each map at 256 points, as rio-tiler's `cmap_data` does, and checks that
//! they equal rio-tiler's): 768 bytes of RGB a map in `colormap/tables.bin`.
//! Reversed maps are the tables read backwards, then corrected at the few
//! entries (`colormap/reversed.bin`) where matplotlib's re-sampled `_r` map
//! differs by one or two levels, so `<name>_r` equals titiler's too.

mod names;

use serde_json::{Map, Value};

/// An RGBA colour.
pub type Rgba = [u8; 4];

/// Errors of colormap look-ups and parsing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ColormapError {
    /// No colormap has this name.
    #[error("unknown colormap {name:?}: valid names are {valid} (each also with `_r` for the reversed map; see /colorMaps)")]
    UnknownName {
        /// The name asked for.
        name: String,
        /// The valid (forward) names, comma-separated.
        valid: String,
    },
    /// The `colormap` parameter is not valid.
    #[error("invalid colormap JSON: {reason}. Valid forms: {{\"<int value>\": [r, g, b(, a)] or \"#rrggbb(aa)\", ...}} or [[[min, max], [r, g, b(, a)]], ...], with components 0..=255")]
    BadJson {
        /// What is wrong, and where.
        reason: String,
    },
}

/// A colormap, in titiler's three kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum Colormap {
    /// A 256-entry lookup table, indexed by the (rescaled, 8-bit) value: the
    /// named maps, and a JSON dict with exactly the keys 0..=255.
    Lut(Box<[Rgba; 256]>),
    /// Discrete values to colours (any other JSON dict, in key order):
    /// a pixel equal to a key gets its colour; one equal to none is
    /// transparent black.
    Discrete(Vec<(f64, Rgba)>),
    /// Half-open intervals `[min, max)` to colours, in the given order (a
    /// later interval wins where they overlap); a pixel in none is
    /// transparent black.
    Intervals(Vec<([f64; 2], Rgba)>),
}

/// The colormap names (titiler's, those matplotlib provides), sorted, each
/// followed by its reversed `_r` name: what `/colorMaps` lists.
pub fn names() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::with_capacity(names::NAMES.len() * 2);
    for name in names::NAMES {
        out.push(name);
    }
    for name in names::REVERSED_NAMES {
        out.push(name);
    }
    out.sort_unstable();
    out
}

/// The 256-entry table of a named map (`viridis`, `rdbu_r`, ...).
pub fn lut(name: &str) -> Result<Box<[Rgba; 256]>, ColormapError> {
    let (base, reversed) = match name.strip_suffix("_r") {
        Some(base) if names::NAMES.contains(&base) => (base, true),
        _ => (name, false),
    };
    let index = names::NAMES
        .iter()
        .position(|n| *n == base)
        .ok_or_else(|| ColormapError::UnknownName {
            name: name.to_string(),
            valid: names::NAMES.join(", "),
        })?;
    let table = &names::TABLES[index * 768..(index + 1) * 768];
    let mut out = Box::new([[0u8; 4]; 256]);
    for (i, entry) in out.iter_mut().enumerate() {
        let j = if reversed { 255 - i } else { i };
        *entry = [table[3 * j], table[3 * j + 1], table[3 * j + 2], 255];
    }
    if reversed {
        for fix in names::REVERSED_FIXES.chunks_exact(5) {
            if usize::from(fix[0]) == index {
                out[usize::from(fix[1])] = [fix[2], fix[3], fix[4], 255];
            }
        }
    }
    Ok(out)
}

impl Colormap {
    /// A named map (`viridis`, `rdbu_r`, ...); the error lists the names.
    pub fn named(name: &str) -> Result<Colormap, ColormapError> {
        lut(name).map(Colormap::Lut)
    }

    /// titiler's two colormap parameters: `colormap_name` wins over the JSON
    /// `colormap`; neither gives `None`.
    pub fn from_params(
        name: Option<&str>,
        json: Option<&str>,
    ) -> Result<Option<Colormap>, ColormapError> {
        match (name, json) {
            (Some(name), _) => Colormap::named(name).map(Some),
            (None, Some(json)) => Colormap::from_json(json).map(Some),
            (None, None) => Ok(None),
        }
    }

    /// Parse the JSON `colormap` parameter: a dict `{"<integer>": colour}`
    /// (exactly the 256 keys 0..=255 make a lookup table, anything else a
    /// discrete map) or a list of `[[min, max], colour]` intervals. A colour
    /// is `[r, g, b]`, `[r, g, b, a]` (alpha defaults to 255) or a hex string
    /// `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`.
    pub fn from_json(text: &str) -> Result<Colormap, ColormapError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| bad(format!("not JSON ({e})")))?;
        match value {
            Value::Object(map) => Colormap::from_dict(&map),
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let pair = match item.as_array() {
                        Some(p) if p.len() == 2 => p,
                        _ => {
                            return Err(bad(format!(
                                "interval #{i} is not a pair [[min, max], colour]"
                            )))
                        }
                    };
                    let range = match pair[0].as_array() {
                        Some(r) if r.len() == 2 => r,
                        _ => {
                            return Err(bad(format!("interval #{i}: the range is not [min, max]")))
                        }
                    };
                    let bound = |v: &Value| {
                        v.as_f64().ok_or_else(|| {
                            bad(format!(
                                "interval #{i}: the range bound {v} is not a number"
                            ))
                        })
                    };
                    let colour =
                        parse_color(&pair[1]).map_err(|e| bad(format!("interval #{i}: {e}")))?;
                    out.push(([bound(&range[0])?, bound(&range[1])?], colour));
                }
                if out.is_empty() {
                    return Err(bad("the list of intervals is empty".into()));
                }
                Ok(Colormap::Intervals(out))
            }
            other => Err(bad(format!(
                "a JSON {} is neither a dict nor a list",
                json_kind(&other)
            ))),
        }
    }

    fn from_dict(map: &Map<String, Value>) -> Result<Colormap, ColormapError> {
        let mut entries: Vec<(i64, Rgba)> = Vec::with_capacity(map.len());
        for (key, value) in map {
            // Python's int(): surrounding whitespace and a sign are fine.
            let k: i64 = key
                .trim()
                .parse()
                .map_err(|_| bad(format!("key {key:?} is not an integer pixel value")))?;
            let colour = parse_color(value).map_err(|e| bad(format!("key {key:?}: {e}")))?;
            match entries.iter_mut().find(|(e, _)| *e == k) {
                Some(entry) => entry.1 = colour,
                None => entries.push((k, colour)),
            }
        }
        if entries.is_empty() {
            return Err(bad("the dict is empty".into()));
        }
        if entries.len() == 256 && entries.iter().all(|(k, _)| (0..=255).contains(k)) {
            let mut table = Box::new([[0u8; 4]; 256]);
            for (k, colour) in entries {
                if let Ok(i) = usize::try_from(k) {
                    table[i] = colour;
                }
            }
            return Ok(Colormap::Lut(table));
        }
        Ok(Colormap::Discrete(
            entries.into_iter().map(|(k, c)| (k as f64, c)).collect(),
        ))
    }

    /// The colour of an 8-bit value or a raw value (see `render`): `None`
    /// when the map gives none (transparent black in titiler).
    pub fn color_of(&self, value: f64) -> Option<Rgba> {
        match self {
            Colormap::Lut(t) => Some(t[u8_of(value) as usize]),
            Colormap::Discrete(entries) => entries.iter().find(|(k, _)| *k == value).map(|e| e.1),
            Colormap::Intervals(entries) => entries
                .iter()
                .rev()
                .find(|([lo, hi], _)| value >= *lo && value < *hi)
                .map(|e| e.1),
        }
    }

    /// The colours of the map in order, for a legend: the 256 table entries,
    /// or the discrete/interval colours as listed.
    pub fn colors(&self) -> Vec<Rgba> {
        match self {
            Colormap::Lut(t) => t.to_vec(),
            Colormap::Discrete(entries) => entries.iter().map(|e| e.1).collect(),
            Colormap::Intervals(entries) => entries.iter().map(|e| e.1).collect(),
        }
    }

    /// A `width`×`height` RGBA legend bar (titiler's `/colorMaps/{name}?format=png`):
    /// the colours of [`Colormap::colors`] in equal steps, left to right when
    /// `horizontal`, else bottom (first colour) to top.
    pub fn legend(&self, width: u32, height: u32, horizontal: bool) -> crate::render::Image {
        let colors = self.colors();
        let (w, h) = (width.max(1) as usize, height.max(1) as usize);
        let steps = if horizontal { w } else { h };
        let pick = |i: usize| {
            colors
                .get(i * colors.len() / steps)
                .copied()
                .unwrap_or([0; 4])
        };
        let mut data = Vec::with_capacity(w * h * 4);
        for row in 0..h {
            for col in 0..w {
                let c = if horizontal {
                    pick(col)
                } else {
                    pick(h - 1 - row)
                };
                data.extend_from_slice(&c);
            }
        }
        crate::render::Image {
            width: w as u32,
            height: h as u32,
            color: crate::render::ColorType::Rgba,
            data,
        }
    }

    /// The map as titiler's `/colorMaps/{name}` returns it: a dict
    /// `{"0": [r, g, b, a], ...}` for tables and discrete maps, the list of
    /// `[[min, max], [r, g, b, a]]` for intervals.
    pub fn to_json(&self) -> Value {
        let rgba = |c: &Rgba| Value::from(c.to_vec());
        match self {
            Colormap::Lut(t) => Value::Object(
                t.iter()
                    .enumerate()
                    .map(|(i, c)| (i.to_string(), rgba(c)))
                    .collect(),
            ),
            Colormap::Discrete(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, c)| (format!("{}", *k as i64), rgba(c)))
                    .collect(),
            ),
            Colormap::Intervals(entries) => Value::Array(
                entries
                    .iter()
                    .map(|([lo, hi], c)| serde_json::json!([[lo, hi], c]))
                    .collect(),
            ),
        }
    }
}

/// numpy's `astype(uint8)` of a value meant to be 0..=255: truncation toward
/// zero, NaN as 0 and out-of-range values clamped (numpy's own result there
/// is platform-defined).
pub(crate) fn u8_of(v: f64) -> u8 {
    if v.is_nan() {
        0
    } else {
        v.clamp(0.0, 255.0) as u8
    }
}

fn bad(reason: String) -> ColormapError {
    ColormapError::BadJson { reason }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// rio-tiler's `parse_color`: `[r, g, b]`, `[r, g, b, a]` or a hex string.
fn parse_color(v: &Value) -> Result<Rgba, String> {
    match v {
        Value::String(s) => parse_hex(s)
            .ok_or_else(|| format!("colour {s:?} is not #rgb, #rgba, #rrggbb or #rrggbbaa")),
        Value::Array(items) if (3..=4).contains(&items.len()) => {
            let mut out = [0u8, 0, 0, 255];
            for (slot, item) in out.iter_mut().zip(items) {
                *slot = item
                    .as_f64()
                    .filter(|f| f.fract() == 0.0 && (0.0..=255.0).contains(f))
                    .map(|f| f as u8)
                    .ok_or_else(|| {
                        format!("colour component {item} is not an integer in 0..=255")
                    })?;
            }
            Ok(out)
        }
        other => Err(format!(
            "colour {other} is not a list of 3 or 4 integers or a hex string"
        )),
    }
}

fn parse_hex(s: &str) -> Option<Rgba> {
    let digits = s.strip_prefix('#')?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let bytes = digits.as_bytes();
    let mut out = [0u8, 0, 0, 255];
    match bytes.len() {
        3 | 4 => {
            for (slot, &c) in out.iter_mut().zip(bytes) {
                let d = nibble(c)?;
                *slot = d * 17;
            }
        }
        6 | 8 => {
            for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                *slot = nibble(pair[0])? * 16 + nibble(pair[1])?;
            }
        }
        _ => return None,
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn viridis_starts_and_ends_with_matplotlibs_colours() {
        let t = lut("viridis").unwrap();
        assert_eq!(t[0], [68, 1, 84, 255]);
        assert_eq!(t[255], [253, 231, 36, 255]);
        let r = lut("viridis_r").unwrap();
        assert_eq!(r[0], [253, 231, 36, 255]);
    }

    #[test]
    fn an_unknown_name_lists_the_valid_ones() {
        let err = lut("viridus").unwrap_err().to_string();
        assert!(err.contains("viridis") && err.contains("_r"), "{err}");
        assert!(lut("foo_r").is_err());
    }

    #[test]
    fn names_include_every_required_map_and_its_reverse() {
        let all = names();
        for n in "viridis plasma inferno magma cividis greys gray blues reds greens rdbu rdylbu spectral coolwarm bwr seismic terrain jet turbo ocean twilight hsv ylorrd ylgnbu brbg piyg puor".split(' ') {
            assert!(all.contains(&n), "{n}");
            assert!(all.contains(&format!("{n}_r").as_str()), "{n}_r");
        }
        assert!(all.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn hex_colours_parse_as_rio_tiler_does() {
        assert_eq!(parse_hex("#FFF"), Some([255, 255, 255, 255]));
        assert_eq!(parse_hex("#FF000080"), Some([255, 0, 0, 128]));
        assert_eq!(parse_hex("#12345"), None);
        assert_eq!(parse_hex("123456"), None);
    }

    #[test]
    fn a_json_dict_of_all_256_bytes_is_a_table_and_a_short_one_is_discrete() {
        let full: Map<String, Value> = (0..256)
            .map(|i| (i.to_string(), serde_json::json!([i, 0, 0])))
            .collect();
        let cm = Colormap::from_json(&Value::Object(full).to_string()).unwrap();
        assert!(matches!(&cm, Colormap::Lut(t) if t[200] == [200, 0, 0, 255]));
        let cm = Colormap::from_json(r##"{"1": "#ff0000", "3": [0, 0, 255, 128]}"##).unwrap();
        assert_eq!(cm.color_of(3.0), Some([0, 0, 255, 128]));
        assert_eq!(cm.color_of(2.0), None);
    }

    #[test]
    fn invalid_colormap_json_says_what_is_wrong() {
        let err = Colormap::from_json(r#"{"1.5": [1, 2, 3]}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"1.5\" is not an integer"), "{err}");
        let err = Colormap::from_json(r#"{"1": [1, 2, 300]}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("300"), "{err}");
        let err = Colormap::from_json(r#"[[[0, 1]]]"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("interval #0"), "{err}");
        assert!(Colormap::from_json("42").is_err());
    }

    #[test]
    fn a_legend_runs_from_the_first_colour_to_the_last() {
        let cm = Colormap::named("viridis").unwrap();
        let img = cm.legend(256, 2, true);
        assert_eq!(&img.data[..4], &[68, 1, 84, 255]);
        assert_eq!(&img.data[255 * 4..256 * 4], &[253, 231, 36, 255]);
        let img = cm.legend(1, 10, false);
        assert_eq!(
            &img.data[9 * 4..],
            &[68, 1, 84, 255],
            "bottom row is the first colour"
        );
        let cm = Colormap::from_json(r#"{"1": [1, 1, 1], "2": [2, 2, 2]}"#).unwrap();
        let img = cm.legend(4, 1, true);
        assert_eq!(
            img.data,
            [1, 1, 1, 255, 1, 1, 1, 255, 2, 2, 2, 255, 2, 2, 2, 255]
        );
    }

    #[test]
    fn later_intervals_win_where_they_overlap() {
        let cm = Colormap::from_json("[[[0, 10], [1, 1, 1]], [[5, 20], [2, 2, 2]]]").unwrap();
        assert_eq!(cm.color_of(4.0), Some([1, 1, 1, 255]));
        assert_eq!(cm.color_of(5.0), Some([2, 2, 2, 255]));
        assert_eq!(cm.color_of(20.0), None);
    }
}

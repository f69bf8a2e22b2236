//! Labels of the non-horizontal dimensions (times, levels, members) and
//! selection by label, in xarray's and titiler's grammar:
//! `dim=value` (exact) or `dim=method::value` with `nearest`, `pad`/`ffill`
//! (the last label at or before the value), `backfill`/`bfill` (the first at
//! or after it). Times are written and read as ISO 8601 (`2020-01-01`,
//! `2020-01-01T06:00`, `2020-01-01T06:00:00Z`) in the variable's own calendar.

use arco_core::cf::{CalDateTime, TimeUnits};
use serde_json::{json, Value};

/// How a label is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelMethod {
    /// The label must be present.
    Exact,
    /// The closest label.
    Nearest,
    /// The last label at or before the value.
    Pad,
    /// The first label at or after the value.
    Backfill,
}

impl SelMethod {
    /// Parse a method name (xarray's and titiler's spellings).
    pub fn parse(s: &str) -> Option<SelMethod> {
        match s {
            "exact" => Some(SelMethod::Exact),
            "nearest" => Some(SelMethod::Nearest),
            "pad" | "ffill" => Some(SelMethod::Pad),
            "backfill" | "bfill" => Some(SelMethod::Backfill),
            _ => None,
        }
    }
}

/// One `sel` item: `dim=value` or `dim=method::value`.
#[derive(Debug, Clone, PartialEq)]
pub struct DimSel {
    /// Dimension name.
    pub dim: String,
    /// Matching rule.
    pub method: SelMethod,
    /// The label as written.
    pub value: String,
}

impl DimSel {
    /// Parse `dim=value` or `dim=method::value`.
    pub fn parse(s: &str) -> Result<DimSel, String> {
        let (dim, rest) = s.split_once('=').ok_or_else(|| {
            format!("sel '{s}' is not dim=value or dim=method::value (methods: nearest, pad, ffill, backfill, bfill, exact)")
        })?;
        let (method, value) = match rest.split_once("::") {
            Some((m, v)) => (
                SelMethod::parse(m.trim()).ok_or_else(|| {
                    format!("sel '{s}': unknown method '{m}'; use nearest, pad, ffill, backfill, bfill or exact")
                })?,
                v,
            ),
            None => (SelMethod::Exact, rest),
        };
        let (dim, value) = (dim.trim(), value.trim());
        if dim.is_empty() || value.is_empty() {
            return Err(format!("sel '{s}' needs a dimension and a value"));
        }
        Ok(DimSel {
            dim: dim.to_string(),
            method,
            value: value.to_string(),
        })
    }
}

/// The labels along one dimension.
#[derive(Debug, Clone)]
pub enum Labels {
    /// CF times: the decoded dates and the stored numbers.
    Time {
        /// Decoded dates (`None` where missing).
        dates: Vec<Option<CalDateTime>>,
        /// The numbers as stored (after unpacking), in `units`.
        numbers: Vec<f64>,
        /// The time units and calendar.
        units: Box<TimeUnits>,
    },
    /// Numbers (levels, members, ...).
    Numeric(Vec<f64>),
    /// Strings.
    Text(Vec<String>),
    /// No coordinate: positions 0, 1, ...
    Index(u64),
}

/// An ISO 8601 text of a date: `YYYY-MM-DDTHH:MM:SSZ` (the `Z` says UTC; dates
/// of non-standard calendars keep their own fields).
pub fn iso(d: &CalDateTime) -> String {
    format!("{d}Z")
}

/// Parse an ISO 8601 date (`2020`, `2020-01`, `2020-01-01`, `2020-01-01T06`,
/// `2020-01-01T06:30`, `2020-01-01 06:30:00.5Z`), in no particular calendar.
pub fn parse_date(s: &str) -> Option<CalDateTime> {
    let s = s.trim().trim_end_matches('Z').trim_end_matches("+00:00");
    let (date, time) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let (neg, date) = match date.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, date),
    };
    let mut parts = date.split('-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next().map_or(Some(1), |m| m.parse().ok())?;
    let day: u8 = parts.next().map_or(Some(1), |d| d.parse().ok())?;
    if parts.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut d = CalDateTime::date(if neg { -year } else { year }, month, day);
    if let Some(t) = time {
        let mut tp = t.split(':');
        let hour: u8 = tp.next()?.parse().ok()?;
        let minute: u8 = tp.next().map_or(Some(0), |m| m.parse().ok())?;
        let sec_text = tp.next().unwrap_or("0");
        if tp.next().is_some() || hour > 23 || minute > 59 {
            return None;
        }
        let (whole, frac) = sec_text.split_once('.').unwrap_or((sec_text, ""));
        let second: u8 = whole.parse().ok()?;
        if second > 60 || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let nanos: u32 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<9}").parse().ok()?
        };
        d = d.at(hour, minute, second).with_nanosecond(nanos);
    }
    Some(d)
}

impl Labels {
    /// Number of labels.
    pub fn len(&self) -> usize {
        match self {
            Labels::Time { numbers, .. } => numbers.len(),
            Labels::Numeric(v) => v.len(),
            Labels::Text(v) => v.len(),
            Labels::Index(n) => *n as usize,
        }
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `time`, `numeric`, `text` or `index`.
    pub fn kind(&self) -> &'static str {
        match self {
            Labels::Time { .. } => "time",
            Labels::Numeric(_) => "numeric",
            Labels::Text(_) => "text",
            Labels::Index(_) => "index",
        }
    }

    /// True for times.
    pub fn is_time(&self) -> bool {
        matches!(self, Labels::Time { .. })
    }

    /// Label `i` as JSON: an ISO string for times (`null` if missing), a
    /// number, a string, or the index.
    pub fn label(&self, i: usize) -> Value {
        match self {
            Labels::Time { dates, .. } => dates
                .get(i)
                .copied()
                .flatten()
                .map_or(Value::Null, |d| Value::String(iso(&d))),
            Labels::Numeric(v) => v
                .get(i)
                .filter(|x| x.is_finite())
                .map_or(Value::Null, |x| json!(x)),
            Labels::Text(v) => v.get(i).map_or(Value::Null, |s| json!(s)),
            Labels::Index(_) => json!(i),
        }
    }

    /// Label `i` as text (for CSV and messages).
    pub fn text(&self, i: usize) -> String {
        match self.label(i) {
            Value::String(s) => s,
            Value::Null => String::new(),
            v => v.to_string(),
        }
    }

    /// Every label as JSON.
    pub fn values(&self) -> Vec<Value> {
        (0..self.len()).map(|i| self.label(i)).collect()
    }

    /// A short description of the valid labels, for error messages.
    pub fn describe(&self) -> String {
        let n = self.len();
        if n == 0 {
            return "no labels".into();
        }
        let (a, b) = (self.text(0), self.text(n - 1));
        match self {
            Labels::Index(_) => format!("indices 0 to {}", n - 1),
            _ if n == 1 => format!("the one label {a}"),
            _ => format!("{n} labels from {a} to {b}"),
        }
    }

    /// The position of a value on this axis as a number comparable with
    /// [`Labels::numbers`], or an error saying what was expected.
    fn target(&self, value: &str) -> Result<f64, String> {
        match self {
            Labels::Time { units, .. } => {
                let d = parse_date(value).ok_or_else(|| {
                    format!("'{value}' is not an ISO 8601 date such as 2020-01-31 or 2020-01-31T06:00:00")
                })?;
                units.encode(&d).map_err(|e| e.to_string())
            }
            Labels::Numeric(_) | Labels::Index(_) => value
                .parse::<f64>()
                .map_err(|_| format!("'{value}' is not a number")),
            Labels::Text(_) => Err("text labels match exactly".into()),
        }
    }

    fn numbers(&self) -> Option<Vec<f64>> {
        match self {
            Labels::Time { numbers, .. } => Some(numbers.clone()),
            Labels::Numeric(v) => Some(v.clone()),
            Labels::Index(n) => Some((0..*n).map(|i| i as f64).collect()),
            Labels::Text(_) => None,
        }
    }

    /// The index of `value` by `method`.
    pub fn find(&self, value: &str, method: SelMethod) -> Result<usize, String> {
        if let Labels::Text(v) = self {
            return v
                .iter()
                .position(|s| s == value)
                .ok_or_else(|| format!("no label '{value}'; {}", self.describe()));
        }
        let target = self.target(value)?;
        let nums = self.numbers().unwrap_or_default();
        let valid = || format!("valid: {}", self.describe());
        let tol = |a: f64| 1e-9 * a.abs().max(1.0);
        let found = match method {
            SelMethod::Exact => nums
                .iter()
                .position(|&x| (x - target).abs() <= tol(x))
                .ok_or_else(|| {
                    format!("no label equal to '{value}' ({}); add nearest:: before the value to take the closest", valid())
                }),
            SelMethod::Nearest => nums
                .iter()
                .enumerate()
                .filter(|(_, x)| x.is_finite())
                .min_by(|a, b| (a.1 - target).abs().total_cmp(&(b.1 - target).abs()))
                .map(|(i, _)| i)
                .ok_or_else(valid),
            SelMethod::Pad => nums
                .iter()
                .enumerate()
                .filter(|(_, &x)| x <= target + tol(x))
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i)
                .ok_or_else(|| format!("no label at or before '{value}' ({})", valid())),
            SelMethod::Backfill => nums
                .iter()
                .enumerate()
                .filter(|(_, &x)| x >= target - tol(x))
                .min_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i)
                .ok_or_else(|| format!("no label at or after '{value}' ({})", valid())),
        };
        found
    }

    /// The index range `[lo, hi)` of labels within an interval `a/b` (ISO 8601
    /// interval; `..` or an empty side is open), or a single label.
    pub fn range(&self, interval: &str) -> Result<(usize, usize), String> {
        let n = self.len();
        let Some((a, b)) = interval.split_once('/') else {
            let i = self.find(interval, SelMethod::Exact)?;
            return Ok((i, i + 1));
        };
        let open = |s: &str| s.trim().is_empty() || s.trim() == "..";
        let nums = self
            .numbers()
            .ok_or_else(|| "text labels take no interval".to_string())?;
        let lo = if open(a) {
            f64::NEG_INFINITY
        } else {
            self.target(a)?
        };
        let hi = if open(b) {
            f64::INFINITY
        } else {
            self.target(b)?
        };
        let inside: Vec<usize> = (0..n).filter(|&i| nums[i] >= lo && nums[i] <= hi).collect();
        match (inside.first(), inside.last()) {
            (Some(&f), Some(&l)) => Ok((f, l + 1)),
            _ => Err(format!("no label within {interval}; {}", self.describe())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times() -> Labels {
        let units = TimeUnits::parse("hours since 2020-01-01", Some("standard"), "time").unwrap();
        let numbers = vec![0.0, 6.0, 12.0, 18.0];
        Labels::Time {
            dates: numbers.iter().map(|&n| units.decode(n)).collect(),
            numbers,
            units: Box::new(units),
        }
    }

    #[test]
    fn sel_items_parse_with_and_without_a_method() {
        let s = DimSel::parse("time=nearest::2020-01-01T05:00").unwrap();
        assert_eq!(
            (s.dim.as_str(), s.method, s.value.as_str()),
            ("time", SelMethod::Nearest, "2020-01-01T05:00")
        );
        assert_eq!(DimSel::parse("level=850").unwrap().method, SelMethod::Exact);
        assert!(DimSel::parse("time").is_err());
        assert!(DimSel::parse("time=fuzzy::1")
            .unwrap_err()
            .contains("nearest"));
    }

    #[test]
    fn times_are_found_exactly_nearest_padded_and_backfilled() {
        let t = times();
        assert_eq!(t.find("2020-01-01T06:00:00Z", SelMethod::Exact), Ok(1));
        assert!(t
            .find("2020-01-01T05:00", SelMethod::Exact)
            .unwrap_err()
            .contains("nearest::"));
        assert_eq!(t.find("2020-01-01T05:00", SelMethod::Nearest), Ok(1));
        assert_eq!(t.find("2020-01-01T11:00", SelMethod::Pad), Ok(1));
        assert_eq!(t.find("2020-01-01T07", SelMethod::Backfill), Ok(2));
        assert!(t.find("2019-12-31", SelMethod::Pad).is_err());
        assert!(t
            .find("yesterday", SelMethod::Exact)
            .unwrap_err()
            .contains("ISO 8601"));
        assert_eq!(t.label(2), json!("2020-01-01T12:00:00Z"));
    }

    #[test]
    fn intervals_select_the_labels_inside() {
        let t = times();
        assert_eq!(t.range("2020-01-01T06:00/2020-01-01T12:00"), Ok((1, 3)));
        assert_eq!(t.range("../2020-01-01T07:00"), Ok((0, 2)));
        assert_eq!(t.range("2020-01-01T13:00/.."), Ok((3, 4)));
        assert!(t.range("2021-01-01/..").is_err());
        let levels = Labels::Numeric(vec![1000.0, 850.0, 500.0]);
        assert_eq!(levels.find("850", SelMethod::Exact), Ok(1));
        assert_eq!(levels.find("700", SelMethod::Nearest), Ok(1));
    }
}

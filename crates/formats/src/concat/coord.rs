//! Coordinates of the concatenation dimension taken from outside the
//! files' variables: from file names ([`NamePattern`]) or from a global
//! attribute of each file, and the coordinate variable made from them.

use arco_core::cf::{CalDateTime, Calendar, TimeUnits};
use arco_core::{AttrValue, Attribute, DType, Endian, StorageLayout, Values, Variable};
use std::fmt;

/// One file's value of the concatenation coordinate, from its name or an
/// attribute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CoordKey {
    /// An instant (proleptic Gregorian calendar, UTC).
    Time(CalDateTime),
    /// A whole number.
    Int(i64),
    /// Any other number.
    Float(f64),
}

impl CoordKey {
    /// The key as a number (nanoseconds since 1970 for times).
    pub fn number(&self) -> f64 {
        match self {
            CoordKey::Time(t) => instant_nanos(t).map_or(f64::NAN, |n| n as f64),
            CoordKey::Int(i) => *i as f64,
            CoordKey::Float(f) => *f,
        }
    }

    /// The key as a time, when it is one.
    pub fn time(&self) -> Option<CalDateTime> {
        match self {
            CoordKey::Time(t) => Some(*t),
            _ => None,
        }
    }

    /// `time` or `number`, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            CoordKey::Time(_) => "a date",
            _ => "a number",
        }
    }
}

impl fmt::Display for CoordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoordKey::Time(t) => write!(f, "{t}"),
            CoordKey::Int(i) => write!(f, "{i}"),
            CoordKey::Float(x) => write!(f, "{x}"),
        }
    }
}

/// Nanoseconds of `t` since 1970-01-01 in the proleptic Gregorian calendar.
fn instant_nanos(t: &CalDateTime) -> Option<i128> {
    let days = Calendar::ProlepticGregorian.days_from_date(t.year, t.month, t.day)?
        - Calendar::ProlepticGregorian.days_from_date(1970, 1, 1)?;
    let secs = i128::from(t.hour) * 3600 + i128::from(t.minute) * 60 + i128::from(t.second);
    Some(i128::from(days) * 86_400_000_000_000 + secs * 1_000_000_000 + i128::from(t.nanosecond))
}

/// What a placeholder of a [`NamePattern`] reads.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    /// A date and time in strftime directives.
    Time(Vec<TimePart>),
    /// A number (an integer when written without `.` or exponent).
    Number,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TimePart {
    Literal(String),
    Year,
    Year2,
    Month,
    Day,
    DayOfYear,
    Hour,
    Minute,
    Second,
}

/// A file-name pattern that gives each file its value of the concatenation
/// coordinate, in the Python `str.format` style that pangeo-forge recipes
/// and intake catalogs use for file names:
///
/// * `{DIM:FORMAT}` with strftime directives (`%Y` 4-digit year, `%y`
///   2-digit year (69–99 → 19xx, 00–68 → 20xx), `%m`, `%d`, `%H`, `%M`, `%S`,
///   `%j` day of the year, `%%` a percent sign; any other character stands
///   for itself) reads a date and time: `tas_{time:%Y%m%d}.nc`,
///   `era5_{time:%Y-%m-%dT%H}.grib`. Fields not given are January, the 1st,
///   midnight.
/// * `{DIM}`, `{DIM:d}` or `{DIM:g}` reads a number: `step_{step:d}h.grib`,
///   `level_{plev}.tif`. It is an integer when written without a decimal
///   point or exponent (a `d` field must be).
/// * `*` matches any characters but `/`, `?` any one character; `{{` and
///   `}}` are literal braces; everything else matches itself.
///
/// The pattern holds exactly one placeholder, named like the concatenation
/// dimension. It is matched against the whole file name (the location's
/// last `/`-separated component), or against the end of the location when
/// the pattern holds a `/`.
#[derive(Clone)]
pub struct NamePattern {
    text: String,
    field_name: String,
    field: Field,
    regex: regex::Regex,
}

impl PartialEq for NamePattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for NamePattern {}

impl fmt::Debug for NamePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NamePattern({:?})", self.text)
    }
}

impl fmt::Display for NamePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl NamePattern {
    /// Parse a pattern such as `tas_{time:%Y%m%d}.nc`; the error says what
    /// is wrong with it.
    pub fn parse(text: &str) -> Result<NamePattern, String> {
        let bad = |why: String| format!("file-name pattern '{text}': {why}");
        let mut re = String::from(if text.contains('/') { "(?:^|/)" } else { "^" });
        let mut field: Option<(String, Field)> = None;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    re.push_str("\\{");
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    re.push_str("\\}");
                }
                '}' => return Err(bad("a '}' without its '{' (write '}}' for a brace)".into())),
                '{' => {
                    let mut inner = String::new();
                    let mut closed = false;
                    for d in chars.by_ref() {
                        if d == '}' {
                            closed = true;
                            break;
                        }
                        inner.push(d);
                    }
                    if !closed {
                        return Err(bad("a '{' without its '}'".into()));
                    }
                    let (name, spec) = match inner.split_once(':') {
                        Some((n, s)) => (n.trim().to_string(), s.to_string()),
                        None => (inner.trim().to_string(), String::new()),
                    };
                    if name.is_empty() {
                        return Err(bad(
                            "a placeholder without a name; write {DIM:FORMAT}, like {time:%Y%m%d}"
                                .into(),
                        ));
                    }
                    if field.is_some() {
                        return Err(bad(format!(
                            "more than one placeholder ({{{name}}} is the second); give exactly one, named like the concatenation dimension, and * for the rest"
                        )));
                    }
                    let f = if spec.contains('%') {
                        let parts = time_parts(&spec).map_err(&bad)?;
                        re.push_str("(?P<value>");
                        for p in &parts {
                            re.push_str(&match p {
                                TimePart::Literal(s) => regex::escape(s),
                                TimePart::Year => r"[+-]?\d{4}".into(),
                                TimePart::Year2 | TimePart::Month | TimePart::Day => {
                                    r"\d{2}".into()
                                }
                                TimePart::Hour | TimePart::Minute | TimePart::Second => {
                                    r"\d{2}".into()
                                }
                                TimePart::DayOfYear => r"\d{3}".into(),
                            });
                        }
                        re.push(')');
                        Field::Time(parts)
                    } else {
                        match spec.as_str() {
                            "d" => re.push_str(r"(?P<value>[+-]?\d+)"),
                            "" | "g" | "f" => re.push_str(
                                r"(?P<value>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)",
                            ),
                            other => {
                                return Err(bad(format!(
                                    "unknown format '{other}' in {{{name}:{other}}}; use strftime directives like %Y%m%d for dates, d for integers or g for numbers"
                                )))
                            }
                        }
                        Field::Number
                    };
                    field = Some((name, f));
                }
                '*' => re.push_str("[^/]*?"),
                '?' => re.push_str("[^/]"),
                other => re.push_str(&regex::escape(&other.to_string())),
            }
        }
        re.push('$');
        let Some((field_name, field)) = field else {
            return Err(bad(
                "no placeholder; write one like {time:%Y%m%d} where the date is in the name".into(),
            ));
        };
        let regex = regex::Regex::new(&re).map_err(|e| bad(e.to_string()))?;
        Ok(NamePattern {
            text: text.to_string(),
            field_name,
            field,
            regex,
        })
    }

    /// The placeholder's name: the dimension it gives coordinates to.
    pub fn field(&self) -> &str {
        &self.field_name
    }

    /// The value `location`'s name gives; the error says why it does not match.
    pub fn value_of(&self, location: &str) -> Result<CoordKey, String> {
        let trimmed = location.trim_end_matches('/');
        let subject = if self.text.contains('/') {
            trimmed
        } else {
            trimmed.rsplit('/').next().unwrap_or(trimmed)
        };
        let Some(caps) = self.regex.captures(subject) else {
            return Err(format!(
                "the name {subject} does not match the pattern '{}'",
                self.text
            ));
        };
        let value = caps.name("value").map_or("", |m| m.as_str());
        match &self.field {
            Field::Number => parse_number(value)
                .ok_or_else(|| format!("'{value}' in the name {subject} is not a number")),
            Field::Time(parts) => time_from_parts(parts, value)
                .map(CoordKey::Time)
                .ok_or_else(|| {
                    format!(
                        "'{value}' in the name {subject} is not a date of the format in '{}'",
                        self.text
                    )
                }),
        }
    }
}

fn time_parts(spec: &str) -> Result<Vec<TimePart>, String> {
    let mut out = Vec::new();
    let mut chars = spec.chars();
    let mut lit = String::new();
    while let Some(c) = chars.next() {
        if c != '%' {
            lit.push(c);
            continue;
        }
        let Some(d) = chars.next() else {
            return Err("a '%' at the end of the format".into());
        };
        let part = match d {
            '%' => {
                lit.push('%');
                continue;
            }
            'Y' => TimePart::Year,
            'y' => TimePart::Year2,
            'm' => TimePart::Month,
            'd' => TimePart::Day,
            'j' => TimePart::DayOfYear,
            'H' => TimePart::Hour,
            'M' => TimePart::Minute,
            'S' => TimePart::Second,
            other => {
                return Err(format!(
                    "the directive %{other} is not supported; use %Y %y %m %d %j %H %M %S"
                ))
            }
        };
        if !lit.is_empty() {
            out.push(TimePart::Literal(std::mem::take(&mut lit)));
        }
        out.push(part);
    }
    if !lit.is_empty() {
        out.push(TimePart::Literal(lit));
    }
    Ok(out)
}

/// Read `text` (already matched by the parts' regex) as a date and time.
fn time_from_parts(parts: &[TimePart], text: &str) -> Option<CalDateTime> {
    let (mut year, mut month, mut day) = (1970i64, 1u8, 1u8);
    let (mut hour, mut minute, mut second) = (0u8, 0u8, 0u8);
    let mut doy: Option<i64> = None;
    let mut rest = text;
    for p in parts {
        let width = match p {
            TimePart::Literal(s) => {
                rest = rest.strip_prefix(s.as_str())?;
                continue;
            }
            TimePart::Year => {
                if rest.starts_with(['+', '-']) {
                    5
                } else {
                    4
                }
            }
            TimePart::DayOfYear => 3,
            _ => 2,
        };
        let digits = rest.get(..width)?;
        rest = &rest[width..];
        let n: i64 = digits.parse().ok()?;
        match p {
            TimePart::Year => year = n,
            TimePart::Year2 => year = if n >= 69 { 1900 + n } else { 2000 + n },
            TimePart::Month => month = u8::try_from(n).ok()?,
            TimePart::Day => day = u8::try_from(n).ok()?,
            TimePart::DayOfYear => doy = Some(n),
            TimePart::Hour => hour = u8::try_from(n).ok()?,
            TimePart::Minute => minute = u8::try_from(n).ok()?,
            TimePart::Second => second = u8::try_from(n).ok()?,
            TimePart::Literal(_) => {}
        }
    }
    if !rest.is_empty() {
        return None;
    }
    let cal = Calendar::ProlepticGregorian;
    if let Some(j) = doy {
        if !(1..=366).contains(&j) {
            return None;
        }
        let first = cal.days_from_date(year, 1, 1)?;
        let (y, m, d) = cal.date_from_days(first + j - 1)?;
        if y != year {
            return None;
        }
        (month, day) = (m, d);
    }
    if !cal.is_valid_date(year, month, day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(CalDateTime::date(year, month, day).at(hour, minute, second))
}

fn parse_number(text: &str) -> Option<CoordKey> {
    let t = text.trim();
    if !t.contains(['.', 'e', 'E']) {
        if let Ok(i) = t.parse::<i64>() {
            return Some(CoordKey::Int(i));
        }
    }
    t.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .map(CoordKey::Float)
}

/// The value of global attribute `name` as a coordinate: text with a `-`
/// after its first character is an ISO 8601 date and time (`2000-01-01`,
/// `2000-01-01T06:00:00Z`, offsets moved to UTC); other text and numeric
/// attributes are numbers (integers for integer types and integral text).
pub fn attribute_value(value: &AttrValue, dtype: &DType) -> Result<CoordKey, String> {
    match value {
        AttrValue::Text(_) | AttrValue::Array(Values::Str(_)) => {
            let Some(text) = value.as_str() else {
                return Err("it holds several strings".into());
            };
            let text = text.trim();
            if text.get(1..).is_some_and(|r| r.contains('-')) {
                let units = format!("seconds since {text}");
                return TimeUnits::parse(&units, Some("proleptic_gregorian"), "attribute")
                    .map(|t| CoordKey::Time(t.epoch))
                    .map_err(|_| format!("'{text}' is not an ISO 8601 date"));
            }
            parse_number(text).ok_or_else(|| format!("'{text}' is neither a date nor a number"))
        }
        AttrValue::Array(v) => {
            if v.len() != 1 {
                return Err(format!("it holds {} values, not one", v.len()));
            }
            let x = v
                .get_f64(0)
                .ok_or_else(|| "it is not a number".to_string())?;
            let integer = matches!(
                dtype,
                DType::I8
                    | DType::I16
                    | DType::I32
                    | DType::I64
                    | DType::U8
                    | DType::U16
                    | DType::U32
                    | DType::U64
            );
            if integer {
                match v {
                    Values::I64(i) => Ok(CoordKey::Int(i.first().copied().unwrap_or(0))),
                    Values::U64(u) => i64::try_from(u.first().copied().unwrap_or(0))
                        .map(CoordKey::Int)
                        .map_err(|_| "it does not fit in int64".to_string()),
                    _ => Ok(CoordKey::Int(x as i64)),
                }
            } else if x.is_finite() {
                Ok(CoordKey::Float(x))
            } else {
                Err(format!("{x} is not a coordinate value"))
            }
        }
    }
}

/// The coordinate variable `name` (at `path`) along `dim` made from `keys`
/// (all of one kind, checked by the caller), and its stored values.
///
/// Times become `int64` counts of the coarsest unit (days, hours, minutes,
/// seconds, milliseconds, microseconds, nanoseconds) that expresses every
/// one exactly, since midnight of the first one's date:
/// `units: "days since 2000-01-01"`, `calendar: "proleptic_gregorian"`.
/// Whole numbers become `int64`, others `float64`, without attributes.
pub fn coordinate_variable(
    name: &str,
    path: &str,
    dim: &str,
    keys: &[CoordKey],
) -> Result<(Variable, Values), String> {
    let n = keys.len() as u64;
    let mut attributes = Vec::new();
    let (dtype, values) = match keys.first() {
        Some(CoordKey::Time(first)) => {
            let epoch = CalDateTime::date(first.year, first.month, first.day);
            let base = instant_nanos(&epoch).ok_or_else(|| {
                format!("{first} is not a date of the proleptic Gregorian calendar")
            })?;
            let mut offsets = Vec::with_capacity(keys.len());
            for k in keys {
                let t = k
                    .time()
                    .and_then(|t| instant_nanos(&t))
                    .ok_or_else(|| format!("{k} is not a date"))?;
                offsets.push(t - base);
            }
            let units: [(&str, i128); 7] = [
                ("days", 86_400_000_000_000),
                ("hours", 3_600_000_000_000),
                ("minutes", 60_000_000_000),
                ("seconds", 1_000_000_000),
                ("milliseconds", 1_000_000),
                ("microseconds", 1_000),
                ("nanoseconds", 1),
            ];
            let (unit, per) = units
                .iter()
                .copied()
                .find(|(_, per)| offsets.iter().all(|o| o % per == 0))
                .unwrap_or(("nanoseconds", 1));
            let mut ints = Vec::with_capacity(offsets.len());
            for o in offsets {
                ints.push(
                    i64::try_from(o / per)
                        .map_err(|_| format!("the dates span too long to count in {unit}"))?,
                );
            }
            let reference = if epoch.year < 0 {
                format!("-{:04}", epoch.year.unsigned_abs())
            } else {
                format!("{:04}", epoch.year)
            };
            attributes.push(Attribute::text(
                "units",
                format!(
                    "{unit} since {reference}-{:02}-{:02}",
                    epoch.month, epoch.day
                ),
            ));
            attributes.push(Attribute::text("calendar", "proleptic_gregorian"));
            (DType::I64, Values::I64(ints))
        }
        _ if keys.iter().all(|k| matches!(k, CoordKey::Int(_))) => (
            DType::I64,
            Values::I64(
                keys.iter()
                    .map(|k| match k {
                        CoordKey::Int(i) => *i,
                        _ => 0,
                    })
                    .collect(),
            ),
        ),
        _ => (
            DType::F64,
            Values::F64(keys.iter().map(CoordKey::number).collect()),
        ),
    };
    Ok((
        Variable {
            name: name.to_string(),
            path: path.to_string(),
            dims: vec![dim.to_string()],
            shape: vec![n],
            dtype,
            endian: Endian::Little,
            layout: StorageLayout::Contiguous,
            chunk_shape: None,
            codecs: Vec::new(),
            fill_value: None,
            attributes,
        },
        values,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(p: &str, name: &str) -> String {
        NamePattern::parse(p)
            .unwrap()
            .value_of(name)
            .map(|k| k.to_string())
            .unwrap_or_else(|e| e)
    }

    #[test]
    fn strftime_placeholders_read_dates_from_file_names() {
        assert_eq!(
            time("tas_{time:%Y%m%d}.nc", "/data/tas_20000102.nc"),
            "2000-01-02T00:00:00"
        );
        assert_eq!(
            time(
                "era5_{time:%Y-%m-%dT%H}.grib",
                "s3://b/era5_1999-12-31T18.grib"
            ),
            "1999-12-31T18:00:00"
        );
        assert_eq!(
            time("d{time:%y%j}.tif", "d00366.tif"),
            "2000-12-31T00:00:00"
        );
        assert_eq!(time("*_{time:%Y}.nc", "x_y_2001.nc"), "2001-01-01T00:00:00");
        // Not a date, or not the pattern: the name is in the message.
        assert!(time("tas_{time:%Y%m%d}.nc", "tas_20000231.nc").contains("tas_20000231.nc"));
        assert!(time("tas_{time:%Y%m%d}.nc", "pr_20000101.nc").contains("does not match"));
    }

    #[test]
    fn number_placeholders_read_integers_and_floats() {
        let p = NamePattern::parse("step_{step:d}h.grib").unwrap();
        assert_eq!(p.field(), "step");
        assert_eq!(p.value_of("step_-6h.grib"), Ok(CoordKey::Int(-6)));
        let p = NamePattern::parse("lev_{plev}.nc").unwrap();
        assert_eq!(p.value_of("lev_850.nc"), Ok(CoordKey::Int(850)));
        assert_eq!(p.value_of("lev_1e3.nc"), Ok(CoordKey::Float(1000.0)));
    }

    #[test]
    fn malformed_patterns_say_what_is_wrong() {
        for (p, want) in [
            ("tas.nc", "no placeholder"),
            ("{a}_{b}.nc", "more than one"),
            ("{time:%Q}.nc", "%Q"),
            ("{time.nc", "without its '}'"),
            ("{time:x}.nc", "unknown format"),
        ] {
            let e = NamePattern::parse(p).unwrap_err();
            assert!(e.contains(want) && e.contains(p), "{p}: {e}");
        }
    }

    #[test]
    fn attributes_read_as_iso_dates_or_numbers() {
        let t = |s: &str| attribute_value(&AttrValue::Text(s.into()), &DType::Char);
        assert_eq!(
            t("2000-01-01T06:00:00Z").unwrap().to_string(),
            "2000-01-01T06:00:00"
        );
        assert_eq!(
            t("2000-01-01T06:00:00+02:00").unwrap().to_string(),
            "2000-01-01T04:00:00"
        );
        assert_eq!(t("12.5"), Ok(CoordKey::Float(12.5)));
        assert!(t("soon").is_err());
        let n = attribute_value(&AttrValue::Array(Values::I32(vec![7])), &DType::I32);
        assert_eq!(n, Ok(CoordKey::Int(7)));
    }

    #[test]
    fn times_are_counted_in_the_coarsest_exact_unit() {
        let d = |day: u8, hour: u8| CoordKey::Time(CalDateTime::date(2000, 1, day).at(hour, 0, 0));
        let (v, values) =
            coordinate_variable("time", "/time", "time", &[d(1, 0), d(3, 0)]).unwrap();
        assert_eq!(
            v.attr("units").and_then(AttrValue::as_str),
            Some("days since 2000-01-01")
        );
        assert_eq!(values, Values::I64(vec![0, 2]));
        let (v, values) =
            coordinate_variable("time", "/time", "time", &[d(1, 6), d(2, 0)]).unwrap();
        assert_eq!(
            v.attr("units").and_then(AttrValue::as_str),
            Some("hours since 2000-01-01")
        );
        assert_eq!(values, Values::I64(vec![6, 24]));
        let (v, values) =
            coordinate_variable("x", "/x", "x", &[CoordKey::Int(1), CoordKey::Float(1.5)]).unwrap();
        assert_eq!(v.dtype, DType::F64);
        assert_eq!(values, Values::F64(vec![1.0, 1.5]));
    }
}

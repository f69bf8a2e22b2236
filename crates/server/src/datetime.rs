//! RFC 3339 timestamps as microseconds since 1970-01-01T00:00:00Z, and the
//! STAC `datetime` search parameter (an instant or an interval).
//!
//! The parser is strict in the way the STAC API asks: four-digit years, a time
//! zone (`Z` or `±HH:MM`), a `.` before fractional seconds (at least one digit;
//! digits past the microsecond are dropped). `t` and `z` may be lower case.

/// Microseconds in one day.
pub const DAY_US: i64 = 86_400_000_000;

/// Parse an RFC 3339 date-time into microseconds since the Unix epoch (UTC).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let year = digits(b, 0, 4)?;
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut pos = 19;
    let mut micros: i64 = 0;
    if b.get(pos) == Some(&b'.') {
        pos += 1;
        let start = pos;
        while pos < b.len() && b[pos].is_ascii_digit() {
            if pos - start < 6 {
                micros = micros * 10 + i64::from(b[pos] - b'0');
            }
            pos += 1;
        }
        let n = pos - start;
        if n == 0 {
            return None;
        }
        for _ in n..6 {
            micros *= 10;
        }
    }
    let offset_s: i64 = match b.get(pos) {
        Some(b'Z' | b'z') if pos + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if pos + 6 == b.len() && b[pos + 3] == b':' => {
            let oh = digits(b, pos + 1, 2)?;
            let om = digits(b, pos + 4, 2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let off = oh * 3600 + om * 60;
            if sign == b'-' {
                -off
            } else {
                off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    Some(secs * 1_000_000 + micros)
}

/// Parse a full date `YYYY-MM-DD` into the microsecond of its midnight (UTC).
pub fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day) * DAY_US)
}

/// Format microseconds since the epoch as `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`.
pub fn format_rfc3339(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let micros = us.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (rem / 3600, (rem / 60) % 60, rem % 60);
    if micros == 0 {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{micros:06}Z")
    }
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let mut v: i64 = 0;
    for i in at..at + n {
        let c = *b.get(i)?;
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The `datetime` search parameter: a closed interval, either end open.
/// An instant is an interval whose ends are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    /// First microsecond, or `None` for an open start (`..`).
    pub start: Option<i64>,
    /// Last microsecond, or `None` for an open end (`..`).
    pub end: Option<i64>,
}

impl Interval {
    /// Parse `instant`, `start/end`, `../end`, `start/..`, `/end` or `start/`.
    pub fn parse(s: &str) -> Result<Interval, String> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [one] => {
                let t = parse_rfc3339(one).ok_or_else(|| bad_instant(one))?;
                Ok(Interval {
                    start: Some(t),
                    end: Some(t),
                })
            }
            [a, b] => {
                let start = open_or(a)?;
                let end = open_or(b)?;
                match (start, end) {
                    (None, None) => Err(format!(
                        "'{s}' is open at both ends; at least one end must be an RFC 3339 date-time"
                    )),
                    (Some(x), Some(y)) if x > y => Err(format!(
                        "'{s}' ends before it starts; write the earlier date-time first"
                    )),
                    _ => Ok(Interval { start, end }),
                }
            }
            _ => Err(format!(
                "'{s}' has more than one '/'; an interval is START/END"
            )),
        }
    }

    /// The lower bound, `i64::MIN` when open.
    pub fn lo(&self) -> i64 {
        self.start.unwrap_or(i64::MIN)
    }

    /// The upper bound, `i64::MAX` when open.
    pub fn hi(&self) -> i64 {
        self.end.unwrap_or(i64::MAX)
    }

    /// The interval as pgstac reads it: `start/end` with `..` for open ends.
    pub fn to_pgstac(&self) -> String {
        let f = |v: Option<i64>| v.map(format_rfc3339).unwrap_or_else(|| "..".to_string());
        if self.start.is_some() && self.start == self.end {
            return f(self.start);
        }
        format!("{}/{}", f(self.start), f(self.end))
    }
}

fn open_or(s: &str) -> Result<Option<i64>, String> {
    if s.is_empty() || s == ".." {
        return Ok(None);
    }
    parse_rfc3339(s).map(Some).ok_or_else(|| bad_instant(s))
}

fn bad_instant(s: &str) -> String {
    format!(
        "'{s}' is not an RFC 3339 date-time; write for example 2020-07-23T00:00:00Z or \
         2020-07-23T00:00:00.5+02:00 (a time zone is required)"
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_epoch_and_offsets_parse_to_the_right_microsecond() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_rfc3339("1969-12-31T23:00:00-01:00"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01t00:00:00.000001z"), Some(1));
        assert_eq!(
            parse_rfc3339("2020-07-23T00:00:00.012345678Z"),
            Some(parse_rfc3339("2020-07-23T00:00:00Z").unwrap() + 12_345)
        );
    }

    #[test]
    fn formatting_round_trips_through_parsing() {
        for s in [
            "2020-02-29T23:59:59Z",
            "1900-03-01T00:00:00.000001Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999Z",
        ] {
            let us = parse_rfc3339(s).unwrap();
            assert_eq!(format_rfc3339(us), s);
        }
    }

    #[test]
    fn malformed_date_times_are_refused() {
        for s in [
            "1985-04-12",
            "1937-01-01T12:00:27.87+0100",
            "37-01-01T12:00:27.87Z",
            "1985-12-12T23:20:50.52",
            "21985-12-12T23:20:50.52Z",
            "1985-13-12T23:20:50.52Z",
            "1985-12-32T23:20:50.52Z",
            "1985-12-01T25:20:50.52Z",
            "1985-12-01T00:60:50.52Z",
            "1985-12-01T00:06:61.52Z",
            "1985-04-12T23:20:50.Z",
            "1985-04-12T23:20:50,Z",
            "1990-12-31T23:59:61Z",
            "1985-04-12T23:20:50,52Z",
            "2021-02-29T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(s), None, "{s}");
        }
    }

    #[test]
    fn intervals_accept_open_ends_and_refuse_reversed_or_fully_open_ones() {
        let i = Interval::parse("../1985-04-12T23:20:50.52Z").unwrap();
        assert_eq!(i.start, None);
        assert!(i.end.is_some());
        assert!(Interval::parse("1985-04-12T23:20:50.52Z/")
            .unwrap()
            .end
            .is_none());
        for bad in [
            "/",
            "../..",
            "/..",
            "../",
            "/1984-04-12T23:20:50.52Z/1985-04-12T23:20:50.52Z",
            "1986-04-12T23:20:50.52Z/1985-04-12T23:20:50.52Z",
        ] {
            assert!(Interval::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_full_date_is_its_midnight() {
        assert_eq!(parse_date("1970-01-02"), Some(DAY_US));
        assert_eq!(parse_date("1970-02-30"), None);
    }
}

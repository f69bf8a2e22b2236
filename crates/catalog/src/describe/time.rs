//! The time range: decoded CF time coordinates (any calendar) and their
//! bounds, else the ACDD `time_coverage_start`/`time_coverage_end`.
//!
//! STAC datetimes are RFC 3339 instants of the proleptic Gregorian calendar.
//! Dates of the `360_day`, `noleap`, `all_leap` and `julian` calendars are
//! written with the same year, month, day and time; a date that does not
//! exist in the Gregorian calendar (`2001-02-30` in `360_day`, `2001-02-29`
//! in `all_leap`) is moved to the nearest one outside the range (a start to
//! the last day of its month, an end to the first instant of the next
//! month), and the item records the calendar (`arco:calendar`) and the
//! native range (`arco:time_range_native`). Years outside 1..9999 are
//! clamped the same way.

use super::cube::Roles;
use super::{text, Ctx};
use crate::Result;
use arco_core::cf::{self, CalDateTime, Decoded, TimeUnits};
use arco_core::{AttrValue, Variable};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// When the data are.
#[derive(Debug, Clone, PartialEq)]
pub struct Temporal {
    /// First instant (UTC).
    pub start: DateTime<Utc>,
    /// Last instant (UTC).
    pub end: DateTime<Utc>,
    /// The first date as the data's calendar writes it.
    pub start_native: String,
    /// The last date as the data's calendar writes it.
    pub end_native: String,
    /// CF calendar name (`standard` for ACDD attributes).
    pub calendar: String,
    /// The time variable (with its bounds variable), or the ACDD attributes used.
    pub source: String,
    /// True when a native date had to be moved to become a Gregorian instant.
    pub adjusted: bool,
}

impl Temporal {
    /// True for the `standard`/`gregorian`/`proleptic_gregorian` calendars.
    pub fn is_gregorian(&self) -> bool {
        matches!(
            self.calendar.as_str(),
            "standard" | "gregorian" | "proleptic_gregorian"
        )
    }
}

/// A decoded time variable.
pub(crate) struct TimeAxis {
    /// Decoded dates, `None` where masked.
    pub dates: Vec<Option<CalDateTime>>,
    /// Its units and calendar.
    pub units: TimeUnits,
    /// The CF-decoded numbers (masked and unpacked, before date conversion).
    pub numbers: Vec<f64>,
}

/// True for a numeric variable with `UNIT since DATE` units.
pub(crate) fn is_time(v: &Variable) -> bool {
    v.dtype.is_numeric()
        && text(v, "units").is_some_and(|u| u.contains("since") && cf::is_time_units(u))
}

/// Decode a time variable; `None` when it is not one.
pub(crate) fn decode(ctx: &Ctx<'_>, var: &Variable) -> Result<Option<TimeAxis>> {
    if !is_time(var) {
        return Ok(None);
    }
    let raw = ctx.read_raw(var)?;
    let decoded = cf::decode_variable(var, &raw).map_err(|e| ctx.cf_error(e))?;
    let Decoded::Time(dates, units) = decoded else {
        return Ok(None);
    };
    let numbers = arco_core::cf::CfDecoder::new(var)
        .and_then(|d| d.decode(&raw).map(|v| v.to_f64_vec().unwrap_or_default()))
        .map_err(|e| ctx.cf_error(e))?;
    Ok(Some(TimeAxis {
        dates,
        units,
        numbers,
    }))
}

/// The time variables that date the data: dimension coordinates of data
/// variables, else time variables the data name as coordinates, else any
/// variable with `axis = T` or a time `standard_name`.
pub(crate) fn time_variables<'a>(ctx: &Ctx<'a>, roles: &Roles<'a>) -> Vec<&'a Variable> {
    let all = ctx.ds.root.all_variables();
    let candidates: Vec<&Variable> = all
        .into_iter()
        .filter(|v| is_time(v) && !roles.bounds.contains(&v.path))
        .collect();
    let used_dims: Vec<&String> = roles.data.iter().flat_map(|v| &v.dims).collect();
    let tier1: Vec<&Variable> = candidates
        .iter()
        .copied()
        .filter(|v| v.is_coordinate() && used_dims.contains(&&v.dims[0]))
        .collect();
    if !tier1.is_empty() {
        return tier1;
    }
    let tier2: Vec<&Variable> = candidates
        .iter()
        .copied()
        .filter(|v| roles.auxiliary.contains(&v.path))
        .collect();
    if !tier2.is_empty() {
        return tier2;
    }
    candidates
        .into_iter()
        .filter(|v| {
            cf::axis_kind(v) == Some(cf::Axis::T) && text(v, "axis").is_some()
                || text(v, "standard_name") == Some("time")
        })
        .collect()
}

/// A native date as a UTC instant: the same fields when they form a
/// Gregorian date, else the nearest instant outside (`round_up` for ends).
/// The flag says whether the date moved.
pub(crate) fn to_utc(d: &CalDateTime, round_up: bool) -> (DateTime<Utc>, bool) {
    let clamp_low = || {
        NaiveDate::from_ymd_opt(1, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|n| n.and_utc())
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    };
    let clamp_high = || {
        NaiveDate::from_ymd_opt(9999, 12, 31)
            .and_then(|d| d.and_hms_opt(23, 59, 59))
            .map(|n| n.and_utc())
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    };
    if d.year < 1 {
        return (clamp_low(), true);
    }
    if d.year > 9999 {
        return (clamp_high(), true);
    }
    let year = d.year as i32;
    let time = |date: NaiveDate| {
        date.and_hms_nano_opt(
            u32::from(d.hour),
            u32::from(d.minute),
            u32::from(d.second),
            d.nanosecond,
        )
        .map(|n| n.and_utc())
    };
    if let Some(t) =
        NaiveDate::from_ymd_opt(year, u32::from(d.month), u32::from(d.day)).and_then(time)
    {
        return (t, false);
    }
    let moved = if round_up {
        let (y, m) = if d.month >= 12 {
            (year + 1, 1)
        } else {
            (year, u32::from(d.month) + 1)
        };
        NaiveDate::from_ymd_opt(y, m, 1)
            .and_then(|date| date.and_hms_opt(0, 0, 0))
            .map(|n| n.and_utc())
    } else {
        (1..=u32::from(d.day))
            .rev()
            .find_map(|day| NaiveDate::from_ymd_opt(year, u32::from(d.month), day))
            .and_then(time)
    };
    (
        moved.unwrap_or_else(|| if round_up { clamp_high() } else { clamp_low() }),
        true,
    )
}

/// Parse an ACDD date (`2017-10-25T20:52:20.3Z`, `2017-10-25 20:52:20`,
/// `20171025T205220Z`, `2017-10-25`).
pub(crate) fn parse_iso(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let naive = s.trim_end_matches('Z').trim_end_matches("UTC").trim();
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y%m%dT%H%M%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, f) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(naive, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| n.and_utc())
}

/// The time range of the dataset.
pub(crate) fn temporal(ctx: &Ctx<'_>, roles: &Roles<'_>) -> Result<Option<Temporal>> {
    let mut range: Option<(CalDateTime, CalDateTime)> = None;
    let mut calendar = None;
    let mut sources = Vec::new();
    for var in time_variables(ctx, roles) {
        let Some(axis) = decode(ctx, var)? else {
            continue;
        };
        let mut dates: Vec<CalDateTime> = axis.dates.iter().flatten().copied().collect();
        let mut source = var.path.clone();
        let group_path = match var.path.rfind('/') {
            Some(0) | None => "/",
            Some(i) => &var.path[..i],
        };
        if let Some(group) = ctx.ds.group(group_path) {
            if let Some(b) = cf::bounds_of(var, group) {
                let inherited = cf::with_bounds_time_attributes(b, group);
                if let Some(baxis) = decode(ctx, &inherited)? {
                    dates.extend(baxis.dates.iter().flatten().copied());
                    source = format!("{} (bounds {})", var.path, b.path);
                }
            }
        }
        let (Some(lo), Some(hi)) = (dates.iter().min().copied(), dates.iter().max().copied())
        else {
            continue;
        };
        range = Some(match range {
            None => (lo, hi),
            Some((a, b)) => (a.min(lo), b.max(hi)),
        });
        calendar.get_or_insert(axis.units.calendar.name().to_string());
        sources.push(source);
    }
    if let (Some((lo, hi)), Some(calendar)) = (range, calendar) {
        let (start, moved_a) = to_utc(&lo, false);
        let (end, moved_b) = to_utc(&hi, true);
        return Ok(Some(Temporal {
            start,
            end,
            start_native: lo.to_string(),
            end_native: hi.to_string(),
            calendar,
            source: sources.join(", "),
            adjusted: moved_a || moved_b,
        }));
    }
    let attr = |name: &str| {
        ctx.ds
            .root
            .attr(name)
            .and_then(AttrValue::as_str)
            .map(str::to_string)
    };
    let start = attr("time_coverage_start");
    let end = attr("time_coverage_end");
    let parsed_start = start.as_deref().and_then(parse_iso);
    let parsed_end = end.as_deref().and_then(parse_iso);
    match (parsed_start, parsed_end) {
        (Some(s), e) | (None, e @ Some(s)) => {
            let e = e.unwrap_or(s);
            Ok(Some(Temporal {
                start: s.min(e),
                end: s.max(e),
                start_native: start.unwrap_or_default(),
                end_native: end.unwrap_or_default(),
                calendar: "standard".into(),
                source: "ACDD time_coverage_start/time_coverage_end global attributes".into(),
                adjusted: false,
            }))
        }
        (None, None) => Ok(None),
    }
}

/// ISO 8601 duration of `nanos` nanoseconds (`P1D`, `PT6H`, `PT0.5S`).
pub(crate) fn iso_duration(nanos: i128) -> String {
    const S: i128 = 1_000_000_000;
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.abs();
    if n % (86_400 * S) == 0 {
        return format!("{sign}P{}D", n / (86_400 * S));
    }
    if n % (3600 * S) == 0 {
        return format!("{sign}PT{}H", n / (3600 * S));
    }
    if n % (60 * S) == 0 {
        return format!("{sign}PT{}M", n / (60 * S));
    }
    if n % S == 0 {
        return format!("{sign}PT{}S", n / S);
    }
    let secs = format!("{}.{:09}", n / S, n % S);
    format!("{sign}PT{}S", secs.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dates_missing_from_the_gregorian_calendar_move_outwards() {
        let d = CalDateTime::date(2001, 2, 30);
        assert_eq!(
            to_utc(&d, false).0.to_rfc3339(),
            "2001-02-28T00:00:00+00:00"
        );
        assert_eq!(to_utc(&d, true).0.to_rfc3339(), "2001-03-01T00:00:00+00:00");
        assert!(to_utc(&d, true).1);
        let ok = CalDateTime::date(2000, 2, 29).at(12, 0, 0);
        assert_eq!(to_utc(&ok, true), (to_utc(&ok, false).0, false));
    }

    #[test]
    fn acdd_dates_parse_in_their_usual_spellings() {
        let t = parse_iso("2017-10-25T20:52:20.3Z").unwrap();
        assert_eq!(t.timestamp_subsec_millis(), 300);
        assert!(parse_iso("2017-10-25 20:52:20").is_some());
        assert!(parse_iso("20171025T205220Z").is_some());
        assert!(parse_iso("2017-10-25").is_some());
        assert!(parse_iso("yesterday").is_none());
    }

    #[test]
    fn durations_use_the_largest_whole_unit() {
        assert_eq!(iso_duration(86_400_000_000_000), "P1D");
        assert_eq!(iso_duration(6 * 3_600_000_000_000), "PT6H");
        assert_eq!(iso_duration(1_500_000_000), "PT1.5S");
    }
}

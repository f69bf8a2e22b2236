//! CF time coordinates: `UNIT since REFERENCE` units, decoding and encoding.
//!
//! Decoding follows xarray's `decode_cf_datetime` with its default
//! `time_unit="ns"`, which takes one of two paths for a whole array:
//!
//! * the **pandas path**, for the `standard`/`gregorian`/`proleptic_gregorian`
//!   calendars when the unit is one pandas knows (`nanoseconds` to `days`; xarray
//!   lower-cases the name and appends a missing `s`), the reference date fits
//!   `datetime64[ns]` (1677-09-21 to 2262-04-11, which also puts it after the
//!   1582 reform) and so does every value. Integer values are multiplied exactly;
//!   a floating point value is multiplied by the unit's nanoseconds in `f64` and
//!   **truncated** toward zero to whole nanoseconds.
//! * otherwise the **cftime path** (`cftime.num2date`, microseconds): integers are
//!   multiplied exactly; a floating point value is multiplied by the unit's
//!   microseconds in x86-64 `long double` (64-bit significand), rounded half to
//!   even, and for units of a second or more a result ending in `.000001` s is
//!   floored and one ending in `.999999` s ceiled (cftime issue 187).
//!
//! [`TimeUnits::decode_all`] makes that choice once for a whole array, as xarray
//! does; [`TimeUnits::decode`] makes it for its one value. The test table
//! `testdata/time_cases.txt` (made by `testdata/make_time_cases.py`) holds 600
//! values across every calendar that arco decodes exactly as xarray does.
//!
//! Where xarray refuses, arco differs knowingly: `weeks` are accepted (UDUNITS
//! knows them), and integer times masked by a fill value decode in every
//! calendar (xarray fails on them outside the Gregorian calendars).

use super::calendar::{Calendar, MAX_ABS_DAYS, NANOS_PER_DAY};
use crate::error::{Error, Result};
use std::fmt;

/// A date and time of day in some [`Calendar`], to the nanosecond.
///
/// `year` is numbered as the calendar numbers it: `standard` and `julian` have no
/// year 0 (year -1 precedes year 1), the other calendars do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CalDateTime {
    /// Year.
    pub year: i64,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month, from 1.
    pub day: u8,
    /// Hour, 0 to 23.
    pub hour: u8,
    /// Minute, 0 to 59.
    pub minute: u8,
    /// Second, 0 to 59.
    pub second: u8,
    /// Nanoseconds into the second, below 10^9.
    pub nanosecond: u32,
}

impl CalDateTime {
    /// Midnight at the start of `year-month-day` (not checked against a calendar).
    pub fn date(year: i64, month: u8, day: u8) -> Self {
        CalDateTime {
            year,
            month,
            day,
            hour: 0,
            minute: 0,
            second: 0,
            nanosecond: 0,
        }
    }

    /// The same date at `hour:minute:second`.
    pub fn at(self, hour: u8, minute: u8, second: u8) -> Self {
        CalDateTime {
            hour,
            minute,
            second,
            ..self
        }
    }

    /// The same date and time with `nanosecond` nanoseconds into the second.
    pub fn with_nanosecond(self, nanosecond: u32) -> Self {
        CalDateTime { nanosecond, ..self }
    }

    /// Nanoseconds since midnight; `None` when a field is out of range.
    fn nanos_of_day(&self) -> Option<i64> {
        if self.hour > 23
            || self.minute > 59
            || self.second > 59
            || self.nanosecond >= 1_000_000_000
        {
            return None;
        }
        let secs =
            i64::from(self.hour) * 3600 + i64::from(self.minute) * 60 + i64::from(self.second);
        Some(secs * 1_000_000_000 + i64::from(self.nanosecond))
    }

    /// Nanoseconds since the calendar's day 0; `None` when the date or time does not
    /// exist in `calendar`.
    pub(crate) fn to_nanos(self, calendar: Calendar) -> Option<i128> {
        let days = calendar.days_from_date(self.year, self.month, self.day)?;
        Some(i128::from(days) * i128::from(NANOS_PER_DAY) + i128::from(self.nanos_of_day()?))
    }

    /// The date and time `nanos` nanoseconds after the calendar's day 0.
    pub(crate) fn from_nanos(nanos: i128, calendar: Calendar) -> Option<Self> {
        let day_ns = i128::from(NANOS_PER_DAY);
        let days = i64::try_from(nanos.div_euclid(day_ns)).ok()?;
        let tod = i64::try_from(nanos.rem_euclid(day_ns)).ok()?;
        let (year, month, day) = calendar.date_from_days(days)?;
        let secs = tod / 1_000_000_000;
        Some(CalDateTime {
            year,
            month,
            day,
            hour: (secs / 3600) as u8,
            minute: (secs / 60 % 60) as u8,
            second: (secs % 60) as u8,
            nanosecond: (tod % 1_000_000_000) as u32,
        })
    }

    /// True when this date and time exists in `calendar`.
    pub fn is_valid_in(&self, calendar: Calendar) -> bool {
        self.to_nanos(calendar).is_some()
    }

    /// Nanoseconds since 1970-01-01T00:00:00, as numpy `datetime64[ns]` counts them,
    /// for a date of `calendar`. `None` unless the calendar is `proleptic_gregorian`,
    /// or `standard` from 1582-10-15 on, and the instant fits an `i64`.
    pub fn to_unix_nanos(&self, calendar: Calendar) -> Option<i64> {
        let nanos = match calendar {
            Calendar::ProlepticGregorian => self.to_nanos(calendar)?,
            Calendar::Standard if (self.year, self.month, self.day) >= (1582, 10, 15) => {
                self.to_nanos(calendar)?
            }
            _ => return None,
        };
        i64::try_from(nanos).ok()
    }
}

impl fmt::Display for CalDateTime {
    /// `YYYY-MM-DDTHH:MM:SS`, then `.` and the nanoseconds with trailing zeros
    /// removed when they are not zero: `1979-01-01T00:00:00`, `2000-01-01T12:00:00.5`.
    /// Years below 0 are written `-YYYY`, years above 9999 with all their digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.year < 0 {
            write!(f, "-{:04}", self.year.unsigned_abs())?;
        } else {
            write!(f, "{:04}", self.year)?;
        }
        write!(
            f,
            "-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.month, self.day, self.hour, self.minute, self.second
        )?;
        if self.nanosecond != 0 {
            let frac = format!("{:09}", self.nanosecond);
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        Ok(())
    }
}

/// The unit before `since` in CF time units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeUnit {
    /// `nanoseconds`.
    Nanoseconds,
    /// `microseconds`, `microsecond`, `microsec`, `microsecs`.
    Microseconds,
    /// `milliseconds`, `millisecond`, `millisec`, `millisecs`, `msec`, `msecs`, `ms`.
    Milliseconds,
    /// `seconds`, `second`, `sec`, `secs`, `s`.
    Seconds,
    /// `minutes`, `minute`, `min`, `mins`.
    Minutes,
    /// `hours`, `hour`, `hr`, `hrs`, `h`.
    Hours,
    /// `days`, `day`, `d`.
    Days,
    /// `weeks`, `week`: seven days. UDUNITS knows them; note that xarray refuses them.
    Weeks,
    /// `months`, `month`: 30 days, accepted only with the `360_day` calendar (as cftime).
    Months,
}

impl TimeUnit {
    /// Parse a unit name (case-insensitive); `None` when unknown.
    fn parse(name: &str) -> Option<(TimeUnit, bool)> {
        let lower = name.to_ascii_lowercase();
        // The second element says whether pandas (xarray's fast path) knows it:
        // xarray lower-cases the unit, appends an `s` when missing and looks it up.
        let plural = if lower.ends_with('s') {
            lower.clone()
        } else {
            format!("{lower}s")
        };
        let pandas = matches!(
            plural.as_str(),
            "nanoseconds"
                | "microseconds"
                | "milliseconds"
                | "seconds"
                | "minutes"
                | "hours"
                | "days"
        );
        let unit = match lower.as_str() {
            "nanoseconds" | "nanosecond" => TimeUnit::Nanoseconds,
            "microseconds" | "microsecond" | "microsec" | "microsecs" => TimeUnit::Microseconds,
            "milliseconds" | "millisecond" | "millisec" | "millisecs" | "msec" | "msecs" | "ms" => {
                TimeUnit::Milliseconds
            }
            "seconds" | "second" | "sec" | "secs" | "s" => TimeUnit::Seconds,
            "minutes" | "minute" | "min" | "mins" => TimeUnit::Minutes,
            "hours" | "hour" | "hr" | "hrs" | "h" => TimeUnit::Hours,
            "days" | "day" | "d" => TimeUnit::Days,
            "weeks" | "week" => TimeUnit::Weeks,
            "months" | "month" => TimeUnit::Months,
            _ => return None,
        };
        Some((unit, pandas))
    }

    /// Length of one unit in nanoseconds (a month is 30 days).
    pub fn nanos(self) -> i64 {
        match self {
            TimeUnit::Nanoseconds => 1,
            TimeUnit::Microseconds => 1_000,
            TimeUnit::Milliseconds => 1_000_000,
            TimeUnit::Seconds => 1_000_000_000,
            TimeUnit::Minutes => 60_000_000_000,
            TimeUnit::Hours => 3_600_000_000_000,
            TimeUnit::Days => NANOS_PER_DAY,
            TimeUnit::Weeks => 7 * NANOS_PER_DAY,
            TimeUnit::Months => 30 * NANOS_PER_DAY,
        }
    }

    /// The plural CF name, such as `days`.
    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Nanoseconds => "nanoseconds",
            TimeUnit::Microseconds => "microseconds",
            TimeUnit::Milliseconds => "milliseconds",
            TimeUnit::Seconds => "seconds",
            TimeUnit::Minutes => "minutes",
            TimeUnit::Hours => "hours",
            TimeUnit::Days => "days",
            TimeUnit::Weeks => "weeks",
            TimeUnit::Months => "months",
        }
    }
}

impl fmt::Display for TimeUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parsed CF time units with their calendar: `days since 1970-01-01` and `noleap`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeUnits {
    /// The unit of the stored numbers.
    pub unit: TimeUnit,
    /// The reference instant, already shifted to UTC when the units carried an offset.
    pub epoch: CalDateTime,
    /// The calendar of the variable.
    pub calendar: Calendar,
    /// True when xarray would take its pandas path for this unit and reference date
    /// (see the module documentation).
    pandas_path: bool,
    /// `epoch` as nanoseconds since the calendar's day 0.
    epoch_nanos: i128,
}

/// How numbers become offsets: xarray's two paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// pandas: nanoseconds, floats truncated.
    Pandas,
    /// cftime: microseconds, floats rounded half to even.
    Cftime,
}

/// First and last instants numpy `datetime64[ns]` holds, as Unix nanoseconds.
const NS_MIN: i128 = i64::MIN as i128 + 1;
const NS_MAX: i128 = i64::MAX as i128;

/// True when `units` makes xarray decode a variable as datetimes: the text holds
/// `since`, with something before and after ` since `, and the reference date
/// has a four-digit year or starts with a digit.
pub fn is_time_units(units: &str) -> bool {
    match split_units(units) {
        Some((_, reference)) => {
            has_four_digits(reference) || reference.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

fn split_units(units: &str) -> Option<(&str, &str)> {
    let at = units.rfind(" since ")?;
    let unit = units[..at].trim();
    let reference = units[at + " since ".len()..].trim();
    if units[..at].is_empty() || units[at + " since ".len()..].is_empty() {
        return None;
    }
    Some((unit, reference))
}

fn has_four_digits(s: &str) -> bool {
    let mut run = 0;
    for c in s.chars() {
        if c.is_ascii_digit() {
            run += 1;
            if run >= 4 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

impl TimeUnits {
    /// Parse `units` (such as `hours since 1900-01-01 00:00:0.0`) and the
    /// `calendar` attribute (missing means `standard`) of `variable`, which only
    /// names the variable in errors.
    ///
    /// The reference date is `Y-M-D` (any number of digits per field, a leading
    /// sign allowed) or `YYYYMMDD`, optionally followed by a time of day
    /// `h[:m[:s[.fraction]]]` and a time zone; a zone offset is subtracted to give
    /// UTC. It is read as xarray reads it: for the Gregorian calendars as pandas
    /// does (time after `T` or blanks, a bare hour allowed, zones `Z`, `UTC`,
    /// `GMT` and `±h[h][[:]mm]`, nothing else allowed); otherwise, or when pandas
    /// cannot read it, as cftime does (time after any one character and needing
    /// `h:m`, zones `Z` and `±hh[[:]mm]` only, anything else ignored), and the
    /// values then decode on the cftime path.
    ///
    /// Errors: `years since` (xarray refuses years with every calendar because a
    /// CF year is 365.242198781 days), `months since` with a calendar other than
    /// `360_day`, an unknown unit or calendar, and a reference date that does not
    /// exist in the calendar.
    ///
    /// ```
    /// use arco_core::cf::{Calendar, TimeUnits};
    /// let t = TimeUnits::parse("days since 1850-01-01", Some("noleap"), "time")?;
    /// assert_eq!(t.calendar, Calendar::NoLeap);
    /// assert_eq!(t.decode(365.0 * 170.0).map(|d| d.to_string()).as_deref(), Some("2020-01-01T00:00:00"));
    /// # Ok::<(), arco_core::Error>(())
    /// ```
    pub fn parse(units: &str, calendar: Option<&str>, variable: &str) -> Result<Self> {
        let err = |attribute: &str, reason: String| Error::Cf {
            variable: variable.to_string(),
            attribute: attribute.to_string(),
            reason,
        };
        let calendar = match calendar {
            None => Calendar::Standard,
            Some(name) => Calendar::parse(name).ok_or_else(|| {
                err(
                    "calendar",
                    format!(
                        "'{name}' is not a CF calendar; expected standard, gregorian, \
                         proleptic_gregorian, noleap, 365_day, all_leap, 366_day, 360_day or julian"
                    ),
                )
            })?,
        };
        let (unit_text, reference) = split_units(units).ok_or_else(|| {
            err(
                "units",
                format!("'{units}' is not of the form 'UNIT since REFERENCE-DATE'"),
            )
        })?;
        let lower = unit_text.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "years" | "year" | "yr" | "yrs" | "common_years" | "common_year"
        ) {
            return Err(err(
                "units",
                format!(
                    "'{units}': '{unit_text}' is not a fixed length (a CF year is 365.242198781 days), \
                     and xarray refuses to decode it with any calendar; \
                     open the data without decoding times, or re-encode it in days"
                ),
            ));
        }
        let (unit, pandas_unit) = TimeUnit::parse(unit_text).ok_or_else(|| {
            err(
                "units",
                format!(
                    "'{units}': unknown time unit '{unit_text}'; expected nanoseconds, microseconds, \
                     milliseconds, seconds, minutes, hours, days or weeks"
                ),
            )
        })?;
        if unit == TimeUnit::Months && calendar != Calendar::Day360 {
            return Err(err(
                "units",
                format!(
                    "'{units}': months have no fixed length in the {calendar} calendar; \
                     xarray (through cftime) accepts 'months since' only with the 360_day calendar"
                ),
            ));
        }
        // xarray reads the reference date with pandas for the Gregorian calendars
        // and falls back to cftime (microseconds) when pandas cannot read it.
        let mut pandas_unit = pandas_unit;
        let pandas = if calendar.is_numpy_compatible() {
            parse_reference(reference, Dialect::Pandas)
        } else {
            None
        };
        let parsed = match pandas {
            Some(p) => p,
            None => {
                pandas_unit = false;
                parse_reference(reference, Dialect::Cftime).ok_or_else(|| {
                    err(
                        "units",
                        format!("'{units}': cannot read the reference date '{reference}'"),
                    )
                })?
            }
        };
        let local = parsed.date.to_nanos(calendar).ok_or_else(|| {
            err(
                "units",
                format!(
                    "'{units}': the reference date {} does not exist in the {calendar} calendar",
                    parsed.date
                ),
            )
        })?;
        let epoch_nanos = local - i128::from(parsed.offset_minutes) * 60_000_000_000;
        let epoch = CalDateTime::from_nanos(epoch_nanos, calendar).ok_or_else(|| {
            err(
                "units",
                format!("'{units}': the reference date is out of range"),
            )
        })?;
        // pandas also needs the reference date itself in `datetime64[ns]`.
        let pandas_path = pandas_unit
            && match calendar {
                Calendar::ProlepticGregorian | Calendar::Standard => {
                    epoch.to_unix_nanos(calendar).is_some()
                }
                _ => false,
            };
        Ok(TimeUnits {
            unit,
            epoch,
            calendar,
            pandas_path,
            epoch_nanos,
        })
    }

    /// The units as CF text, such as `days since 1970-01-01T00:00:00`.
    pub fn units_string(&self) -> String {
        format!("{} since {}", self.unit, self.epoch)
    }

    /// Offset in nanoseconds for a floating point `value` along `path`.
    fn offset_f64(&self, value: f64, path: Path) -> Option<i128> {
        if !value.is_finite() {
            return None;
        }
        let limit = (MAX_ABS_DAYS as f64) * (NANOS_PER_DAY as f64);
        match path {
            Path::Pandas => {
                let ns = value * self.unit.nanos() as f64;
                if ns.abs() >= 9.2e18 {
                    return None;
                }
                Some(ns.trunc() as i128)
            }
            Path::Cftime => {
                let factor = self.unit.nanos() / 1000;
                if factor == 0 {
                    // Nanoseconds, which cftime does not know: round to microseconds.
                    let us = (value / 1000.0).round_ties_even();
                    return (us.abs() * 1000.0 <= limit).then(|| us as i128 * 1000);
                }
                let snap = !matches!(self.unit, TimeUnit::Microseconds | TimeUnit::Milliseconds);
                let us = cftime_micros(value, factor, snap)?;
                Some(us * 1000)
            }
        }
    }

    /// The instant (nanoseconds since the calendar's day 0) of `value` along `path`,
    /// `None` for NaN, infinities and out of range values (and, on the pandas path,
    /// instants `datetime64[ns]` cannot hold).
    fn instant(&self, value: Number, path: Path) -> Option<i128> {
        let offset = match value {
            Number::Float(v) => self.offset_f64(v, path)?,
            Number::Int(v) => i128::from(v) * i128::from(self.unit.nanos()),
        };
        let t = self.epoch_nanos + offset;
        let limit = i128::from(MAX_ABS_DAYS) * i128::from(NANOS_PER_DAY);
        if t.abs() > limit {
            return None;
        }
        if path == Path::Pandas && !(NS_MIN..=NS_MAX).contains(&t) {
            return None;
        }
        Some(t)
    }

    /// Decode one stored number to a date. `None` for NaN and infinities, and for
    /// dates beyond about ±3 billion years.
    ///
    /// The path (pandas or cftime, see the module documentation) is chosen for this
    /// value alone; use [`TimeUnits::decode_all`] for arrays.
    pub fn decode(&self, value: f64) -> Option<CalDateTime> {
        self.decode_number(Number::Float(value))
    }

    /// Decode one stored integer exactly (xarray multiplies integers exactly on
    /// both paths). `i64::MIN` is numpy's NaT and decodes to `None`.
    pub fn decode_int(&self, value: i64) -> Option<CalDateTime> {
        self.decode_number(Number::Int(value))
    }

    fn decode_number(&self, value: Number) -> Option<CalDateTime> {
        if value.is_nat() {
            return None;
        }
        let t = if self.pandas_path {
            self.instant(value, Path::Pandas)
                .or_else(|| self.instant(value, Path::Cftime))?
        } else {
            self.instant(value, Path::Cftime)?
        };
        CalDateTime::from_nanos(t, self.calendar)
    }

    /// Decode an array of stored floating point numbers, choosing the pandas or
    /// cftime path once for the whole array as xarray does.
    ///
    /// xarray checks only the array's minimum and maximum against `datetime64[ns]`,
    /// with numpy's NaN-propagating `min`/`max`: an array holding a NaN therefore
    /// takes the pandas path whatever its other values, and values outside
    /// `datetime64[ns]` then decode to `None` (NaT), as they do in xarray.
    pub fn decode_all(&self, values: &[f64]) -> Vec<Option<CalDateTime>> {
        let fits = |v: f64| self.instant(Number::Float(v), Path::Pandas).is_some();
        let pandas = self.pandas_path
            && (values.iter().any(|v| v.is_nan()) || values.iter().all(|&v| fits(v)));
        let path = if pandas { Path::Pandas } else { Path::Cftime };
        values
            .iter()
            .map(|&v| self.decode_on(Number::Float(v), path))
            .collect()
    }

    /// Decode an array of stored integers exactly; `i64::MIN` (NaT) gives `None`.
    ///
    /// As in xarray, a NaT minimum is not checked against `datetime64[ns]`.
    pub fn decode_all_int(&self, values: &[i64]) -> Vec<Option<CalDateTime>> {
        let fits = |v: i64| self.instant(Number::Int(v), Path::Pandas).is_some();
        let min = values.iter().copied().min();
        let max = values.iter().copied().max();
        let pandas = self.pandas_path
            && min.is_none_or(|v| v == i64::MIN || fits(v))
            && max.is_none_or(|v| v == i64::MIN || fits(v));
        let path = if pandas { Path::Pandas } else { Path::Cftime };
        values
            .iter()
            .map(|&v| self.decode_on(Number::Int(v), path))
            .collect()
    }

    fn decode_on(&self, value: Number, path: Path) -> Option<CalDateTime> {
        if value.is_nat() {
            return None;
        }
        self.instant(value, path)
            .and_then(|t| CalDateTime::from_nanos(t, self.calendar))
    }

    /// Nanoseconds since 1970-01-01 (numpy `datetime64[ns]`) of a stored number,
    /// for `.npy` output. `None` for NaN, for calendars other than `standard` and
    /// `proleptic_gregorian`, for `standard` dates before 1582-10-15, and for
    /// instants outside `datetime64[ns]`.
    pub fn to_unix_nanos(&self, value: f64) -> Option<i64> {
        self.decode(value)?.to_unix_nanos(self.calendar)
    }

    /// Encode a date as a number of units since the epoch: the inverse of
    /// [`TimeUnits::decode`] for dates a whole number of units from the epoch.
    /// Fractions of a unit are computed from the exact nanosecond difference and
    /// rounded once to `f64`.
    ///
    /// Errors when `date` does not exist in the calendar.
    pub fn encode(&self, date: &CalDateTime) -> Result<f64> {
        let t = date.to_nanos(self.calendar).ok_or_else(|| {
            Error::Other(format!(
                "{date} is not a date of the {} calendar, so it cannot be encoded as '{}'",
                self.calendar,
                self.units_string()
            ))
        })?;
        let diff = t - self.epoch_nanos;
        let unit = i128::from(self.unit.nanos());
        let whole = diff.div_euclid(unit);
        let rest = diff.rem_euclid(unit);
        Ok(whole as f64 + rest as f64 / unit as f64)
    }
}

/// Microseconds for a floating point `value` of units of `factor` microseconds,
/// exactly as cftime 1.6 computes them on x86-64: the product is taken in
/// `np.longdouble` (80-bit extended precision, a 64-bit significand), rounded
/// half to even to an integer, and, for units of a second or more (`snap`), a
/// result 1 microsecond past a whole second is floored and one 1 microsecond
/// short of it is ceiled. `None` beyond the `int64` range (cftime raises).
fn cftime_micros(value: f64, factor: i64, snap: bool) -> Option<i128> {
    if !value.is_finite() {
        return None;
    }
    if value == 0.0 {
        return Some(0);
    }
    let bits = value.to_bits();
    let negative = bits >> 63 == 1;
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = u128::from(bits & ((1u64 << 52) - 1));
    // |value| = mantissa * 2^exponent, exactly.
    let (mantissa, mut exponent) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    // The exact product has at most 53 + 37 bits; round it to 64 significant bits.
    let mut product = mantissa * u128::from(factor.unsigned_abs());
    let width = 128 - product.leading_zeros() as i32;
    if width > 64 {
        product = shift_round_half_even(product, (width - 64) as u32);
        exponent += width - 64;
    }
    // x = product * 2^exponent in extended precision; rint, floor and ceil of it.
    let (rint, floor, ceil) = if exponent >= 0 {
        if exponent > 60 {
            return None;
        }
        let v = product << exponent;
        (v, v, v)
    } else {
        let shift = exponent.unsigned_abs();
        if shift >= 127 {
            (0, 0, u128::from(product != 0))
        } else {
            let whole = product >> shift;
            let exact = product & ((1u128 << shift) - 1) == 0;
            (
                shift_round_half_even(product, shift),
                whole,
                whole + u128::from(!exact),
            )
        }
    };
    let signed = |v: u128| -> Option<i128> {
        let v = i128::try_from(v).ok()?;
        Some(if negative { -v } else { v })
    };
    let (mut result, floor, ceil) = if negative {
        // floor(-x) = -ceil(x) and ceil(-x) = -floor(x).
        (signed(rint)?, signed(ceil)?, signed(floor)?)
    } else {
        (signed(rint)?, signed(floor)?, signed(ceil)?)
    };
    if !(i128::from(i64::MIN)..=i128::from(i64::MAX)).contains(&result) {
        return None;
    }
    if snap {
        match result.rem_euclid(1_000_000) {
            1 => result = floor,
            999_999 => result = ceil,
            _ => {}
        }
    }
    Some(result)
}

/// `v / 2^shift`, rounded half to even.
fn shift_round_half_even(v: u128, shift: u32) -> u128 {
    if shift == 0 {
        return v;
    }
    if shift >= 128 {
        return 0;
    }
    let q = v >> shift;
    let r = v & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    if r > half || (r == half && q & 1 == 1) {
        q + 1
    } else {
        q
    }
}

/// A stored number: integers keep full precision.
#[derive(Debug, Clone, Copy)]
enum Number {
    Float(f64),
    Int(i64),
}

impl Number {
    fn is_nat(self) -> bool {
        match self {
            Number::Float(v) => v.is_nan(),
            Number::Int(v) => v == i64::MIN,
        }
    }
}

/// A reference date as written, and its zone offset east of UTC in minutes.
#[derive(Debug, PartialEq)]
struct Reference {
    date: CalDateTime,
    offset_minutes: i64,
}

/// A small cursor over the reference date text.
struct Cursor<'a> {
    s: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn blanks(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
        self.at - start
    }

    fn digits(&mut self) -> Option<&'a [u8]> {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        let s: &'a [u8] = self.s;
        (self.at > start).then(|| &s[start..self.at])
    }

    fn rest(&self) -> &'a [u8] {
        &self.s[self.at.min(self.s.len())..]
    }
}

fn number(d: &[u8]) -> Option<i64> {
    std::str::from_utf8(d).ok()?.parse().ok()
}

fn small(d: &[u8], max: i64) -> Option<u8> {
    let v = number(d)?;
    (0..=max).contains(&v).then_some(v as u8)
}

/// How a reference date is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// pandas (through dateutil): the whole text must be understood; a time may
    /// be a bare hour; zones are `Z`, `UTC`, `GMT`, `UT` and `±h[h][[:]mm]`.
    Pandas,
    /// cftime's regular expression: a time needs `h:m`; after it, one optional
    /// character and a zone `Z` or `±hh[[:]mm]`; anything else is ignored.
    Cftime,
}

/// Parse a reference date; see [`TimeUnits::parse`] for the accepted forms.
fn parse_reference(text: &str, dialect: Dialect) -> Option<Reference> {
    let mut c = Cursor {
        s: text.trim().as_bytes(),
        at: 0,
    };
    let negative = if c.eat(b'-') {
        true
    } else {
        c.eat(b'+');
        false
    };
    let first = c.digits()?;
    let (year, month, day) = if c.peek() == Some(b'-') {
        c.at += 1;
        let month = small(c.digits()?, 99)?;
        let day = if c.eat(b'-') {
            small(c.digits()?, 99)?
        } else {
            1
        };
        (number(first)?, month, day)
    } else if first.len() == 8 {
        (
            number(&first[..4])?,
            small(&first[4..6], 99)?,
            small(&first[6..], 99)?,
        )
    } else {
        return None;
    };
    let year = if negative { -year } else { year };
    let mut date = CalDateTime::date(year, month, day);

    // Time of day, after `T` or blanks (cftime: after any one character).
    let before_time = c.at;
    let separated = match dialect {
        Dialect::Pandas => c.eat(b'T') || c.eat(b't') || c.blanks() > 0,
        Dialect::Cftime => {
            c.at += usize::from(c.peek().is_some());
            true
        }
    };
    let mut have_time = false;
    if separated {
        if let Some(h) = c.digits() {
            let colon = c.peek() == Some(b':');
            if colon || dialect == Dialect::Pandas {
                have_time = true;
                date.hour = small(h, 23)?;
            }
            if colon {
                c.at += 1;
                date.minute = small(c.digits()?, 59)?;
                if c.eat(b':') {
                    date.second = small(c.digits()?, 59)?;
                    if c.eat(b'.') {
                        let frac = c.digits().unwrap_or(b"");
                        let mut ns: u32 = 0;
                        for i in 0..9 {
                            ns = ns * 10 + frac.get(i).map_or(0, |d| u32::from(d - b'0'));
                        }
                        date.nanosecond = ns;
                    }
                }
            }
        }
    }
    if !have_time {
        c.at = before_time;
    }
    let offset_minutes = match dialect {
        Dialect::Pandas => pandas_zone(c.rest())?,
        Dialect::Cftime => cftime_zone(c.rest()),
    };
    Some(Reference {
        date,
        offset_minutes,
    })
}

/// `±h[h][[:]mm]` as minutes east of UTC, when the whole token is that.
fn offset_token(token: &str, two_digit_hours: bool) -> Option<i64> {
    let sign = match token.as_bytes().first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return None,
    };
    let body = &token[1..];
    let (hours, minutes) = match body.split_once(':') {
        Some((h, m)) => (h, m),
        None if body.len() > 2 => body.split_at(body.len() - 2),
        None => (body, "00"),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(hours) || !digits(minutes) || minutes.len() != 2 || hours.len() > 2 {
        return None;
    }
    if two_digit_hours && hours.len() != 2 {
        return None;
    }
    let (h, m): (i64, i64) = (hours.parse().ok()?, minutes.parse().ok()?);
    if m > 59 {
        return None;
    }
    Some(sign * (h * 60 + m))
}

/// The zone after a pandas-read date: every blank-separated word must be a zone
/// name or an offset; `None` when one is not.
fn pandas_zone(rest: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(rest).ok()?;
    let mut offset = 0;
    for word in text.split_whitespace() {
        if matches!(
            word.to_ascii_uppercase().as_str(),
            "Z" | "UTC" | "GMT" | "UT"
        ) {
            continue;
        }
        offset = offset_token(word, false)?;
    }
    Some(offset)
}

/// The zone after a cftime-read date: one optional character, then `Z` or
/// `±hh[[:]mm]`; anything else means no zone.
fn cftime_zone(rest: &[u8]) -> i64 {
    let Ok(text) = std::str::from_utf8(rest) else {
        return 0;
    };
    let candidates = [text, text.get(1..).unwrap_or("")];
    for t in candidates {
        if t.starts_with('Z') {
            return 0;
        }
        if t.starts_with(['+', '-']) {
            // The longest of `±hh:mm`, `±hhmm` and `±hh` at the start.
            for len in [6, 5, 3] {
                if let Some(off) = t.get(..len).and_then(|tok| offset_token(tok, true)) {
                    return off;
                }
            }
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(u: &str, cal: Option<&str>) -> TimeUnits {
        TimeUnits::parse(u, cal, "time").unwrap()
    }

    fn iso(t: &TimeUnits, v: f64) -> String {
        t.decode(v).map(|d| d.to_string()).unwrap_or_default()
    }

    #[test]
    fn iso_format_trims_fractional_seconds_and_pads_years() {
        let d = CalDateTime::date(1979, 1, 1);
        assert_eq!(d.to_string(), "1979-01-01T00:00:00");
        assert_eq!(
            d.at(12, 0, 0).with_nanosecond(500_000_000).to_string(),
            "1979-01-01T12:00:00.5"
        );
        assert_eq!(
            CalDateTime::date(7, 3, 4).with_nanosecond(1).to_string(),
            "0007-03-04T00:00:00.000000001"
        );
        assert_eq!(
            CalDateTime::date(-44, 3, 15).to_string(),
            "-0044-03-15T00:00:00"
        );
        assert_eq!(
            CalDateTime::date(12345, 1, 1).to_string(),
            "12345-01-01T00:00:00"
        );
    }

    // Expected values below were checked with cftime 1.6.6 / xarray 2026.9.0.

    #[test]
    fn hours_since_1900_with_a_sloppy_reference_time() {
        let t = units("hours since 1900-01-01 00:00:0.0", None);
        assert_eq!(iso(&t, 1_043_148.0), "2019-01-01T12:00:00");
        assert_eq!(t.calendar, Calendar::Standard);
    }

    #[test]
    fn noleap_counts_365_days_per_year() {
        let t = units("days since 1850-01-01", Some("noleap"));
        assert_eq!(iso(&t, 365.0 * 170.0), "2020-01-01T00:00:00");
        assert_eq!(iso(&t, 365.0 * 170.0 + 59.0), "2020-03-01T00:00:00");
        let t = units("days since 1-1-1", Some("noleap"));
        assert_eq!(iso(&t, 1.5), "0001-01-02T12:00:00");
    }

    #[test]
    fn three_hundred_sixty_days_reach_the_same_date_next_year() {
        let t = units("days since 2000-03-30", Some("360_day"));
        assert_eq!(iso(&t, 360.0), "2001-03-30T00:00:00");
        let t = units("days since 2000-02-30", Some("360_day"));
        assert_eq!(iso(&t, 1.0), "2000-03-01T00:00:00");
        let t = units("months since 2000-01-01", Some("360_day"));
        assert_eq!(iso(&t, 1.0), "2000-02-01T00:00:00");
    }

    #[test]
    fn julian_and_standard_calendars_differ_before_the_reform() {
        let t = units("days since 1582-10-15", None);
        assert_eq!(iso(&t, -1.0), "1582-10-04T00:00:00");
        let t = units("days since 1582-10-15", Some("julian"));
        assert_eq!(iso(&t, -1.0), "1582-10-14T00:00:00");
        let t = units("days since 1582-10-15", Some("proleptic_gregorian"));
        assert_eq!(iso(&t, -1.0), "1582-10-14T00:00:00");
        // Julian 1582-10-05 is standard 1582-10-15.
        let t = units("days since 1582-10-05", Some("julian"));
        let s = units("days since 1582-10-15", None);
        assert_eq!(t.encode(&CalDateTime::date(1600, 1, 1)).ok(), Some(6297.0));
        assert_eq!(s.encode(&CalDateTime::date(1600, 1, 1)).ok(), Some(6287.0));
        assert_eq!(
            iso(&units("days since 2000-01-01", Some("julian")), 1.0),
            "2000-01-02T00:00:00"
        );
    }

    #[test]
    fn negative_values_go_back_in_time() {
        let t = units("seconds since 2000-01-01", None);
        assert_eq!(iso(&t, -1e-9), "1999-12-31T23:59:59.999999999");
        assert_eq!(iso(&t, -86_400.0), "1999-12-31T00:00:00");
        let t = units("days since 1970-01-01", Some("proleptic_gregorian"));
        assert_eq!(iso(&t, -719_528.0), "0000-01-01T00:00:00");
        let t = units("days since 0001-01-01", Some("julian"));
        assert_eq!(iso(&t, -1.0), "-0001-12-31T00:00:00");
        let t = units("days since 0001-01-01", None);
        assert_eq!(iso(&t, -1.0), "-0001-12-31T00:00:00");
    }

    #[test]
    fn float_values_truncate_to_nanoseconds_on_the_pandas_path() {
        let t = units("days since 1970-01-01", None);
        assert_eq!(iso(&t, 0.1), "1970-01-01T02:24:00");
        assert_eq!(iso(&t, 1.0 / 3.0), "1970-01-01T08:00:00");
        let t = units("seconds since 1970-01-01", None);
        assert_eq!(iso(&t, 0.123_456_789_1), "1970-01-01T00:00:00.123456789");
        let t = units("microseconds since 2000-01-01", None);
        assert_eq!(iso(&t, 0.5), "2000-01-01T00:00:00.0000005");
        let t = units("days since 2000-01-01 12:00:00.5", None);
        assert_eq!(iso(&t, 1.0), "2000-01-02T12:00:00.5");
    }

    #[test]
    fn float_values_round_half_to_even_microseconds_on_the_cftime_path() {
        let t = units("microseconds since 2000-01-01", Some("noleap"));
        assert_eq!(iso(&t, 0.5), "2000-01-01T00:00:00");
        assert_eq!(iso(&t, 1.5), "2000-01-01T00:00:00.000002");
        assert_eq!(iso(&t, 2.5), "2000-01-01T00:00:00.000002");
        assert_eq!(iso(&t, -1.5), "1999-12-31T23:59:59.999998");
        let t = units("seconds since 2000-01-01", Some("noleap"));
        assert_eq!(iso(&t, 0.123_456_7), "2000-01-01T00:00:00.123457");
    }

    #[test]
    fn cftime_snaps_one_microsecond_past_a_second_after_extended_precision_scaling() {
        // cftime 1.6.6 (x86-64 long double) results.
        let t = units("seconds since 2000-01-01", Some("noleap"));
        for (v, expect) in [
            (1.000_001, "2000-01-01T00:00:01"),
            (0.999_999, "2000-01-01T00:00:00.999999"),
            (2.000_001, "2000-01-01T00:00:02.000001"),
            (-0.999_999, "1999-12-31T23:59:59.000001"),
            (5.000_001_1, "2000-01-01T00:00:05.000001"),
            (1.000_000_9, "2000-01-01T00:00:01"),
        ] {
            assert_eq!(iso(&t, v), expect, "{v}");
        }
        // No snapping for milliseconds.
        let t = units("milliseconds since 2000-01-01", Some("noleap"));
        assert_eq!(iso(&t, 1000.001), "2000-01-01T00:00:01.000001");
        assert_eq!(iso(&t, 1.000_001), "2000-01-01T00:00:00.001");
    }

    #[test]
    fn an_array_takes_the_cftime_path_when_one_value_leaves_datetime64_ns() {
        let t = units("days since 2000-01-01", None);
        let all = |v: &[f64]| -> Vec<String> {
            t.decode_all(v)
                .iter()
                .map(|d| d.map(|d| d.to_string()).unwrap_or_default())
                .collect()
        };
        assert_eq!(
            all(&[0.5e-9, 1e6]),
            ["2000-01-01T00:00:00.000043", "4737-11-28T00:00:00"]
        );
        // numpy's min and max of an array with a NaN are NaN, so xarray skips its
        // range check and the far date overflows to NaT.
        assert_eq!(
            all(&[0.5e-9, 1e6, f64::NAN]),
            ["2000-01-01T00:00:00.0000432", "", ""]
        );
        // Alone, the first value stays on the pandas path (43.2 microseconds).
        assert_eq!(iso(&t, 0.5e-9), "2000-01-01T00:00:00.0000432");
    }

    #[test]
    fn large_float_values_round_like_xarray_while_integers_stay_exact() {
        // xarray 2026.9: float64 6397892931.0 s decodes to ...000000512 ns.
        let t = units("seconds since 1970-01-01", None);
        assert_eq!(
            t.to_unix_nanos(6_397_892_931.0),
            Some(6_397_892_931_000_000_512)
        );
        let d = t
            .decode_int(6_397_892_931)
            .and_then(|d| d.to_unix_nanos(Calendar::Standard));
        assert_eq!(d, Some(6_397_892_931_000_000_000));
    }

    #[test]
    fn integers_decode_exactly() {
        let t = units("seconds since 2000-01-01", None);
        let d = t.decode_int(1 << 40).map(|d| d.to_string());
        assert_eq!(d.as_deref(), Some("36842-02-19T00:36:16"));
        assert_eq!(t.decode_int(i64::MIN), None);
        let all: Vec<String> = t
            .decode_all_int(&[i64::MIN, 0, 1 << 40])
            .iter()
            .map(|d| d.map(|d| d.to_string()).unwrap_or_default())
            .collect();
        assert_eq!(all, ["", "2000-01-01T00:00:00", "36842-02-19T00:36:16"]);
        let t = units("nanoseconds since 1970-01-01", None);
        assert_eq!(
            t.decode_int(i64::MAX).map(|d| d.to_string()).as_deref(),
            Some("2262-04-11T23:47:16.854775807")
        );
    }

    #[test]
    fn time_zone_offsets_shift_the_epoch_to_utc() {
        let t = units("minutes since 2000-1-1 0:0:0 +1:00", None);
        assert_eq!(iso(&t, 0.0), "1999-12-31T23:00:00");
        assert_eq!(iso(&t, 1.0), "1999-12-31T23:01:00");
        let t = units("seconds since 2017-01-01T00:00:00Z", None);
        assert_eq!(iso(&t, 0.0), "2017-01-01T00:00:00");
        let t = units("days since 2000-01-01T00:00:00+05:30", None);
        assert_eq!(iso(&t, 0.0), "1999-12-31T18:30:00");
        let t = units("days since 2000-01-01 00:00:00 -6", None);
        assert_eq!(iso(&t, 0.0), "2000-01-01T06:00:00");
        let t = units("days since 2000-01-01 00:00:00 UTC", None);
        assert_eq!(iso(&t, 0.0), "2000-01-01T00:00:00");
        // cftime reads only two-digit zone hours.
        let t = units("minutes since 2000-1-1 0:0:0 +1:00", Some("noleap"));
        assert_eq!(iso(&t, 0.0), "2000-01-01T00:00:00");
        let t = units("days since 2000-01-01T00:00:00+05:30", Some("noleap"));
        assert_eq!(iso(&t, 0.0), "1999-12-31T18:30:00");
    }

    #[test]
    fn text_pandas_cannot_read_falls_back_to_cftime_which_ignores_it() {
        // xarray 2026.9: pandas fails, cftime reads the date and ignores the rest,
        // and the result has microsecond precision.
        for reference in [
            "1970-01-01 00:00:00 (UTC)",
            "1970-01-01 foo",
            "1970-01-01 00:00:00 local",
        ] {
            let t = units(&format!("seconds since {reference}"), None);
            assert_eq!(iso(&t, 0.5), "1970-01-01T00:00:00.5", "{reference}");
            assert_eq!(iso(&t, 1e-9), "1970-01-01T00:00:00", "{reference}");
        }
        let t = units("seconds since 1970-01-01 00:00:00 +01:00 UTC", None);
        assert_eq!(iso(&t, 0.5), "1969-12-31T23:00:00.5");
        let t = units("seconds since 1970-01-01 00:00:00GMT", None);
        assert_eq!(iso(&t, 0.5), "1970-01-01T00:00:00.5");
        // A bare hour counts for pandas, not for cftime.
        assert_eq!(
            iso(&units("seconds since 1970-01-01 12", None), 0.5),
            "1970-01-01T12:00:00.5"
        );
        let t = units("seconds since 1970-01-01 12", Some("noleap"));
        assert_eq!(iso(&t, 0.5), "1970-01-01T00:00:00.5");
    }

    #[test]
    fn unit_names_accept_cftime_abbreviations() {
        for (u, expect) in [
            ("d", "2000-01-02T00:00:00"),
            ("Days", "2000-01-02T00:00:00"),
            ("hrs", "2000-01-01T01:00:00"),
            ("msecs", "2000-01-01T00:00:00.001"),
            ("microsec", "2000-01-01T00:00:00.000001"),
            ("nanoseconds", "2000-01-01T00:00:00.000000001"),
            ("weeks", "2000-01-08T00:00:00"),
        ] {
            let t = units(&format!("{u} since 2000-01-01"), None);
            assert_eq!(iso(&t, 1.0), expect, "{u}");
        }
    }

    #[test]
    fn reference_dates_in_basic_and_short_forms_parse() {
        assert_eq!(
            iso(&units("days since 20000101", None), 0.0),
            "2000-01-01T00:00:00"
        );
        assert_eq!(
            iso(&units("days  since 2000-01-01T12:00", None), 0.0),
            "2000-01-01T12:00:00"
        );
        assert_eq!(
            iso(&units("days since 2000-01", None), 0.0),
            "2000-01-01T00:00:00"
        );
        assert_eq!(
            iso(&units("days since 1-1-1", None), 1.0),
            "0001-01-02T00:00:00"
        );
    }

    #[test]
    fn years_and_months_are_refused_with_an_explanation() {
        let e = TimeUnits::parse("months since 2000-01-01", None, "time")
            .unwrap_err()
            .to_string();
        assert!(e.contains("360_day"), "{e}");
        assert!(e.contains("'time'"), "{e}");
        let e = TimeUnits::parse("years since 2000-01-01", Some("360_day"), "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("365.242198781"), "{e}");
    }

    #[test]
    fn bad_units_and_calendars_are_errors() {
        assert!(TimeUnits::parse("days since 2000-02-30", None, "t").is_err());
        assert!(TimeUnits::parse("days since 0-01-01", None, "t").is_err());
        assert!(TimeUnits::parse("days since 0-01-01", Some("noleap"), "t").is_ok());
        assert!(TimeUnits::parse("days since 1582-10-10", None, "t").is_err());
        assert!(TimeUnits::parse("days since 2000-01-01", Some("bogus"), "t").is_err());
        assert!(TimeUnits::parse("fortnights since 2000-01-01", None, "t").is_err());
        assert!(TimeUnits::parse("seconds_since_1970", None, "t").is_err());
        assert!(TimeUnits::parse("days since yesterday", None, "t").is_err());
        assert!(TimeUnits::parse("days since 2000-13-01", None, "t").is_err());
        // pandas takes a 25-hour offset at its word.
        let t = units("seconds since 2000-01-01 +25:00", None);
        assert_eq!(iso(&t, 0.5), "1999-12-30T23:00:00.5");
    }

    #[test]
    fn time_like_units_need_since_and_a_numeric_date() {
        assert!(is_time_units("days since 2000-01-01"));
        assert!(is_time_units("days since 1-1-1"));
        assert!(!is_time_units("days"));
        assert!(!is_time_units("seconds_since_1970"));
        assert!(!is_time_units("days since yesterday"));
    }

    #[test]
    fn unix_nanos_exist_only_for_numpy_compatible_dates() {
        let t = units("days since 1970-01-01", None);
        assert_eq!(t.to_unix_nanos(1.0), Some(NANOS_PER_DAY));
        assert_eq!(t.to_unix_nanos(f64::NAN), None);
        let t = units("days since 1582-10-15", None);
        assert_eq!(t.to_unix_nanos(-1.0), None);
        let t = units("days since 2000-01-01", Some("noleap"));
        assert_eq!(t.to_unix_nanos(0.0), None);
        let t = units("hours since 1900-01-01", Some("proleptic_gregorian"));
        assert_eq!(
            t.to_unix_nanos(1_043_148.0),
            Some(1_546_344_000_000_000_000)
        );
    }

    #[test]
    fn encode_inverts_decode_and_keeps_fractions() {
        let t = units("hours since 1900-01-01 00:00:0.0", None);
        let d = CalDateTime::date(2019, 1, 1).at(12, 0, 0);
        assert_eq!(t.encode(&d).ok(), Some(1_043_148.0));
        assert_eq!(t.encode(&d.at(12, 30, 0)).ok(), Some(1_043_148.5));
        assert_eq!(t.encode(&CalDateTime::date(1899, 12, 31)).ok(), Some(-24.0));
        assert!(t.encode(&CalDateTime::date(2019, 2, 29)).is_err());
        assert_eq!(t.units_string(), "hours since 1900-01-01T00:00:00");
    }

    #[test]
    fn non_finite_values_decode_to_nothing() {
        let t = units("days since 2000-01-01", Some("all_leap"));
        assert_eq!(t.decode(f64::NAN), None);
        assert_eq!(t.decode(f64::INFINITY), None);
        assert_eq!(t.decode(1e300), None);
    }

    #[test]
    fn six_hundred_values_decode_as_xarray_decodes_them() {
        // Made by testdata/make_time_cases.py with xarray 2026.9.0 and cftime 1.6.6.
        let table = include_str!("testdata/time_cases.txt");
        let mut failures = Vec::new();
        for line in table.lines().filter(|l| !l.trim().is_empty()) {
            let f: Vec<&str> = line.split('|').collect();
            let (cal, unit_text, dtype, value, expect) = (f[0], f[1], f[2], f[3], f[4]);
            let t = TimeUnits::parse(unit_text, Some(cal), "t").unwrap();
            let got = match dtype {
                "i8" => t.decode_int(value.parse().unwrap()),
                "f4" => t.decode(f64::from(value.parse::<f32>().unwrap())),
                _ => t.decode(value.parse().unwrap()),
            };
            let got = got.map(|d| d.to_string()).unwrap_or_else(|| "NaT".into());
            if got != expect {
                failures.push(format!("{line}: arco gives {got}"));
            }
        }
        assert!(
            failures.is_empty(),
            "{} mismatches:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        const CALENDARS: [Calendar; 6] = [
            Calendar::Standard,
            Calendar::ProlepticGregorian,
            Calendar::NoLeap,
            Calendar::AllLeap,
            Calendar::Day360,
            Calendar::Julian,
        ];

        fn calendar() -> impl Strategy<Value = Calendar> {
            prop::sample::select(CALENDARS.to_vec())
        }

        /// A date of `cal` with a year in `years` (day clamped to the month's
        /// length; dates that do not exist, such as year 0 or the reform gap,
        /// are moved to the next valid day).
        fn date_in(cal: Calendar, year: i64, month: u8, day: u8) -> CalDateTime {
            let day = day.min(cal.month_length(year, month)).max(1);
            let mut d = CalDateTime::date(year, month, day);
            if !d.is_valid_in(cal) {
                d = CalDateTime::date(if year == 0 { 1 } else { year }, month, day);
            }
            if !d.is_valid_in(cal) {
                d = CalDateTime::date(1582, 10, 15);
            }
            d
        }

        fn unit() -> impl Strategy<Value = TimeUnit> {
            prop::sample::select(vec![
                TimeUnit::Seconds,
                TimeUnit::Minutes,
                TimeUnit::Hours,
                TimeUnit::Days,
                TimeUnit::Weeks,
            ])
        }

        proptest! {
            #[test]
            fn day_numbers_round_trip_over_a_wide_range(cal in calendar(), days in -(1i64 << 36)..(1i64 << 36)) {
                let (y, m, d) = cal.date_from_days(days).unwrap();
                prop_assert!(cal.is_valid_date(y, m, d), "{cal}: {y}-{m}-{d}");
                prop_assert_eq!(cal.days_from_date(y, m, d), Some(days));
                let (y2, m2, d2) = cal.date_from_days(days + 1).unwrap();
                prop_assert!((y2, m2, d2) > (y, m, d) || (y == -1 && y2 == 1), "{cal}: day after {y}-{m}-{d} is {y2}-{m2}-{d2}");
            }

            #[test]
            fn encode_then_decode_gives_the_date_back_in_every_calendar(
                cal in calendar(),
                unit in unit(),
                epoch in (-3000i64..3000, 1u8..=12, 1u8..=31),
                date in (-9999i64..9999, 1u8..=12, 1u8..=31, 0u8..24, 0u8..60, 0u8..60),
            ) {
                let epoch = date_in(cal, epoch.0, epoch.1, epoch.2);
                let units = TimeUnits::parse(&format!("{unit} since {epoch}"), Some(cal.name()), "t").unwrap();
                prop_assert_eq!(units.epoch, epoch);
                // Truncate the time of day to whole units, so the date is a whole
                // number of units from the (midnight) epoch.
                let mut d = date_in(cal, date.0, date.1, date.2).at(date.3, date.4, date.5);
                match unit {
                    TimeUnit::Minutes => d.second = 0,
                    TimeUnit::Hours => d = d.at(d.hour, 0, 0),
                    TimeUnit::Days => d = d.at(0, 0, 0),
                    TimeUnit::Weeks => {
                        let n = units.encode(&d.at(0, 0, 0)).unwrap().div_euclid(1.0);
                        d = units.decode_int(n as i64).unwrap();
                    }
                    _ => {}
                }
                let value = units.encode(&d).unwrap();
                prop_assert_eq!(value.fract(), 0.0, "{} is not whole {}", d, unit);
                prop_assert_eq!(units.decode_int(value as i64), Some(d));
                // Floating point decoding is exact while value * microseconds per unit
                // stays exactly representable.
                if value.abs() * (unit.nanos() as f64 / 1000.0) < 2f64.powi(52) {
                    prop_assert_eq!(units.decode(value), Some(d));
                    prop_assert_eq!(units.decode_all(&[value]), vec![Some(d)]);
                }
            }

            #[test]
            fn decoding_then_encoding_gives_the_number_back(
                cal in calendar(),
                unit in unit(),
                n in -(1i64 << 31)..(1i64 << 31),
                epoch in (-3000i64..3000, 1u8..=12, 1u8..=31),
            ) {
                let epoch = date_in(cal, epoch.0, epoch.1, epoch.2);
                let units = TimeUnits::parse(&format!("{unit} since {epoch}"), Some(cal.name()), "t").unwrap();
                let d = units.decode_int(n).unwrap();
                prop_assert_eq!(units.encode(&d).unwrap(), n as f64);
                if (n as f64).abs() * (unit.nanos() as f64) < 2f64.powi(52) {
                    prop_assert_eq!(units.decode(n as f64), Some(d));
                }
            }

            #[test]
            fn numpy_compatible_dates_agree_with_unix_time(
                n in -(1i64 << 40)..(1i64 << 40),
            ) {
                // Seconds since the Unix epoch in the proleptic Gregorian calendar
                // are Unix time.
                let units = TimeUnits::parse("seconds since 1970-01-01", Some("proleptic_gregorian"), "t").unwrap();
                let d = units.decode_int(n).unwrap();
                let nanos = i128::from(n) * 1_000_000_000;
                prop_assert_eq!(d.to_unix_nanos(Calendar::ProlepticGregorian).map(i128::from), i64::try_from(nanos).ok().map(i128::from));
                // Float values are multiplied in f64 (as xarray does), exact below 2^52 ns.
                if nanos.abs() < 1 << 52 {
                    prop_assert_eq!(units.to_unix_nanos(n as f64).map(i128::from), Some(nanos));
                }
            }

            #[test]
            fn reference_dates_print_and_parse_back(
                cal in calendar(),
                date in (-9999i64..99999, 1u8..=12, 1u8..=31, 0u8..24, 0u8..60, 0u8..60, 0u32..1_000_000_000),
            ) {
                let d = date_in(cal, date.0, date.1, date.2).at(date.3, date.4, date.5).with_nanosecond(date.6);
                let units = TimeUnits::parse(&format!("days since {d}"), Some(cal.name()), "t").unwrap();
                prop_assert_eq!(units.epoch, d);
            }
        }
    }
}

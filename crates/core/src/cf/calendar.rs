//! CF calendars and calendar dates: day numbering for every calendar, with no
//! dependency on a date library.
//!
//! Every calendar numbers its days with an `i64`. Only differences between
//! day numbers of the same calendar carry meaning, except for
//! [`Calendar::Standard`], [`Calendar::ProlepticGregorian`] and
//! [`Calendar::Julian`], whose day 0 is 1970-01-01 (Gregorian), so that they
//! convert directly to Unix time.

use std::fmt;

/// Nanoseconds in one day.
pub(crate) const NANOS_PER_DAY: i64 = 86_400_000_000_000;

/// Largest absolute day number arco computes with (about ±3 billion years);
/// beyond it, decoding gives no date rather than overflowing.
pub(crate) const MAX_ABS_DAYS: i64 = 1 << 40;

/// A CF calendar (the `calendar` attribute of a time variable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Calendar {
    /// `standard` or `gregorian`: Julian before 1582-10-15, Gregorian from then on;
    /// 1582-10-05 to 1582-10-14 do not exist. There is no year 0 (year -1 precedes
    /// year 1), as in cftime.
    Standard,
    /// `proleptic_gregorian`: Gregorian rules for every year, with a year 0.
    ProlepticGregorian,
    /// `noleap` or `365_day`: every year has 365 days; has a year 0.
    NoLeap,
    /// `all_leap` or `366_day`: every year has 366 days; has a year 0.
    AllLeap,
    /// `360_day`: twelve months of 30 days; has a year 0.
    Day360,
    /// `julian`: a leap year every four years; no year 0, as in cftime.
    Julian,
}

const MONTH_DAYS: [u8; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const CUMULATIVE_NOLEAP: [i64; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
const CUMULATIVE_LEAP: [i64; 13] = [0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366];

/// Unix day number of Gregorian 1582-10-15, the first day of the Gregorian
/// reform in the standard calendar.
const REFORM_DAY: i64 = -141_427;

impl Calendar {
    /// Parse a CF calendar name, ignoring case and surrounding blanks.
    /// `None` when the name is not a calendar arco knows.
    pub fn parse(name: &str) -> Option<Calendar> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "standard" | "gregorian" => Calendar::Standard,
            "proleptic_gregorian" => Calendar::ProlepticGregorian,
            "noleap" | "365_day" => Calendar::NoLeap,
            "all_leap" | "366_day" => Calendar::AllLeap,
            "360_day" => Calendar::Day360,
            "julian" => Calendar::Julian,
            _ => return None,
        })
    }

    /// The canonical CF name: `standard`, `proleptic_gregorian`, `noleap`,
    /// `all_leap`, `360_day` or `julian`.
    pub fn name(self) -> &'static str {
        match self {
            Calendar::Standard => "standard",
            Calendar::ProlepticGregorian => "proleptic_gregorian",
            Calendar::NoLeap => "noleap",
            Calendar::AllLeap => "all_leap",
            Calendar::Day360 => "360_day",
            Calendar::Julian => "julian",
        }
    }

    /// True when the calendar counts a year 0 (all but `standard` and `julian`).
    pub fn has_year_zero(self) -> bool {
        !matches!(self, Calendar::Standard | Calendar::Julian)
    }

    /// True when dates of this calendar can be numpy `datetime64` values
    /// (for `standard`, only from 1582-10-15 on).
    pub fn is_numpy_compatible(self) -> bool {
        matches!(self, Calendar::Standard | Calendar::ProlepticGregorian)
    }

    /// Number of days in `month` (1 to 12) of `year`; 0 for a month out of range.
    pub fn month_length(self, year: i64, month: u8) -> u8 {
        if !(1..=12).contains(&month) {
            return 0;
        }
        let base = MONTH_DAYS[usize::from(month - 1)];
        match self {
            Calendar::Day360 => 30,
            Calendar::NoLeap => base,
            Calendar::AllLeap => {
                if month == 2 {
                    29
                } else {
                    base
                }
            }
            Calendar::ProlepticGregorian | Calendar::Julian | Calendar::Standard => {
                if month == 2 && self.is_leap_year(year) {
                    29
                } else {
                    base
                }
            }
        }
    }

    /// True when `year` (as this calendar numbers it) has a 29th of February
    /// (or, for `360_day`, never).
    pub fn is_leap_year(self, year: i64) -> bool {
        match self {
            Calendar::NoLeap | Calendar::Day360 => false,
            Calendar::AllLeap => true,
            Calendar::ProlepticGregorian => gregorian_leap(year),
            Calendar::Julian => julian_leap(astronomical(self, year)),
            Calendar::Standard => {
                if year < 1582 {
                    julian_leap(astronomical(self, year))
                } else {
                    gregorian_leap(year)
                }
            }
        }
    }

    /// True when `year-month-day` exists in this calendar.
    pub fn is_valid_date(self, year: i64, month: u8, day: u8) -> bool {
        if year == 0 && !self.has_year_zero() {
            return false;
        }
        if !(1..=12).contains(&month) || day == 0 || day > self.month_length(year, month) {
            return false;
        }
        if year.abs() > MAX_ABS_DAYS / 366 {
            return false;
        }
        // The ten days dropped by the Gregorian reform.
        !(self == Calendar::Standard && year == 1582 && month == 10 && (5..15).contains(&day))
    }

    /// The day number of a date; `None` when the date does not exist.
    pub fn days_from_date(self, year: i64, month: u8, day: u8) -> Option<i64> {
        if !self.is_valid_date(year, month, day) {
            return None;
        }
        let (m, d) = (i64::from(month), i64::from(day));
        Some(match self {
            Calendar::ProlepticGregorian => gregorian_days(year, m, d),
            Calendar::Julian => julian_days(astronomical(self, year), m, d),
            Calendar::Standard => {
                if (year, month, day) >= (1582, 10, 15) {
                    gregorian_days(year, m, d)
                } else {
                    julian_days(astronomical(self, year), m, d)
                }
            }
            Calendar::NoLeap => 365 * year + CUMULATIVE_NOLEAP[(month - 1) as usize] + d - 1,
            Calendar::AllLeap => 366 * year + CUMULATIVE_LEAP[(month - 1) as usize] + d - 1,
            Calendar::Day360 => 360 * year + 30 * (m - 1) + d - 1,
        })
    }

    /// The date `(year, month, day)` of a day number; `None` beyond ±2^40 days.
    pub fn date_from_days(self, days: i64) -> Option<(i64, u8, u8)> {
        if days.abs() > MAX_ABS_DAYS {
            return None;
        }
        Some(match self {
            Calendar::ProlepticGregorian => gregorian_date(days),
            Calendar::Julian => {
                let (y, m, d) = julian_date(days);
                (historical(self, y), m, d)
            }
            Calendar::Standard => {
                if days >= REFORM_DAY {
                    gregorian_date(days)
                } else {
                    let (y, m, d) = julian_date(days);
                    (historical(self, y), m, d)
                }
            }
            Calendar::NoLeap => fixed_year_date(days, 365, &CUMULATIVE_NOLEAP),
            Calendar::AllLeap => fixed_year_date(days, 366, &CUMULATIVE_LEAP),
            Calendar::Day360 => {
                let year = days.div_euclid(360);
                let doy = days.rem_euclid(360);
                (year, (doy / 30 + 1) as u8, (doy % 30 + 1) as u8)
            }
        })
    }
}

impl fmt::Display for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Astronomical year (with a year 0) of a year as `calendar` numbers it.
fn astronomical(calendar: Calendar, year: i64) -> i64 {
    if !calendar.has_year_zero() && year < 0 {
        year + 1
    } else {
        year
    }
}

/// Year as `calendar` numbers it, from an astronomical year.
fn historical(calendar: Calendar, year: i64) -> i64 {
    if !calendar.has_year_zero() && year <= 0 {
        year - 1
    } else {
        year
    }
}

fn gregorian_leap(year: i64) -> bool {
    year.rem_euclid(4) == 0 && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0)
}

fn julian_leap(astronomical_year: i64) -> bool {
    astronomical_year.rem_euclid(4) == 0
}

/// Day of a March-based year (March 1 is 0) for month `m` and day `d`.
fn day_of_march_year(m: i64, d: i64) -> i64 {
    let mp = if m > 2 { m - 3 } else { m + 9 };
    (153 * mp + 2) / 5 + d - 1
}

/// Month and day from a day of a March-based year.
fn month_day_of_march_year(doy: i64) -> (u8, u8) {
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (m as u8, d as u8)
}

/// Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn gregorian_days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + day_of_march_year(m, d);
    era * 146_097 + doe - 719_468
}

fn gregorian_date(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let (m, d) = month_day_of_march_year(doy);
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days between the Julian calendar's internal origin (March 1 of year 0) and
/// 1970-01-01 Gregorian: Julian 1582-10-05 is Gregorian 1582-10-15.
const JULIAN_SHIFT: i64 = REFORM_DAY - julian_raw(1582, 10, 5);

const fn julian_raw(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(4);
    let yoe = y - era * 4;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    era * 1461 + yoe * 365 + doy
}

/// Days from 1970-01-01 (Gregorian) of a Julian date with an astronomical year.
fn julian_days(y: i64, m: i64, d: i64) -> i64 {
    julian_raw(y, m, d) + JULIAN_SHIFT
}

fn julian_date(days: i64) -> (i64, u8, u8) {
    let z = days - JULIAN_SHIFT;
    let era = z.div_euclid(1461);
    let doe = z - era * 1461;
    let yoe = (doe - doe / 1460) / 365;
    let doy = doe - 365 * yoe;
    let (m, d) = month_day_of_march_year(doy);
    let y = yoe + era * 4 + i64::from(m <= 2);
    (y, m, d)
}

fn fixed_year_date(days: i64, year_len: i64, cumulative: &[i64; 13]) -> (i64, u8, u8) {
    let year = days.div_euclid(year_len);
    let doy = days.rem_euclid(year_len);
    let month = cumulative[1..].iter().position(|&c| doy < c).unwrap_or(11);
    let day = doy - cumulative[month] + 1;
    (year, (month + 1) as u8, day as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_epoch_is_day_zero_of_the_gregorian_calendars() {
        assert_eq!(
            Calendar::ProlepticGregorian.days_from_date(1970, 1, 1),
            Some(0)
        );
        assert_eq!(Calendar::Standard.days_from_date(1970, 1, 1), Some(0));
        assert_eq!(Calendar::Standard.date_from_days(0), Some((1970, 1, 1)));
    }

    #[test]
    fn the_julian_day_before_the_reform_is_the_eve_of_the_gregorian_reform_day() {
        let reform = Calendar::Standard.days_from_date(1582, 10, 15);
        assert_eq!(reform, Some(REFORM_DAY));
        assert_eq!(
            Calendar::Standard.days_from_date(1582, 10, 4),
            Some(REFORM_DAY - 1)
        );
        assert_eq!(
            Calendar::Julian.days_from_date(1582, 10, 5),
            Some(REFORM_DAY)
        );
        assert_eq!(
            Calendar::Standard.date_from_days(REFORM_DAY - 1),
            Some((1582, 10, 4))
        );
        assert!(!Calendar::Standard.is_valid_date(1582, 10, 10));
        assert!(Calendar::Julian.is_valid_date(1582, 10, 10));
    }

    #[test]
    fn julian_and_standard_calendars_have_no_year_zero() {
        assert!(!Calendar::Julian.is_valid_date(0, 1, 1));
        assert!(!Calendar::Standard.is_valid_date(0, 6, 1));
        assert!(Calendar::ProlepticGregorian.is_valid_date(0, 1, 1));
        let a = Calendar::Julian.days_from_date(-1, 12, 31);
        let b = Calendar::Julian.days_from_date(1, 1, 1);
        assert_eq!(a.map(|a| a + 1), b);
        // Astronomical year 0 (historical 1 BC) is a Julian leap year.
        assert!(Calendar::Julian.is_leap_year(-1));
        assert_eq!(Calendar::Julian.month_length(-1, 2), 29);
    }

    #[test]
    fn leap_years_follow_each_calendar() {
        assert!(Calendar::Julian.is_leap_year(1900));
        assert!(!Calendar::ProlepticGregorian.is_leap_year(1900));
        assert!(!Calendar::Standard.is_leap_year(1900));
        assert!(Calendar::Standard.is_leap_year(1500));
        assert!(Calendar::ProlepticGregorian.is_leap_year(2000));
        assert!(!Calendar::NoLeap.is_leap_year(2000));
        assert!(Calendar::AllLeap.is_leap_year(2001));
        assert_eq!(Calendar::Day360.month_length(2001, 2), 30);
    }

    #[test]
    fn calendar_names_parse_ignoring_case_and_aliases() {
        assert_eq!(Calendar::parse("Gregorian"), Some(Calendar::Standard));
        assert_eq!(Calendar::parse(" 365_day "), Some(Calendar::NoLeap));
        assert_eq!(Calendar::parse("366_DAY"), Some(Calendar::AllLeap));
        assert_eq!(Calendar::parse("bogus"), None);
        assert_eq!(Calendar::Day360.to_string(), "360_day");
    }

    #[test]
    fn day_numbers_round_trip_for_every_calendar_near_the_epoch() {
        for cal in [
            Calendar::Standard,
            Calendar::ProlepticGregorian,
            Calendar::NoLeap,
            Calendar::AllLeap,
            Calendar::Day360,
            Calendar::Julian,
        ] {
            let start = cal.days_from_date(1500, 1, 1).unwrap_or(0);
            let mut prev: Option<(i64, u8, u8)> = None;
            for day in start..start + 200_000 {
                let date = cal.date_from_days(day).unwrap();
                assert_eq!(
                    cal.days_from_date(date.0, date.1, date.2),
                    Some(day),
                    "{cal} {date:?}"
                );
                if let Some(p) = prev {
                    assert!(
                        date > p || (p.0 == -1 && date.0 == 1),
                        "{cal}: {p:?} then {date:?}"
                    );
                }
                prev = Some(date);
            }
        }
    }
}

//! What one field is: parameter, level, times, ensemble member, packing.

use crate::scan::{RawField, Sections};
use crate::tables::{self, LevelType, Param};

/// The identity and coordinates of one field.
#[derive(Debug, Clone)]
pub(crate) struct FieldMeta {
    /// Message offset and chunk length.
    pub offset: u64,
    /// Bytes of the chunk (message start through the field's data section).
    pub length: u64,
    /// 1 or 2.
    pub edition: u8,
    /// Originating centre and sub-centre.
    pub centre: u16,
    /// Sub-centre.
    pub subcentre: u16,
    /// The named parameter, if known.
    pub param: Option<Param>,
    /// Codes identifying the parameter: GRIB2 (discipline, category,
    /// number, extra such as a constituent type); GRIB1 (table, indicator).
    pub param_codes: Vec<i64>,
    /// Level type.
    pub level_type: LevelType,
    /// Level value in the level type's units, when it has one.
    pub level: Option<f64>,
    /// Reference time, seconds since 1970-01-01.
    pub time: i64,
    /// Forecast step (the end of the period for statistics), hours.
    pub step: f64,
    /// instant, avg, accum, max, min, ...
    pub step_type: String,
    /// Ensemble member.
    pub number: Option<i64>,
    /// Members in the ensemble.
    pub total_number: Option<i64>,
    /// ecCodes `dataType`, where known.
    pub data_type: Option<&'static str>,
    /// ecCodes `packingType`.
    pub packing: String,
    /// Bits per packed value.
    pub bits_per_value: u8,
    /// True for 64-bit IEEE packing (read as float64).
    pub float64: bool,
    /// A bitmap applies.
    pub bitmap: bool,
    /// GRIB2 product definition template / GRIB1 table version, for attributes.
    pub product_template: Option<u16>,
    /// Number of vertical coordinate parameters (hybrid levels).
    pub nv: usize,
    /// Raw grid section (GRIB2 section 3 or GRIB1 GDS), for the grid.
    pub grid_section: Option<Vec<u8>>,
}

fn be(b: &[u8], at: usize, n: usize) -> u64 {
    b.get(at..at + n)
        .map(|s| s.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)))
        .unwrap_or(0)
}

fn signed(b: &[u8], at: usize, n: usize) -> i64 {
    let raw = be(b, at, n);
    let sign = 1u64 << (8 * n - 1);
    if raw & sign != 0 {
        -((raw & (sign - 1)) as i64)
    } else {
        raw as i64
    }
}

/// Days from 1970-01-01 to the civil date (proleptic Gregorian).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn epoch_seconds(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> i64 {
    days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
}

/// A GRIB2 scaled value (scale factor, scaled value); `None` when missing.
fn scaled(scale: u8, value: u64) -> Option<f64> {
    if scale == 0xFF || value == 0xFFFF_FFFF {
        return None;
    }
    let s = scale as i8 as i32;
    let s = if scale & 0x80 != 0 {
        -((scale & 0x7f) as i32)
    } else {
        s
    };
    Some(value as f64 / 10f64.powi(s))
}

pub(crate) fn describe(raw: &RawField) -> FieldMeta {
    match &raw.sections {
        Sections::Grib2 {
            discipline,
            sec1,
            sec3,
            sec4,
            sec5,
            bitmap,
        } => grib2(raw, *discipline, sec1, sec3, sec4, sec5, *bitmap),
        Sections::Grib1 {
            pds,
            gds,
            bitmap,
            bds_head,
        } => grib1(raw, pds, gds.as_deref(), *bitmap, bds_head),
    }
}

#[allow(clippy::too_many_arguments)]
fn grib2(
    raw: &RawField,
    discipline: u8,
    sec1: &[u8],
    sec3: &[u8],
    sec4: &[u8],
    sec5: &[u8],
    bitmap: bool,
) -> FieldMeta {
    let centre = be(sec1, 5, 2) as u16;
    let subcentre = be(sec1, 7, 2) as u16;
    let time = epoch_seconds(
        be(sec1, 12, 2) as i64,
        be(sec1, 14, 1) as i64,
        be(sec1, 15, 1) as i64,
        be(sec1, 16, 1) as i64,
        be(sec1, 17, 1) as i64,
        be(sec1, 18, 1) as i64,
    );
    let data_type = tables::data_type(sec1.get(20).copied().unwrap_or(255));
    let nv = be(sec4, 5, 2) as usize;
    let pdt = be(sec4, 7, 2) as u16;
    let category = sec4.get(9).copied().unwrap_or(255);
    let number_code = sec4.get(10).copied().unwrap_or(255);
    // Templates 4.0-4.15 share 4.0's first 34 octets; 4.40-4.43 insert a
    // 2-octet constituent type after the parameter number.
    let (base, shift, mut codes) = match pdt {
        0..=15 => (Some(9usize), 0usize, vec![]),
        40..=43 => (Some(9), 2, vec![be(sec4, 11, 2) as i64]),
        _ => (None, 0, vec![i64::from(pdt)]),
    };
    let mut step = 0.0;
    let mut step_type = "instant".to_string();
    let mut number = None;
    let mut total_number = None;
    let (mut level_type, mut level, mut level_key) =
        (tables::grib2_level(255, 255, None), None, None);
    if let Some(b) = base {
        let o = b + shift;
        let unit = sec4.get(o + 8).copied().unwrap_or(1);
        let ft = be(sec4, o + 9, 4) as f64;
        let secs = tables::time_unit_seconds(unit, false).unwrap_or(3600.0);
        step = ft * secs / 3600.0;
        let t1 = sec4.get(o + 13).copied().unwrap_or(255);
        let v1 = scaled(
            sec4.get(o + 14).copied().unwrap_or(255),
            be(sec4, o + 15, 4),
        );
        let t2 = sec4.get(o + 19).copied().unwrap_or(255);
        let pa = if t1 == 100 { v1 } else { None };
        level_type = tables::grib2_level(t1, t2, pa);
        level = match (t1, v1) {
            (100, Some(v)) if level_type.name == "isobaricInhPa" => Some(v / 100.0),
            (_, v) => v,
        };
        if matches!(t1, 1 | 101) && level.is_none() {
            level = Some(0.0);
        }
        level_key = Some((t1, v1.unwrap_or(0.0)));
        let after = o + 25; // first octet after the fixed surfaces
        let ens = matches!(pdt, 1 | 11 | 41 | 43);
        let mut at = after;
        if ens {
            number = Some(i64::from(sec4.get(at + 1).copied().unwrap_or(0)));
            total_number = Some(i64::from(sec4.get(at + 2).copied().unwrap_or(0)));
            at += 3;
        } else if matches!(pdt, 2 | 12) {
            total_number = Some(i64::from(sec4.get(at + 1).copied().unwrap_or(0)));
            at += 2;
        }
        if matches!(pdt, 8 | 11 | 12 | 42 | 43) {
            // end of overall interval (7 octets), n ranges, missing, then ranges
            let r = at + 12;
            let stat = sec4.get(r).copied().unwrap_or(255);
            step_type = tables::step_type(stat).to_string();
            let lunit = sec4.get(r + 2).copied().unwrap_or(unit);
            let length = be(sec4, r + 3, 4) as f64;
            let lsecs = tables::time_unit_seconds(lunit, false).unwrap_or(3600.0);
            step += length * lsecs / 3600.0;
        }
    }
    let param = tables::grib2_param(discipline, category, number_code, level_key)
        .filter(|_| codes.is_empty() || pdt == 40 || pdt == 41);
    let mut param_codes = vec![
        i64::from(discipline),
        i64::from(category),
        i64::from(number_code),
    ];
    param_codes.append(&mut codes);
    let template5 = be(sec5, 9, 2) as u16;
    let float64 = template5 == 4 && sec5.get(11).copied() == Some(2);
    FieldMeta {
        offset: raw.offset,
        length: raw.length,
        edition: 2,
        centre,
        subcentre,
        param,
        param_codes,
        level_type,
        level,
        time,
        step,
        step_type,
        number,
        total_number,
        data_type,
        packing: tables::grib2_packing(template5),
        bits_per_value: if template5 == 4 {
            if float64 {
                64
            } else {
                32
            }
        } else {
            sec5.get(19).copied().unwrap_or(0)
        },
        float64,
        bitmap,
        product_template: Some(pdt),
        nv,
        grid_section: Some(sec3.to_vec()),
    }
}

fn grib1(
    raw: &RawField,
    pds: &[u8],
    gds: Option<&[u8]>,
    bitmap: bool,
    bds_head: &[u8],
) -> FieldMeta {
    let table = pds.get(3).copied().unwrap_or(0);
    let centre = u16::from(pds.get(4).copied().unwrap_or(0));
    let indicator = pds.get(8).copied().unwrap_or(0);
    let lt = pds.get(9).copied().unwrap_or(0);
    let level_type = tables::grib1_level(lt);
    let (l1, l2) = (be(pds, 10, 1), be(pds, 11, 1));
    let level = match lt {
        // Layers and single-octet pairs: the first octet is the top.
        101 | 104 | 106 | 108 | 110 | 112 | 114 | 116 | 120 | 121 | 128 | 141 => Some(l1 as f64),
        1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 102 | 200 | 201 => Some(0.0),
        _ => Some((l1 * 256 + l2) as f64),
    };
    let century = i64::from(pds.get(24).copied().unwrap_or(21));
    let yoc = i64::from(pds.get(12).copied().unwrap_or(0));
    let year = (century - 1) * 100 + yoc;
    let time = epoch_seconds(
        year,
        be(pds, 13, 1) as i64,
        be(pds, 14, 1) as i64,
        be(pds, 15, 1) as i64,
        be(pds, 16, 1) as i64,
        0,
    );
    let unit = pds.get(17).copied().unwrap_or(1);
    let secs = tables::time_unit_seconds(unit, true).unwrap_or(3600.0);
    let (p1, p2) = (be(pds, 18, 1) as f64, be(pds, 19, 1) as f64);
    let tri = pds.get(20).copied().unwrap_or(0);
    let (raw_step, step_type) = match tri {
        0 | 1 => (p1, "instant"),
        10 => (be(pds, 18, 2) as f64, "instant"),
        2 => (p2, "max"),
        3 => (p2, "avg"),
        4 => (p2, "accum"),
        5 => (p2, "diff"),
        _ => (p1, "instant"),
    };
    let subcentre = u16::from(pds.get(25).copied().unwrap_or(0));
    // ECMWF local definitions 1, 36, ... (MARS labelling): type and ensemble member.
    let (mut data_type, mut number, mut total_number) = (None, None, None);
    if centre == 98 && pds.len() > 50 && matches!(pds[40], 1 | 15 | 16 | 18 | 19 | 26 | 30 | 36) {
        data_type = tables::mars_type(pds[42]);
        number = Some(i64::from(pds[49]));
        total_number = Some(i64::from(pds[50]));
    }
    let lvl_for_param = level.map(|v| (lt, v));
    let param = tables::grib1_param(centre, table, indicator, lvl_for_param);
    let bflags = bds_head.get(3).copied().unwrap_or(0);
    let packing = match (bflags & 0x80 != 0, bflags & 0x40 != 0) {
        (true, true) => "spectral_complex",
        (true, false) => "spectral_simple",
        (false, true) => "grid_second_order",
        (false, false) => "grid_simple",
    };
    let nv = gds.map_or(0, |g| usize::from(g.get(3).copied().unwrap_or(0)));
    let _ = signed(pds, 26, 2);
    FieldMeta {
        offset: raw.offset,
        length: raw.length,
        edition: 1,
        centre,
        subcentre,
        param,
        param_codes: vec![i64::from(table), i64::from(indicator)],
        level_type,
        level,
        time,
        step: raw_step * secs / 3600.0,
        step_type: step_type.to_string(),
        number,
        total_number,
        data_type,
        packing: packing.to_string(),
        bits_per_value: bds_head.get(10).copied().unwrap_or(0),
        float64: false,
        bitmap,
        product_template: None,
        nv,
        grid_section: gds.map(<[u8]>::to_vec),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_count_days_from_the_epoch() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(epoch_seconds(2017, 1, 1, 12, 0, 0), 1_483_272_000);
    }
}

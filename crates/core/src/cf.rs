//! CF-convention semantics: time units and calendars, packing, fill values,
//! flags, grid mappings and bounds.
//!
//! Decoding matches xarray's `decode_cf` with `mask_and_scale=True` and
//! `decode_times=True` (xarray 2026.9 with numpy 2 and cftime 1.6), because
//! arco's output is judged by `xarray.open_zarr(out) == xarray.open_dataset(src)`:
//!
//! * [`CfDecoder`] masks fill values and unpacks `scale_factor`/`add_offset`
//!   (the exact type rule is in its documentation);
//! * [`TimeUnits`] reads `UNIT since DATE` units in any CF [`Calendar`] and turns
//!   numbers into [`CalDateTime`]s, with arco's own calendar arithmetic;
//! * [`decode_variable`] does both, in xarray's order;
//! * [`flags`], [`grid_mapping`], [`bounds_of`], [`coordinates`] and [`axis_kind`]
//!   read the metadata catalogues need.
//!
//! Nothing here performs I/O.

mod calendar;
mod meta;
mod packing;
mod time;

pub use calendar::Calendar;
pub use meta::{
    axis_kind, bounds_of, coordinates, flags, grid_mapping, grid_mapping_name, grid_mappings,
    resolve, with_bounds_time_attributes, Axis, Flags,
};
pub use packing::{mask_and_scale, CfDecoder};
pub use time::{is_time_units, CalDateTime, TimeUnit, TimeUnits};

use crate::error::Result;
use crate::model::Variable;
use crate::values::{AttrValue, Values};
use std::borrow::Cow;

/// A variable's values after CF decoding.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded<'a> {
    /// Masked and unpacked numbers (or the stored values themselves when no CF
    /// attribute applies).
    Numeric(Cow<'a, Values>),
    /// Dates, `None` where the value was masked or NaN, with the units they were
    /// decoded from.
    Time(Vec<Option<CalDateTime>>, TimeUnits),
}

/// Decode `values` (the stored elements of `var`, in C order) as xarray's
/// `decode_cf` does: mask fill values and unpack (see [`CfDecoder`]), then, when
/// the `units` attribute contains `since`, decode times with the `calendar`
/// attribute (missing means `standard`); a masked element becomes `None`.
///
/// Errors when a packing attribute is not a number, or when the units contain
/// `since` but cannot be decoded (xarray then fails to open the dataset unless
/// asked not to decode times; callers may fall back to the numbers). Time units
/// on non-numeric values are ignored.
pub fn decode_variable<'a>(var: &Variable, values: &'a Values) -> Result<Decoded<'a>> {
    let numeric = CfDecoder::new(var)?.decode(values)?;
    let Some(units) = var
        .attr("units")
        .and_then(AttrValue::as_str)
        .filter(|u| u.contains("since"))
    else {
        return Ok(Decoded::Numeric(numeric));
    };
    let calendar = var.attr("calendar").and_then(AttrValue::as_str);
    let dates = match numeric.as_ref() {
        Values::F64(v) => Some(v.clone()),
        Values::F32(v) => Some(v.iter().map(|&x| f64::from(x)).collect()),
        _ => None,
    };
    let ints = match numeric.as_ref() {
        Values::I64(v) => Some(v.clone()),
        Values::I8(v) => Some(v.iter().map(|&x| i64::from(x)).collect()),
        Values::I16(v) => Some(v.iter().map(|&x| i64::from(x)).collect()),
        Values::I32(v) => Some(v.iter().map(|&x| i64::from(x)).collect()),
        Values::U8(v) => Some(v.iter().map(|&x| i64::from(x)).collect()),
        Values::U16(v) => Some(v.iter().map(|&x| i64::from(x)).collect()),
        Values::U32(v) => Some(v.iter().map(|&x| i64::from(x)).collect()),
        // numpy's uint64 -> int64 cast wraps.
        Values::U64(v) => Some(v.iter().map(|&x| x as i64).collect::<Vec<i64>>()),
        _ => None,
    };
    if dates.is_none() && ints.is_none() {
        return Ok(Decoded::Numeric(numeric));
    }
    let time = TimeUnits::parse(units, calendar, &var.path)?;
    let decoded = match (dates, ints) {
        (Some(d), _) => time.decode_all(&d),
        (None, Some(i)) => time.decode_all_int(&i),
        (None, None) => Vec::new(),
    };
    Ok(Decoded::Time(decoded, time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::{DType, Endian};
    use crate::model::{Dataset, Group, StorageLayout};
    use crate::values::Attribute;

    fn num(name: &str, v: Values, dtype: DType) -> Attribute {
        Attribute {
            name: name.into(),
            value: AttrValue::Array(v),
            dtype,
        }
    }

    fn var(path: &str, dtype: DType, attributes: Vec<Attribute>) -> Variable {
        let name = path.rsplit('/').next().unwrap_or(path).to_string();
        Variable {
            name: name.clone(),
            path: path.into(),
            dims: vec![name],
            shape: vec![3],
            dtype,
            endian: Endian::Little,
            layout: StorageLayout::Contiguous,
            chunk_shape: None,
            codecs: Vec::new(),
            fill_value: None,
            attributes,
        }
    }

    fn dates(d: &Decoded<'_>) -> Vec<String> {
        match d {
            Decoded::Time(v, _) => v
                .iter()
                .map(|d| d.map(|d| d.to_string()).unwrap_or_else(|| "NaT".into()))
                .collect(),
            Decoded::Numeric(v) => panic!("expected times, got {v:?}"),
        }
    }

    // Expected dates checked with xarray 2026.9.0 `decode_cf`.

    #[test]
    fn packed_integer_times_are_unpacked_before_decoding() {
        let v = var(
            "/time",
            DType::I32,
            vec![
                Attribute::text("units", "days since 2000-01-01"),
                num("scale_factor", Values::F32(vec![0.5]), DType::F32),
                num("add_offset", Values::F32(vec![1.0]), DType::F32),
            ],
        );
        let values = Values::I32(vec![0, 1, 2]);
        let d = decode_variable(&v, &values).unwrap();
        assert_eq!(
            dates(&d),
            [
                "2000-01-02T00:00:00",
                "2000-01-02T12:00:00",
                "2000-01-03T00:00:00"
            ]
        );
    }

    #[test]
    fn fill_values_in_times_become_nat() {
        let v = var(
            "/time",
            DType::F32,
            vec![
                Attribute::text("units", "hours since 2000-01-01"),
                num("_FillValue", Values::F32(vec![1.0]), DType::F32),
            ],
        );
        let values = Values::F32(vec![0.0, 1.0, 3.5]);
        let d = decode_variable(&v, &values).unwrap();
        assert_eq!(
            dates(&d),
            ["2000-01-01T00:00:00", "NaT", "2000-01-01T03:30:00"]
        );
        let v = var(
            "/time",
            DType::I16,
            vec![
                Attribute::text("units", "days since 2000-01-01"),
                num("_FillValue", Values::I16(vec![-32767]), DType::I16),
            ],
        );
        let values = Values::I16(vec![0, 1, -32767]);
        let d = decode_variable(&v, &values).unwrap();
        assert_eq!(
            dates(&d),
            ["2000-01-01T00:00:00", "2000-01-02T00:00:00", "NaT"]
        );
    }

    #[test]
    fn the_calendar_attribute_is_honoured() {
        let v = var(
            "/time",
            DType::U8,
            vec![
                Attribute::text("units", "days since 2000-01-01"),
                Attribute::text("calendar", "all_leap"),
            ],
        );
        let values = Values::U16(vec![59, 60, 366]);
        let d = decode_variable(&v, &values).unwrap();
        assert_eq!(
            dates(&d),
            [
                "2000-02-29T00:00:00",
                "2000-03-01T00:00:00",
                "2001-01-01T00:00:00"
            ]
        );
        let Decoded::Time(_, units) = d else {
            panic!("expected times")
        };
        assert_eq!(units.calendar, Calendar::AllLeap);
    }

    #[test]
    fn variables_without_time_units_stay_numeric() {
        let v = var("/t", DType::F64, vec![Attribute::text("units", "K")]);
        let values = Values::F64(vec![1.0, 2.0, 3.0]);
        let d = decode_variable(&v, &values).unwrap();
        assert!(matches!(d, Decoded::Numeric(Cow::Borrowed(_))));
    }

    #[test]
    fn undecodable_time_units_are_errors_naming_the_variable() {
        let v = var(
            "/grp/time",
            DType::F64,
            vec![Attribute::text("units", "months since 2000-01-01")],
        );
        let e = decode_variable(&v, &Values::F64(vec![0.0]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/grp/time") && e.contains("units"), "{e}");
    }

    #[test]
    fn time_bounds_inherit_units_and_calendar_from_their_time_variable() {
        let mut ds = dataset();
        ds.root.variables[1]
            .attributes
            .push(Attribute::text("calendar", "noleap"));
        let bnds = ds.variable("time_bnds").unwrap();
        let inherited = with_bounds_time_attributes(bnds, &ds.root);
        assert!(matches!(inherited, Cow::Owned(_)));
        let values = Values::F64(vec![0.0, 59.0, 365.0]);
        let d = decode_variable(&inherited, &values).unwrap();
        assert_eq!(
            dates(&d),
            [
                "2000-01-01T00:00:00",
                "2000-03-01T00:00:00",
                "2001-01-01T00:00:00"
            ]
        );
        // Nothing to inherit: the variable itself comes back.
        let time = ds.variable("time").unwrap();
        assert!(matches!(
            with_bounds_time_attributes(time, &ds.root),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn flags_pair_values_with_meanings() {
        let v = var(
            "/q",
            DType::I8,
            vec![
                num("flag_values", Values::I8(vec![0, 1, 2]), DType::I8),
                Attribute::text("flag_meanings", "good  suspect\tbad"),
            ],
        );
        let f = flags(&v).unwrap().unwrap();
        assert_eq!(f.values, Some(vec![0.0, 1.0, 2.0]));
        assert_eq!(f.masks, None);
        assert_eq!(f.meanings, ["good", "suspect", "bad"]);
        let v = var(
            "/q",
            DType::U8,
            vec![
                num("flag_masks", Values::U8(vec![1, 2]), DType::U8),
                Attribute::text("flag_meanings", "land ice cloud"),
            ],
        );
        let e = flags(&v).unwrap_err().to_string();
        assert!(
            e.contains("flag_masks") && e.contains("2 entries") && e.contains("3 words"),
            "{e}"
        );
        assert_eq!(flags(&var("/x", DType::I8, vec![])).unwrap(), None);
        let v = var(
            "/q",
            DType::I8,
            vec![Attribute::text("flag_values", "0b, 1b")],
        );
        assert_eq!(
            flags(&v).unwrap().and_then(|f| f.values),
            Some(vec![0.0, 1.0])
        );
    }

    #[test]
    fn coordinates_split_on_blanks() {
        let v = var(
            "/tas",
            DType::F32,
            vec![Attribute::text("coordinates", " lat  lon\theight ")],
        );
        assert_eq!(coordinates(&v), ["lat", "lon", "height"]);
        assert!(coordinates(&var("/tas", DType::F32, vec![])).is_empty());
    }

    fn dataset() -> Dataset {
        let mut root = Group::new("", "/");
        let mut crs = var(
            "/crs",
            DType::I32,
            vec![Attribute::text(
                "grid_mapping_name",
                "lambert_conformal_conic",
            )],
        );
        crs.dims.clear();
        root.variables.push(crs);
        root.variables.push(var(
            "/time",
            DType::F64,
            vec![
                Attribute::text("units", "days since 2000-01-01"),
                Attribute::text("bounds", "time_bnds"),
            ],
        ));
        root.variables.push(var("/time_bnds", DType::F64, vec![]));
        let mut sub = Group::new("sub", "/sub");
        sub.variables.push(var(
            "/sub/tas",
            DType::F32,
            vec![Attribute::text("grid_mapping", "crs")],
        ));
        sub.variables.push(var(
            "/sub/pr",
            DType::F32,
            vec![Attribute::text(
                "grid_mapping",
                "crs_osgb: x y crs: lat lon",
            )],
        ));
        root.groups.push(sub);
        Dataset {
            source: "mem".into(),
            format: "netcdf4".into(),
            size: 0,
            root,
        }
    }

    #[test]
    fn grid_mappings_are_found_in_enclosing_groups() {
        let ds = dataset();
        let tas = ds.variable("/sub/tas").unwrap();
        assert_eq!(
            grid_mapping(tas, &ds).map(|v| v.path.as_str()),
            Some("/crs")
        );
        assert_eq!(grid_mapping_name(tas, &ds), Some("lambert_conformal_conic"));
        let pr = ds.variable("/sub/pr").unwrap();
        assert_eq!(
            grid_mappings(pr),
            vec![
                (
                    "crs_osgb".to_string(),
                    vec!["x".to_string(), "y".to_string()]
                ),
                (
                    "crs".to_string(),
                    vec!["lat".to_string(), "lon".to_string()]
                ),
            ]
        );
        // crs_osgb does not exist, so the first mapping that resolves is used.
        assert_eq!(grid_mapping(pr, &ds).map(|v| v.path.as_str()), Some("/crs"));
        assert!(resolve("/sub/tas", pr, &ds).is_some());
        assert!(resolve("nothing", pr, &ds).is_none());
    }

    #[test]
    fn bounds_are_looked_up_in_the_group() {
        let ds = dataset();
        let time = ds.variable("time").unwrap();
        assert_eq!(
            bounds_of(time, &ds.root).map(|v| v.path.as_str()),
            Some("/time_bnds")
        );
        let bnds = ds.variable("time_bnds").unwrap();
        assert!(bounds_of(bnds, &ds.root).is_none());
    }

    #[test]
    fn axes_come_from_axis_positive_units_and_standard_names() {
        let t = |attrs: Vec<Attribute>| axis_kind(&var("/c", DType::F64, attrs));
        assert_eq!(t(vec![Attribute::text("axis", "x")]), Some(Axis::X));
        assert_eq!(t(vec![Attribute::text("positive", "down")]), Some(Axis::Z));
        assert_eq!(
            t(vec![Attribute::text("units", "hours since 1900-01-01")]),
            Some(Axis::T)
        );
        assert_eq!(
            t(vec![Attribute::text("units", "degrees_north")]),
            Some(Axis::Y)
        );
        assert_eq!(t(vec![Attribute::text("units", "degree_E")]), Some(Axis::X));
        assert_eq!(
            t(vec![Attribute::text(
                "standard_name",
                "projection_y_coordinate"
            )]),
            Some(Axis::Y)
        );
        assert_eq!(
            t(vec![Attribute::text(
                "standard_name",
                "atmosphere_hybrid_sigma_pressure_coordinate"
            )]),
            Some(Axis::Z)
        );
        assert_eq!(t(vec![Attribute::text("units", "K")]), None);
        // Pressure units mark a vertical axis only on a coordinate variable.
        let mut p = var("/plev", DType::F64, vec![Attribute::text("units", "hPa")]);
        assert_eq!(axis_kind(&p), Some(Axis::Z));
        p.dims = vec!["time".into()];
        assert_eq!(axis_kind(&p), None);
    }
}

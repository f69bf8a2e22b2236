//! CoverageJSON (<https://covjson.org>, OGC Community Standard 21-069r2)
//! documents from plain inputs: domains (`Point`, `PointSeries`,
//! `VerticalProfile`, `Grid`, `PolygonSeries`, or a domain without a type for
//! a series along a dimension that is neither time nor vertical),
//! parameters, `NdArray` ranges (NaN written as `null`), coverages and
//! coverage collections; and [`validate`], which checks a document against
//! the official CoverageJSON JSON Schema vendored under
//! `crates/server/schemas/coveragejson/` (origin and licence in its
//! `README.md`).

use serde_json::{json, Map, Value};
use std::sync::OnceLock;

/// The CoverageJSON media type.
pub const MEDIA_TYPE: &str = "application/vnd.cov+json";
/// The media type CoverageJSON had before its registration, still sent by clients.
pub const MEDIA_TYPE_OLD: &str = "application/prs.coverage+json";
/// OGC CRS84: WGS 84 longitude, latitude in degrees.
pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
/// Where NERC's vocabulary server lists CF standard names.
pub const CF_STANDARD_NAMES: &str = "http://vocab.nerc.ac.uk/standard_name/";

/// What a parameter measures, from a variable's CF attributes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parameter {
    /// `long_name`, if any.
    pub description: Option<String>,
    /// A short label (`long_name`, else `standard_name`, else the name).
    pub label: String,
    /// `units`, if any.
    pub units: Option<String>,
    /// `standard_name`, if any (the observed property's id links to it).
    pub standard_name: Option<String>,
    /// Values are integers (an integer variable without scaling).
    pub integer: bool,
}

impl Parameter {
    /// The CoverageJSON Parameter object.
    pub fn to_json(&self) -> Value {
        let mut p = Map::new();
        p.insert("type".into(), json!("Parameter"));
        if let Some(d) = &self.description {
            p.insert("description".into(), json!({ "en": d }));
        }
        if let Some(u) = &self.units {
            p.insert("unit".into(), json!({ "symbol": u }));
        }
        let mut op = Map::new();
        if let Some(s) = &self.standard_name {
            op.insert("id".into(), json!(format!("{CF_STANDARD_NAMES}{s}/")));
        }
        op.insert("label".into(), json!({ "en": self.label }));
        p.insert("observedProperty".into(), Value::Object(op));
        Value::Object(p)
    }
}

/// The horizontal reference system of a domain's `x` and `y`.
#[derive(Debug, Clone, PartialEq)]
pub enum HorizontalCrs {
    /// Longitude, latitude in degrees (OGC CRS84).
    Crs84,
    /// Projected coordinates (metres) of a CRS known by EPSG code or WKT.
    Projected {
        /// The EPSG code, when the CRS is one.
        epsg: Option<u32>,
        /// The CRS as WKT2, when it can be written.
        wkt: Option<String>,
    },
}

impl HorizontalCrs {
    fn system(&self) -> Value {
        match self {
            HorizontalCrs::Crs84 => json!({ "type": "GeographicCRS", "id": CRS84 }),
            HorizontalCrs::Projected { epsg, wkt } => {
                let mut s = Map::new();
                s.insert("type".into(), json!("ProjectedCRS"));
                if let Some(code) = epsg {
                    s.insert(
                        "id".into(),
                        json!(format!("http://www.opengis.net/def/crs/EPSG/0/{code}")),
                    );
                }
                if let Some(w) = wkt {
                    s.insert("wkt".into(), json!(w));
                }
                Value::Object(s)
            }
        }
    }
}

/// A time axis: ISO 8601 labels in a CF calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeAxis {
    /// The labels (`2020-01-01T00:00:00Z`).
    pub values: Vec<String>,
    /// The CF calendar name (`standard`, `noleap`, ...).
    pub calendar: String,
}

impl TimeAxis {
    fn system(&self) -> Value {
        match self.calendar.as_str() {
            // Dates after 1582 are the same in both.
            "standard" | "gregorian" | "proleptic_gregorian" => {
                json!({ "type": "TemporalRS", "calendar": "Gregorian" })
            }
            other => json!({
                "type": "TemporalRS",
                "calendar": "https://cfconventions.org/Data/cf-conventions/cf-conventions-1.11/cf-conventions.html#calendar",
                "description": { "en": format!("CF calendar {other}") },
            }),
        }
    }
}

/// A vertical axis: levels of a vertical coordinate.
#[derive(Debug, Clone, PartialEq)]
pub struct VerticalAxis {
    /// The coordinate's name (`isobaricInhPa`, `depth`).
    pub name: String,
    /// The levels.
    pub values: Vec<f64>,
    /// Their units, if any.
    pub units: Option<String>,
    /// `Some(true)` when values increase downwards (pressure, depth).
    pub positive_down: Option<bool>,
}

impl VerticalAxis {
    fn system(&self) -> Value {
        let mut axis = Map::new();
        axis.insert("name".into(), json!({ "en": self.name }));
        if let Some(down) = self.positive_down {
            axis.insert("direction".into(), json!(if down { "down" } else { "up" }));
        }
        if let Some(u) = &self.units {
            axis.insert("unit".into(), json!({ "symbol": u }));
        }
        json!({ "type": "VerticalCRS", "cs": { "csAxes": [Value::Object(axis)] } })
    }
}

/// The CoverageJSON domain types arco writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainType {
    /// One position, optionally at one time and level.
    Point,
    /// One position, a series of times.
    PointSeries,
    /// One position, a series of levels.
    VerticalProfile,
    /// A grid of x, y, optionally z and t.
    Grid,
    /// One polygon, a series of times.
    PolygonSeries,
}

impl DomainType {
    /// The name written in `domainType`.
    pub fn name(self) -> &'static str {
        match self {
            DomainType::Point => "Point",
            DomainType::PointSeries => "PointSeries",
            DomainType::VerticalProfile => "VerticalProfile",
            DomainType::Grid => "Grid",
            DomainType::PolygonSeries => "PolygonSeries",
        }
    }
}

/// A domain: where (and when) the values of a coverage are.
#[derive(Debug, Clone, PartialEq)]
pub struct Domain {
    /// The domain type; `None` for a series along a custom axis.
    pub domain_type: Option<DomainType>,
    /// `x` values (longitudes or projected x); one for points.
    pub x: Vec<f64>,
    /// `y` values; one for points.
    pub y: Vec<f64>,
    /// The vertical axis, if any.
    pub z: Option<VerticalAxis>,
    /// The time axis, if any.
    pub t: Option<TimeAxis>,
    /// For `PolygonSeries`: the polygon, as GeoJSON polygon coordinates
    /// (rings of `[x, y]`); replaces `x` and `y`.
    pub polygon: Option<Value>,
    /// For a domain without a type: a custom axis `(name, labels)` the
    /// values run along.
    pub custom: Option<(String, Vec<Value>)>,
    /// The horizontal reference system.
    pub crs: HorizontalCrs,
}

impl Domain {
    /// The axes the range values run along, outermost first, with their
    /// lengths: `t` for series, `z` for profiles, `t, z, y, x` (those
    /// present) for grids, the custom axis for an untyped domain, none for
    /// a point.
    pub fn range_axes(&self) -> Vec<(String, usize)> {
        let t = self.t.as_ref().map(|t| ("t".to_string(), t.values.len()));
        let z = self.z.as_ref().map(|z| ("z".to_string(), z.values.len()));
        match self.domain_type {
            Some(DomainType::Point) => vec![],
            Some(DomainType::PointSeries) | Some(DomainType::PolygonSeries) => {
                t.into_iter().collect()
            }
            Some(DomainType::VerticalProfile) => z.into_iter().collect(),
            Some(DomainType::Grid) => t
                .into_iter()
                .chain(z)
                .chain([
                    ("y".to_string(), self.y.len()),
                    ("x".to_string(), self.x.len()),
                ])
                .collect(),
            None => self
                .custom
                .as_ref()
                .map(|(n, v)| (n.clone(), v.len()))
                .into_iter()
                .collect(),
        }
    }

    /// The number of values a range over this domain holds.
    pub fn size(&self) -> usize {
        self.range_axes().iter().map(|(_, n)| *n).product()
    }

    /// The CoverageJSON Domain object.
    pub fn to_json(&self) -> Value {
        let mut axes = Map::new();
        let mut referencing = Vec::new();
        match &self.polygon {
            Some(p) => {
                axes.insert(
                    "composite".into(),
                    json!({ "dataType": "polygon", "coordinates": ["x", "y"], "values": [p] }),
                );
                referencing.push(json!({ "coordinates": ["x", "y"], "system": self.crs.system() }));
            }
            None => {
                axes.insert("x".into(), json!({ "values": self.x }));
                axes.insert("y".into(), json!({ "values": self.y }));
                referencing.push(json!({ "coordinates": ["x", "y"], "system": self.crs.system() }));
            }
        }
        if let Some(z) = &self.z {
            axes.insert("z".into(), json!({ "values": z.values }));
            referencing.push(json!({ "coordinates": ["z"], "system": z.system() }));
        }
        if let Some(t) = &self.t {
            axes.insert("t".into(), json!({ "values": t.values }));
            referencing.push(json!({ "coordinates": ["t"], "system": t.system() }));
        }
        if let Some((name, values)) = &self.custom {
            axes.insert(name.clone(), json!({ "values": values }));
        }
        let mut d = Map::new();
        d.insert("type".into(), json!("Domain"));
        if let Some(dt) = self.domain_type {
            d.insert("domainType".into(), json!(dt.name()));
        }
        d.insert("axes".into(), Value::Object(axes));
        d.insert("referencing".into(), Value::Array(referencing));
        Value::Object(d)
    }
}

/// A number as JSON: `null` for NaN and infinities, an integer when asked.
fn number(v: f64, integer: bool) -> Value {
    if !v.is_finite() {
        Value::Null
    } else if integer && v.fract() == 0.0 && v.abs() < 9.0e15 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

/// An `NdArray` of `values` (row-major over `axes`, `(name, length)`);
/// NaN is `null`. With no axes the array holds one value and carries no
/// `shape` or `axisNames`.
pub fn ndarray(values: &[f64], integer: bool, axes: &[(String, usize)]) -> Value {
    let mut a = Map::new();
    a.insert("type".into(), json!("NdArray"));
    a.insert(
        "dataType".into(),
        json!(if integer { "integer" } else { "float" }),
    );
    if !axes.is_empty() {
        a.insert(
            "axisNames".into(),
            json!(axes.iter().map(|(n, _)| n).collect::<Vec<_>>()),
        );
        a.insert(
            "shape".into(),
            json!(axes.iter().map(|(_, n)| n).collect::<Vec<_>>()),
        );
    }
    a.insert(
        "values".into(),
        Value::Array(values.iter().map(|&v| number(v, integer)).collect()),
    );
    Value::Object(a)
}

/// One parameter of a coverage: its key, metadata and values (row-major
/// over the domain's [`Domain::range_axes`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    /// The parameter key (the variable name).
    pub key: String,
    /// What it measures.
    pub parameter: Parameter,
    /// The values, NaN where missing.
    pub values: Vec<f64>,
}

/// A Coverage: the domain, each range's parameter and its `NdArray`.
pub fn coverage(domain: &Domain, ranges: &[Range]) -> Value {
    let axes = domain.range_axes();
    let mut parameters = Map::new();
    let mut out = Map::new();
    for r in ranges {
        parameters.insert(r.key.clone(), r.parameter.to_json());
        out.insert(
            r.key.clone(),
            ndarray(&r.values, r.parameter.integer, &axes),
        );
    }
    let mut c = Map::new();
    c.insert("type".into(), json!("Coverage"));
    if let Some(dt) = domain.domain_type {
        c.insert("domainType".into(), json!(dt.name()));
    }
    c.insert("domain".into(), domain.to_json());
    c.insert("parameters".into(), Value::Object(parameters));
    c.insert("ranges".into(), Value::Object(out));
    Value::Object(c)
}

/// A CoverageCollection of `coverages` (each as [`coverage`] writes it);
/// the collection also lists every parameter, and its `domainType` when all
/// coverages share one.
pub fn collection(coverages: Vec<Value>) -> Value {
    let mut parameters = Map::new();
    let mut types: Vec<&str> = Vec::new();
    for c in &coverages {
        if let Some(p) = c.get("parameters").and_then(Value::as_object) {
            for (k, v) in p {
                parameters.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        let t = c.get("domainType").and_then(Value::as_str).unwrap_or("");
        if !types.contains(&t) {
            types.push(t);
        }
    }
    let mut out = Map::new();
    out.insert("type".into(), json!("CoverageCollection"));
    if let [t] = types.as_slice() {
        if !t.is_empty() {
            out.insert("domainType".into(), json!(t));
        }
    }
    out.insert("parameters".into(), Value::Object(parameters));
    out.insert("coverages".into(), Value::Array(coverages));
    Value::Object(out)
}

/// The vendored schema files, by name.
const SCHEMAS: &[(&str, &str)] = &[
    (
        "anyAxis",
        include_str!("../schemas/coveragejson/anyAxis.json"),
    ),
    (
        "coverage",
        include_str!("../schemas/coveragejson/coverage.json"),
    ),
    (
        "coverageBase",
        include_str!("../schemas/coveragejson/coverageBase.json"),
    ),
    (
        "coverageCollection",
        include_str!("../schemas/coveragejson/coverageCollection.json"),
    ),
    (
        "coveragejson",
        include_str!("../schemas/coveragejson/coveragejson.json"),
    ),
    (
        "domain",
        include_str!("../schemas/coveragejson/domain.json"),
    ),
    (
        "domainBase",
        include_str!("../schemas/coveragejson/domainBase.json"),
    ),
    ("i18n", include_str!("../schemas/coveragejson/i18n.json")),
    (
        "ndArray",
        include_str!("../schemas/coveragejson/ndArray.json"),
    ),
    (
        "numericAxis",
        include_str!("../schemas/coveragejson/numericAxis.json"),
    ),
    (
        "numericRegularlySpacedAxis",
        include_str!("../schemas/coveragejson/numericRegularlySpacedAxis.json"),
    ),
    (
        "numericSingleValueAxis",
        include_str!("../schemas/coveragejson/numericSingleValueAxis.json"),
    ),
    (
        "numericValuesAxis",
        include_str!("../schemas/coveragejson/numericValuesAxis.json"),
    ),
    (
        "observedProperty",
        include_str!("../schemas/coveragejson/observedProperty.json"),
    ),
    (
        "parameter",
        include_str!("../schemas/coveragejson/parameter.json"),
    ),
    (
        "parameterGroup",
        include_str!("../schemas/coveragejson/parameterGroup.json"),
    ),
    (
        "polygonValuesAxis",
        include_str!("../schemas/coveragejson/polygonValuesAxis.json"),
    ),
    (
        "primitiveValuesAxis",
        include_str!("../schemas/coveragejson/primitiveValuesAxis.json"),
    ),
    (
        "referenceSystem",
        include_str!("../schemas/coveragejson/referenceSystem.json"),
    ),
    (
        "referenceSystemConnection",
        include_str!("../schemas/coveragejson/referenceSystemConnection.json"),
    ),
    (
        "stringSingleValueAxis",
        include_str!("../schemas/coveragejson/stringSingleValueAxis.json"),
    ),
    (
        "stringValuesAxis",
        include_str!("../schemas/coveragejson/stringValuesAxis.json"),
    ),
    (
        "targetConcept",
        include_str!("../schemas/coveragejson/targetConcept.json"),
    ),
    (
        "tiledNdArray",
        include_str!("../schemas/coveragejson/tiledNdArray.json"),
    ),
    (
        "tupleValuesAxis",
        include_str!("../schemas/coveragejson/tupleValuesAxis.json"),
    ),
    ("unit", include_str!("../schemas/coveragejson/unit.json")),
    (
        "valuesAxis",
        include_str!("../schemas/coveragejson/valuesAxis.json"),
    ),
    (
        "valuesAxisBase",
        include_str!("../schemas/coveragejson/valuesAxisBase.json"),
    ),
];

fn compile() -> Result<jsonschema::Validator, String> {
    let mut root = None;
    let mut resources = Vec::with_capacity(SCHEMAS.len());
    for (name, text) in SCHEMAS {
        // The files name each other by absolute paths (`"$id": "/schemas/x"`,
        // `"$ref": "/schemas/x"`); give those a base URI so they resolve
        // among the registered resources.
        let text = text.replace("\"/schemas/", "\"json-schema:///schemas/");
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| format!("vendored CoverageJSON schema {name}.json is not JSON: {e}"))?;
        if *name == "coveragejson" {
            root = Some(v.clone());
        }
        let r = jsonschema::Resource::from_contents(v)
            .map_err(|e| format!("vendored CoverageJSON schema {name}.json: {e}"))?;
        resources.push((format!("json-schema:///schemas/{name}"), r));
    }
    let root = root.ok_or("the CoverageJSON root schema is not vendored")?;
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .with_resources(resources.into_iter())
        .build(&root)
        .map_err(|e| format!("compiling the CoverageJSON schema: {e}"))
}

/// Check `value` against the CoverageJSON schema: `Err` lists each problem
/// as `pointer: message`.
pub fn validate(value: &Value) -> Result<(), Vec<String>> {
    static VALIDATOR: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    let v = VALIDATOR
        .get_or_init(compile)
        .as_ref()
        .map_err(|e| vec![e.clone()])?;
    let errors: Vec<String> = v
        .iter_errors(value)
        .map(|e| {
            let at = e.instance_path.to_string();
            let message = if e.instance.is_object() || e.instance.is_array() {
                e.masked().to_string()
            } else {
                e.to_string()
            };
            format!("{}: {message}", if at.is_empty() { "/" } else { &at })
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> Domain {
        Domain {
            domain_type: Some(DomainType::PointSeries),
            x: vec![10.0],
            y: vec![45.0],
            z: None,
            t: Some(TimeAxis {
                values: vec!["2020-01-01T00:00:00Z".into(), "2020-01-02T00:00:00Z".into()],
                calendar: "standard".into(),
            }),
            polygon: None,
            custom: None,
            crs: HorizontalCrs::Crs84,
        }
    }

    fn range(n: usize) -> Range {
        Range {
            key: "tas".into(),
            parameter: Parameter {
                description: Some("air temperature".into()),
                label: "air temperature".into(),
                units: Some("K".into()),
                standard_name: Some("air_temperature".into()),
                integer: false,
            },
            values: (0..n)
                .map(|i| if i == 1 { f64::NAN } else { 280.0 + i as f64 })
                .collect(),
        }
    }

    #[test]
    fn a_point_series_validates_and_writes_null_for_missing_values() {
        let c = coverage(&series(), &[range(2)]);
        validate(&c).unwrap();
        assert_eq!(c["ranges"]["tas"]["values"], json!([280.0, null]));
        assert_eq!(c["ranges"]["tas"]["axisNames"], json!(["t"]));
        assert_eq!(
            c["parameters"]["tas"]["observedProperty"]["id"],
            json!("http://vocab.nerc.ac.uk/standard_name/air_temperature/")
        );
    }

    #[test]
    fn a_grid_with_levels_validates() {
        let d = Domain {
            domain_type: Some(DomainType::Grid),
            x: vec![0.0, 1.0, 2.0],
            y: vec![5.0, 4.0],
            z: Some(VerticalAxis {
                name: "plev".into(),
                values: vec![850.0],
                units: Some("hPa".into()),
                positive_down: Some(true),
            }),
            t: series().t,
            polygon: None,
            custom: None,
            crs: HorizontalCrs::Projected {
                epsg: Some(3035),
                wkt: None,
            },
        };
        assert_eq!(d.size(), 12);
        let c = coverage(&d, &[range(12)]);
        validate(&c).unwrap();
        assert_eq!(c["ranges"]["tas"]["shape"], json!([2, 1, 2, 3]));
        validate(&collection(vec![c.clone(), c])).unwrap();
    }

    #[test]
    fn broken_coverages_are_refused() {
        let mut c = coverage(&series(), &[range(2)]);
        c["domain"]["axes"]["x"]["values"] = json!([1.0, 2.0]);
        let e = validate(&c).unwrap_err();
        assert!(!e.is_empty());
        let mut c = coverage(&series(), &[range(2)]);
        c.as_object_mut().unwrap().remove("parameters");
        assert!(validate(&c).is_err());
        assert!(validate(&json!({"type": "Coverage"})).is_err());
    }

    #[test]
    fn polygon_series_and_untyped_domains_validate() {
        let mut d = series();
        d.domain_type = Some(DomainType::PolygonSeries);
        d.polygon = Some(json!([[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]));
        validate(&coverage(&d, &[range(2)])).unwrap();
        let mut d = series();
        d.domain_type = None;
        d.t = None;
        d.custom = Some(("number".into(), vec![json!(0), json!(1), json!(2)]));
        let c = coverage(&d, &[range(3)]);
        validate(&c).unwrap();
        assert_eq!(c["ranges"]["tas"]["axisNames"], json!(["number"]));
    }
}

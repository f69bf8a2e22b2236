//! The item search request (`/search` GET and POST, `/collections/{id}/items`),
//! read from a query string or a JSON body and checked: anything malformed is
//! an [`ApiError`] (400) that says what was wrong and what is valid.

use crate::cql::Filter;
use crate::datetime::Interval;
use crate::error::ApiError;
use crate::geometry::{self, Bbox};
use geo::Geometry;
use serde_json::{Map, Value};

/// `limit` when none is given.
pub const DEFAULT_LIMIT: usize = 10;
/// The largest page; a larger `limit` is served as this one (OGC API -
/// Features: a limit above the maximum is not an error).
pub const MAX_LIMIT: usize = 10_000;

/// The CRS of coordinates in filters and geometries (the only one accepted).
pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// A geometry to intersect items with.
#[derive(Debug, Clone)]
pub struct Intersects {
    /// The GeoJSON as given.
    pub json: Value,
    /// As a `geo` geometry.
    pub geometry: Geometry<f64>,
    /// Its bounding box.
    pub envelope: Bbox,
}

/// One sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// The field: `id`, `collection`, `datetime`, or a property name (a
    /// `properties.` prefix is dropped).
    pub field: String,
    /// Descending order.
    pub descending: bool,
}

/// The fields extension: which members of each item to return.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    /// Dotted paths to keep (`properties.eo:cloud_cover`).
    pub include: Vec<String>,
    /// Dotted paths to drop.
    pub exclude: Vec<String>,
}

/// A checked search request.
#[derive(Debug, Default)]
pub struct SearchRequest {
    /// 2D bounding box (a 6-number box loses its heights).
    pub bbox: Option<Bbox>,
    /// Geometry the items must intersect.
    pub intersects: Option<Intersects>,
    /// Time interval the items must intersect.
    pub datetime: Option<Interval>,
    /// Item ids.
    pub ids: Option<Vec<String>>,
    /// Collection ids.
    pub collections: Option<Vec<String>>,
    /// Page size (1 ..= [`MAX_LIMIT`]).
    pub limit: usize,
    /// Paging token from a `next`/`prev` link.
    pub token: Option<String>,
    /// CQL2 filter.
    pub filter: Option<Filter>,
    /// Sort keys (empty: `datetime` descending, then collection and id).
    pub sortby: Vec<SortKey>,
    /// Fields to return (`None`: whole items).
    pub fields: Option<Fields>,
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::bad_parameter(msg)
}

fn parse_bbox(nums: Vec<f64>, given: &str) -> Result<Bbox, ApiError> {
    let expect = "bbox is 4 numbers (west,south,east,north) or 6 (west,south,min-height,east,north,max-height) in longitude/latitude";
    let b = match nums.as_slice() {
        [w, s, e, n] => [*w, *s, *e, *n],
        [w, s, lo, e, n, hi] => {
            if lo > hi {
                return Err(bad(format!(
                    "{expect}; in {given} the minimum height is above the maximum"
                )));
            }
            [*w, *s, *e, *n]
        }
        _ => {
            return Err(bad(format!(
                "{expect}; got {} numbers: {given}",
                nums.len()
            )))
        }
    };
    if b.iter().any(|x| !x.is_finite()) {
        return Err(bad(format!("{expect}; {given} holds a non-finite number")));
    }
    if b[1] > b[3] {
        return Err(bad(format!(
            "{expect}; in {given} south ({}) is greater than north ({})",
            b[1], b[3]
        )));
    }
    if b[1] < -90.0 || b[3] > 90.0 || b[0] < -180.0 || b[0] > 180.0 || b[2] < -180.0 || b[2] > 180.0
    {
        return Err(bad(format!(
            "{expect}; {given} is outside -180..180 / -90..90"
        )));
    }
    Ok(b)
}

fn parse_intersects(v: Value) -> Result<Intersects, ApiError> {
    let geometry = geometry::from_geojson(&v)
        .map_err(|e| bad(format!("intersects must be a GeoJSON geometry: {e}")))?;
    let envelope = geometry::envelope(&geometry)
        .ok_or_else(|| bad("intersects is an empty geometry; give at least one position"))?;
    Ok(Intersects {
        json: v,
        geometry,
        envelope,
    })
}

fn parse_datetime(s: &str) -> Result<Interval, ApiError> {
    Interval::parse(s).map_err(|e| {
        bad(format!(
            "datetime {e}; valid forms: an instant (2020-07-23T00:00:00Z), a closed interval \
             (2020-01-01T00:00:00Z/2020-12-31T23:59:59Z) or a half-open one (../2020-12-31T00:00:00Z, 2020-01-01T00:00:00Z/..)"
        ))
    })
}

fn parse_limit(n: i64, given: &str) -> Result<usize, ApiError> {
    if n < 1 {
        return Err(bad(format!(
            "limit must be an integer from 1 to {MAX_LIMIT}, got {given}"
        )));
    }
    Ok(usize::try_from(n).unwrap_or(MAX_LIMIT).min(MAX_LIMIT))
}

fn sort_field(f: &str) -> Result<String, ApiError> {
    let f = f.trim();
    let f = f.strip_prefix("properties.").unwrap_or(f);
    if f.is_empty() {
        return Err(bad("sortby names an empty field; write for example -datetime or +properties.eo:cloud_cover"));
    }
    Ok(f.to_string())
}

fn check_filter_crs(v: Option<&str>) -> Result<(), ApiError> {
    match v {
        None => Ok(()),
        Some(c) if c == CRS84 => Ok(()),
        Some(c) => Err(bad(format!(
            "filter-crs {c} is not supported; the only supported CRS is {CRS84}"
        ))),
    }
}

/// Which endpoint a request is for: `/collections/{id}/items` fixes the collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `/search`.
    Search,
    /// `/collections/{id}/items`.
    Items,
}

impl SearchRequest {
    /// Read GET query parameters.
    pub fn from_query(pairs: &[(String, String)], endpoint: Endpoint) -> Result<Self, ApiError> {
        let mut req = SearchRequest {
            limit: DEFAULT_LIMIT,
            ..SearchRequest::default()
        };
        let mut seen: Vec<&str> = Vec::new();
        let mut filter: Option<&str> = None;
        let mut filter_lang: Option<&str> = None;
        let mut filter_crs: Option<&str> = None;
        for (k, v) in pairs {
            let list_like = matches!(k.as_str(), "ids" | "collections" | "sortby" | "fields");
            if !list_like && seen.contains(&k.as_str()) {
                return Err(bad(format!(
                    "query parameter {k} is given more than once; give it once"
                )));
            }
            seen.push(k);
            match k.as_str() {
                "bbox" => {
                    let nums = v
                        .split(',')
                        .map(|x| x.trim().parse::<f64>())
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|_| {
                            bad(format!(
                                "bbox must be comma-separated numbers such as bbox=-10.5,40,5,52, got bbox={v}"
                            ))
                        })?;
                    req.bbox = Some(parse_bbox(nums, &format!("bbox={v}"))?);
                }
                "intersects" => {
                    let g: Value = serde_json::from_str(v).map_err(|e| {
                        bad(format!("intersects must be a GeoJSON geometry (JSON): {e}"))
                    })?;
                    req.intersects = Some(parse_intersects(g)?);
                }
                "datetime" => req.datetime = Some(parse_datetime(v)?),
                "ids" => append_list(&mut req.ids, v),
                "collections" => append_list(&mut req.collections, v),
                "limit" => {
                    let n: i64 = v.trim().parse().map_err(|_| {
                        bad(format!("limit must be an integer from 1 to {MAX_LIMIT}, got limit={v}"))
                    })?;
                    req.limit = parse_limit(n, v)?;
                }
                "token" if !v.is_empty() => req.token = Some(v.clone()),
                "filter" => filter = Some(v),
                "filter-lang" => filter_lang = Some(v),
                "filter-crs" => filter_crs = Some(v),
                "sortby" => {
                    for part in v.split(',').filter(|p| !p.trim().is_empty()) {
                        let p = part.trim();
                        let (desc, name) = match p.as_bytes()[0] {
                            b'-' => (true, &p[1..]),
                            b'+' => (false, &p[1..]),
                            _ => (false, p),
                        };
                        req.sortby.push(SortKey {
                            field: sort_field(name)?,
                            descending: desc,
                        });
                    }
                }
                "fields" => {
                    let f = req.fields.get_or_insert_with(Fields::default);
                    for part in v.split(',').filter(|p| !p.trim().is_empty()) {
                        let p = part.trim();
                        match p.as_bytes()[0] {
                            b'-' => f.exclude.push(p[1..].to_string()),
                            b'+' => f.include.push(p[1..].to_string()),
                            _ => f.include.push(p.to_string()),
                        }
                    }
                }
                "query" => {
                    return Err(bad(
                        "the query extension is not supported; use filter with CQL2, e.g. filter=eo:cloud_cover<10",
                    ))
                }
                _ => {}
            }
        }
        check_filter_crs(filter_crs)?;
        if let Some(f) = filter {
            req.filter = match filter_lang.unwrap_or("cql2-text") {
                "cql2-text" => Some(Filter::from_text(f).map_err(bad)?),
                "cql2-json" => {
                    let v: Value = serde_json::from_str(f)
                        .map_err(|e| bad(format!("filter is not valid cql2-json: {e}")))?;
                    Some(Filter::from_json(&v).map_err(bad)?)
                }
                other => {
                    return Err(bad(format!(
                        "filter-lang {other} is not supported; use cql2-text or cql2-json"
                    )))
                }
            };
        } else if let Some(l) = filter_lang {
            if l != "cql2-text" && l != "cql2-json" {
                return Err(bad(format!(
                    "filter-lang {l} is not supported; use cql2-text or cql2-json"
                )));
            }
        }
        req.finish(endpoint)
    }

    /// Read a JSON body (POST /search).
    pub fn from_json(body: &Value, endpoint: Endpoint) -> Result<Self, ApiError> {
        let Some(obj) = body.as_object() else {
            return Err(ApiError::bad_body(
                "the search body must be a JSON object such as {\"collections\": [\"c1\"], \"limit\": 10}",
            ));
        };
        let mut req = SearchRequest {
            limit: DEFAULT_LIMIT,
            ..SearchRequest::default()
        };
        let get = |k: &str| obj.get(k).filter(|v| !v.is_null());
        if let Some(v) = get("bbox") {
            let nums = v
                .as_array()
                .and_then(|a| a.iter().map(Value::as_f64).collect::<Option<Vec<_>>>())
                .ok_or_else(|| {
                    bad(format!(
                        "bbox must be an array of numbers such as [-10.5, 40, 5, 52], got {v}"
                    ))
                })?;
            req.bbox = Some(parse_bbox(nums, &v.to_string())?);
        }
        if let Some(v) = get("intersects") {
            req.intersects = Some(parse_intersects(v.clone())?);
        }
        if let Some(v) = get("datetime") {
            let s = v
                .as_str()
                .ok_or_else(|| bad(format!("datetime must be a string, got {v}")))?;
            req.datetime = Some(parse_datetime(s)?);
        }
        req.ids = string_list(get("ids"), "ids")?;
        req.collections = string_list(get("collections"), "collections")?;
        if let Some(v) = get("limit") {
            let n = v.as_i64().ok_or_else(|| {
                bad(format!(
                    "limit must be an integer from 1 to {MAX_LIMIT}, got {v}"
                ))
            })?;
            req.limit = parse_limit(n, &v.to_string())?;
        }
        if let Some(v) = get("token") {
            let s = v
                .as_str()
                .ok_or_else(|| bad(format!("token must be a string, got {v}")))?;
            if !s.is_empty() {
                req.token = Some(s.to_string());
            }
        }
        check_filter_crs(match get("filter-crs") {
            None => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(v) => return Err(bad(format!("filter-crs must be a string, got {v}"))),
        })?;
        let lang = match get("filter-lang") {
            None => None,
            Some(Value::String(s)) if s == "cql2-text" || s == "cql2-json" => Some(s.as_str()),
            Some(v) => {
                return Err(bad(format!(
                    "filter-lang must be \"cql2-text\" or \"cql2-json\", got {v}"
                )))
            }
        };
        if let Some(f) = get("filter") {
            req.filter = Some(match (f, lang) {
                (Value::String(s), None | Some("cql2-text")) => Filter::from_text(s).map_err(bad)?,
                (Value::Object(_), None | Some("cql2-json")) => Filter::from_json(f).map_err(bad)?,
                (Value::Bool(_), None | Some("cql2-json")) => Filter::from_json(f).map_err(bad)?,
                (_, Some(l)) => {
                    return Err(bad(format!(
                        "filter does not match filter-lang {l}: cql2-text is a string, cql2-json an object"
                    )))
                }
                (other, None) => {
                    return Err(bad(format!(
                        "filter must be a cql2-json object or a cql2-text string, got {other}"
                    )))
                }
            });
        }
        if let Some(v) = get("sortby") {
            let arr = v.as_array().ok_or_else(|| {
                bad(format!(
                    "sortby must be an array such as [{{\"field\": \"datetime\", \"direction\": \"desc\"}}], got {v}"
                ))
            })?;
            for s in arr {
                let field = s.get("field").and_then(Value::as_str).ok_or_else(|| {
                    bad(format!(
                        "each sortby entry needs a string \"field\", got {s}"
                    ))
                })?;
                let descending = match s.get("direction") {
                    None | Some(Value::Null) => false,
                    Some(Value::String(d)) if d.eq_ignore_ascii_case("asc") => false,
                    Some(Value::String(d)) if d.eq_ignore_ascii_case("desc") => true,
                    Some(d) => {
                        return Err(bad(format!(
                            "sortby direction must be \"asc\" or \"desc\", got {d}"
                        )))
                    }
                };
                req.sortby.push(SortKey {
                    field: sort_field(field)?,
                    descending,
                });
            }
        }
        if let Some(v) = obj.get("fields") {
            req.fields = Some(parse_fields_json(v)?);
        }
        if get("query").is_some() {
            return Err(bad(
                "the query extension is not supported; use filter with CQL2, e.g. {\"filter\": {\"op\": \"<\", \"args\": [{\"property\": \"eo:cloud_cover\"}, 10]}}",
            ));
        }
        req.finish(endpoint)
    }

    fn finish(self, _endpoint: Endpoint) -> Result<Self, ApiError> {
        if self.bbox.is_some() && self.intersects.is_some() {
            return Err(bad(
                "bbox and intersects cannot be used together; give one of them",
            ));
        }
        Ok(self)
    }

    /// The request as pgstac's `search()` reads it (without fields, which
    /// the server applies itself, and with `limit` and `token` as given).
    pub fn to_pgstac(&self) -> Result<Value, ApiError> {
        let mut m = Map::new();
        if let Some(c) = &self.collections {
            m.insert("collections".into(), c.clone().into());
        }
        if let Some(i) = &self.ids {
            m.insert("ids".into(), i.clone().into());
        }
        // pgstac reads 2D boxes only; the heights of a 6-number box are not
        // searched on either backend.
        if let Some(b) = &self.bbox {
            if b[0] > b[2] {
                // Across the antimeridian: pgstac would read the box as the
                // band between the two longitudes, so send its two halves.
                m.insert("intersects".into(), geojson_of(&geometry::bbox_geometry(b)));
            } else {
                m.insert("bbox".into(), b.to_vec().into());
            }
        }
        if let Some(g) = &self.intersects {
            m.insert("intersects".into(), g.json.clone());
        }
        if let Some(d) = &self.datetime {
            m.insert("datetime".into(), d.to_pgstac().into());
        }
        if let Some(f) = &self.filter {
            let mut j = f.to_json().map_err(ApiError::bad_parameter)?;
            pgstac_cql2(&mut j);
            m.insert("filter".into(), j);
            m.insert("filter-lang".into(), "cql2-json".into());
        }
        if !self.sortby.is_empty() {
            let s: Vec<Value> = self
                .sortby
                .iter()
                .map(|k| {
                    serde_json::json!({
                        "field": k.field,
                        "direction": if k.descending { "desc" } else { "asc" },
                    })
                })
                .collect();
            m.insert("sortby".into(), s.into());
        }
        m.insert("limit".into(), self.limit.into());
        if let Some(t) = &self.token {
            m.insert("token".into(), t.clone().into());
        }
        Ok(Value::Object(m))
    }
}

/// Rewrite cql2-json spellings the schema allows but pgstac does not read:
/// `{"op": "between", "args": [x, [lo, hi]]}` becomes `[x, lo, hi]`, and a
/// `{"bbox": [w, s, e, n]}` operand a GeoJSON polygon.
fn pgstac_cql2(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(b) = o.get("bbox").and_then(geometry::bbox_from_json) {
                if o.len() == 1 {
                    let g = geometry::bbox_geometry(&b);
                    *v = geojson_of(&g);
                    return;
                }
            }
            let is_between = o.get("op").and_then(Value::as_str) == Some("between");
            if let Some(Value::Array(args)) = o.get_mut("args") {
                if is_between && args.len() == 2 {
                    if let Value::Array(ends) = &args[1] {
                        if ends.len() == 2 {
                            let (lo, hi) = (ends[0].clone(), ends[1].clone());
                            args.truncate(1);
                            args.push(lo);
                            args.push(hi);
                        }
                    }
                }
                for a in args.iter_mut() {
                    pgstac_cql2(a);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(pgstac_cql2),
        _ => {}
    }
}

/// A (multi)polygon as GeoJSON.
fn geojson_of(g: &Geometry<f64>) -> Value {
    let ring = |r: &geo::LineString<f64>| -> Value {
        Value::Array(r.0.iter().map(|c| serde_json::json!([c.x, c.y])).collect())
    };
    let poly = |p: &geo::Polygon<f64>| -> Value {
        let mut rings = vec![ring(p.exterior())];
        rings.extend(p.interiors().iter().map(ring));
        Value::Array(rings)
    };
    match g {
        Geometry::MultiPolygon(mp) => serde_json::json!({
            "type": "MultiPolygon",
            "coordinates": mp.0.iter().map(poly).collect::<Vec<_>>(),
        }),
        Geometry::Polygon(p) => serde_json::json!({"type": "Polygon", "coordinates": poly(p)}),
        _ => Value::Null,
    }
}

fn append_list(list: &mut Option<Vec<String>>, v: &str) {
    let parts: Vec<String> = v
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    if parts.is_empty() {
        return;
    }
    list.get_or_insert_with(Vec::new).extend(parts);
}

fn string_list(v: Option<&Value>, name: &str) -> Result<Option<Vec<String>>, ApiError> {
    let Some(v) = v else { return Ok(None) };
    let err = || {
        bad(format!(
            "{name} must be an array of strings such as [\"a\", \"b\"], got {v}"
        ))
    };
    let arr = v.as_array().ok_or_else(err)?;
    let out = arr
        .iter()
        .map(|x| x.as_str().map(str::to_string))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(err)?;
    Ok(Some(out))
}

fn parse_fields_json(v: &Value) -> Result<Fields, ApiError> {
    let err = || {
        bad(format!(
            "fields must be an object such as {{\"include\": [\"properties.eo:cloud_cover\"], \"exclude\": [\"geometry\"]}}, got {v}"
        ))
    };
    let obj = v.as_object().ok_or_else(err)?;
    let list = |k: &str| -> Result<Vec<String>, ApiError> {
        match obj.get(k) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| x.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(err),
            Some(_) => Err(err()),
        }
    };
    Ok(Fields {
        include: list("include")?,
        exclude: list("exclude")?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn q(s: &[(&str, &str)]) -> Result<SearchRequest, ApiError> {
        let pairs: Vec<(String, String)> = s
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        SearchRequest::from_query(&pairs, Endpoint::Search)
    }

    #[test]
    fn invalid_bboxes_are_400_with_the_valid_forms() {
        for b in [
            "[100.0, 0.0, 105.0, 1.0]",
            "100.0, 1.0, 105.0, 0.0",
            "0",
            "0,0",
            "0,0,0",
            "0,0,0,1,1",
            "0,0,0,1,1,1,1",
            "a,b,c,d",
        ] {
            let e = q(&[("bbox", b)]).unwrap_err();
            assert_eq!(e.status, 400, "{b}");
            assert!(e.description.contains("bbox"), "{b}: {}", e.description);
        }
        assert!(q(&[("bbox", "100.0,0.0,0.0,105.0,1.0,1.0")]).is_ok());
    }

    #[test]
    fn limits_below_one_are_refused_and_large_ones_capped() {
        assert_eq!(q(&[("limit", "-1")]).unwrap_err().status, 400);
        assert_eq!(q(&[("limit", "0")]).unwrap_err().status, 400);
        assert_eq!(q(&[("limit", "1000000")]).unwrap().limit, MAX_LIMIT);
        assert_eq!(q(&[]).unwrap().limit, DEFAULT_LIMIT);
    }

    #[test]
    fn bbox_with_intersects_is_refused() {
        let e = SearchRequest::from_json(
            &json!({"bbox": [0, 0, 1, 1], "intersects": {"type": "Point", "coordinates": [0, 0]}}),
            Endpoint::Search,
        )
        .unwrap_err();
        assert!(e.description.contains("cannot be used together"));
    }

    #[test]
    fn get_sortby_and_fields_read_their_signs() {
        let r = q(&[
            ("sortby", "-datetime,+properties.eo:cloud_cover,id"),
            ("fields", "id,-geometry,+bbox"),
        ])
        .unwrap();
        assert_eq!(r.sortby.len(), 3);
        assert!(r.sortby[0].descending);
        assert_eq!(r.sortby[1].field, "eo:cloud_cover");
        let f = r.fields.unwrap();
        assert_eq!(f.include, vec!["id", "bbox"]);
        assert_eq!(f.exclude, vec!["geometry"]);
    }

    #[test]
    fn a_post_body_of_the_wrong_types_names_the_member() {
        for (body, member) in [
            (json!({"bbox": "100.0, 0.0, 105.0, 1.0"}), "bbox"),
            (json!({"ids": "a"}), "ids"),
            (json!({"limit": "x"}), "limit"),
            (json!({"sortby": "datetime"}), "sortby"),
            (json!({"filter": {"op": "foo"}}), "filter"),
            (json!({"fields": []}), "fields"),
        ] {
            let e = SearchRequest::from_json(&body, Endpoint::Search).unwrap_err();
            assert!(e.description.contains(member), "{body}: {}", e.description);
        }
        let e = SearchRequest::from_json(&json!([1]), Endpoint::Search).unwrap_err();
        assert_eq!(e.code, "InvalidRequestBody");
    }

    #[test]
    fn the_pgstac_form_carries_every_constraint() {
        let r = SearchRequest::from_json(
            &json!({"collections": ["c"], "ids": ["i"], "bbox": [0, 0, 1, 1], "datetime": "2020-01-01T00:00:00Z/..", "filter": "x = 1", "sortby": [{"field": "x", "direction": "desc"}], "limit": 5}),
            Endpoint::Search,
        )
        .unwrap();
        let p = r.to_pgstac().unwrap();
        assert_eq!(p["datetime"], json!("2020-01-01T00:00:00Z/.."));
        assert_eq!(p["filter-lang"], json!("cql2-json"));
        assert_eq!(p["sortby"][0]["direction"], json!("desc"));
        assert_eq!(p["limit"], json!(5));
    }
}

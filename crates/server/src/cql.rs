//! CQL2 filters: parsed by the `cql2` crate (text and JSON encodings), then
//! compiled here into a tree that evaluates quickly against an item.
//!
//! Supported (and declared in the conformance list): basic CQL2 (comparisons,
//! `and`/`or`/`not`, `IS NULL`), advanced comparison operators (`LIKE`,
//! `BETWEEN`, `IN`), case- and accent-insensitive comparison (`CASEI`,
//! `ACCENTI`), all spatial functions (`S_INTERSECTS`, `S_EQUALS`,
//! `S_DISJOINT`, `S_TOUCHES`, `S_WITHIN`, `S_OVERLAPS`, `S_CROSSES`,
//! `S_CONTAINS`) on GeoJSON/WKT geometries and `BBOX(...)`, all temporal
//! functions (`T_AFTER` ... `T_INTERSECTS`), array functions (`A_EQUALS`,
//! `A_CONTAINS`, `A_CONTAINEDBY`, `A_OVERLAPS`), arithmetic (`+ - * / % ^
//! div`) and property-property comparisons. Logic is three-valued, as in SQL:
//! a comparison with a missing property is NULL, and an item matches only when
//! the whole filter is TRUE.
//!
//! Properties: `id`, `collection`, `geometry`; `datetime` is the item's
//! instant (`properties.datetime`, or `start_datetime` for a range), and
//! `start_datetime`/`end_datetime` the ends of its range (both the datetime
//! for an instant), as pgstac reads them; any other name (with or without a
//! `properties.` prefix) is looked up in the item's `properties`, then among
//! its top-level members. Strings compared with timestamps are read as RFC
//! 3339 date-times. `DATE('...')` is the whole day in temporal functions and
//! its midnight in comparisons.

use crate::datetime::{self, DAY_US};
use crate::geometry;
use cql2::Expr;
use geo::{Geometry, Intersects, Relate};
use serde_json::Value;
use std::borrow::Cow;
use std::cmp::Ordering;

/// What a filter needs to know about an item.
pub trait Record {
    /// The item id.
    fn id(&self) -> &str;
    /// The id of the item's collection.
    fn collection(&self) -> &str;
    /// The item geometry (`None` for a null geometry).
    fn geometry(&self) -> Option<&Geometry<f64>>;
    /// The bounding box of the geometry, to skip exact tests that cannot match.
    fn envelope(&self) -> Option<&geometry::Bbox>;
    /// `(start, end)` in microseconds: `datetime` for both, or
    /// `start_datetime`/`end_datetime`; `None` when the item has no time.
    fn time(&self) -> Option<(i64, i64)>;
    /// `properties[name]`.
    fn property(&self, name: &str) -> Option<PropRef<'_>>;
}

/// A property value as a [`Record`] hands it out.
#[derive(Debug, Clone, Copy)]
pub enum PropRef<'a> {
    /// JSON `null`.
    Null,
    /// A number.
    Num(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(&'a str),
    /// Anything else (arrays, objects).
    Json(&'a Value),
}

impl<'a> From<&'a Value> for PropRef<'a> {
    fn from(v: &'a Value) -> Self {
        match v {
            Value::Null => PropRef::Null,
            Value::Bool(b) => PropRef::Bool(*b),
            Value::Number(n) => n.as_f64().map(PropRef::Num).unwrap_or(PropRef::Null),
            Value::String(s) => PropRef::Str(s),
            other => PropRef::Json(other),
        }
    }
}

/// A compiled CQL2 filter, and the expression it came from (for pgstac).
#[derive(Debug)]
pub struct Filter {
    expr: Expr,
    root: Node,
}

/// A property the filter reads.
#[derive(Debug, Clone, PartialEq)]
enum Prop {
    Id,
    Collection,
    Geometry,
    Datetime,
    Start,
    End,
    Field(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum SpatialOp {
    Intersects,
    Disjoint,
    Equals,
    Touches,
    Within,
    Overlaps,
    Crosses,
    Contains,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum TemporalOp {
    After,
    Before,
    Contains,
    Disjoint,
    During,
    Equals,
    FinishedBy,
    Finishes,
    Intersects,
    Meets,
    MetBy,
    OverlappedBy,
    Overlaps,
    StartedBy,
    Starts,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ArrayOp {
    Equals,
    Contains,
    ContainedBy,
    Overlaps,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    IntDiv,
}

/// A constant of the filter.
#[derive(Debug, Clone)]
enum Lit {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    /// A timestamp (an instant).
    Time(i64),
    /// A date: its midnight (its whole day in temporal functions).
    Date(i64),
    Geom(Box<Geometry<f64>>, geometry::Bbox),
}

#[derive(Debug, Clone)]
enum Node {
    Lit(Lit),
    Prop(Prop),
    Array(Vec<Node>),
    Interval(Box<Node>, Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Cmp(CmpOp, Box<Node>, Box<Node>),
    Like(Box<Node>, Box<Node>),
    /// `LIKE` with a literal pattern, compiled once.
    LikeLit(Box<Node>, Pattern),
    Between(Box<Node>, Box<Node>, Box<Node>),
    In(Box<Node>, Vec<Node>),
    IsNull(Box<Node>),
    Spatial(SpatialOp, Box<Node>, Box<Node>),
    Temporal(TemporalOp, Box<Node>, Box<Node>),
    ArrayFn(ArrayOp, Box<Node>, Box<Node>),
    Arith(ArithOp, Vec<Node>),
    Casei(Box<Node>),
    Accenti(Box<Node>),
}

/// A value during evaluation.
#[derive(Debug, Clone)]
enum V<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(Cow<'a, str>),
    /// An interval of time `[lo, hi]`, an instant when equal.
    Time(i64, i64),
    Geom(&'a Geometry<f64>, Option<&'a geometry::Bbox>),
    Array(Vec<V<'a>>),
}

impl Filter {
    /// Parse cql2-text.
    pub fn from_text(s: &str) -> Result<Filter, String> {
        let expr = cql2::parse_text(s).map_err(|e| {
            format!("filter is not valid cql2-text: {e}; for example: eo:cloud_cover < 10 AND datetime >= TIMESTAMP('2021-01-01T00:00:00Z')")
        })?;
        Filter::from_expr(expr)
    }

    /// Parse cql2-json from a JSON value.
    pub fn from_json(v: &Value) -> Result<Filter, String> {
        let expr: Expr = serde_json::from_value(v.clone()).map_err(|e| {
            format!("filter is not valid cql2-json: {e}; for example: {{\"op\": \"<\", \"args\": [{{\"property\": \"eo:cloud_cover\"}}, 10]}}")
        })?;
        Filter::from_expr(expr)
    }

    /// Compile a parsed expression.
    pub fn from_expr(expr: Expr) -> Result<Filter, String> {
        let root = compile(&expr)?;
        Ok(Filter { expr, root })
    }

    /// The expression as cql2-json (what pgstac reads).
    pub fn to_json(&self) -> Result<Value, String> {
        self.expr
            .to_value()
            .map_err(|e| format!("cannot write the filter as cql2-json: {e}"))
    }

    /// Whether the filter is TRUE for `item` (NULL and FALSE are no match).
    pub fn matches(&self, item: &dyn Record) -> bool {
        test(&self.root, item) == Some(true)
    }

    /// Conditions every matching item meets, read from the top-level
    /// conjunction, so that a backend can pick candidates with its indexes
    /// (the filter is still evaluated on each candidate).
    pub fn hints(&self) -> Hints {
        let mut h = Hints::default();
        let parts: Vec<&Node> = match &self.root {
            Node::And(ps) => ps.iter().collect(),
            other => vec![other],
        };
        for p in parts {
            hint(p, &mut h);
        }
        h
    }
}

/// What a filter implies about the items it can match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hints {
    /// The item geometry meets this box (which may cross the antimeridian).
    pub envelope: Option<geometry::Bbox>,
    /// The item's `datetime` (its start) lies in `[lo, hi]`.
    pub start: Option<(i64, i64)>,
    /// The item's collection is one of these.
    pub collections: Option<Vec<String>>,
    /// The item's id is one of these.
    pub ids: Option<Vec<String>>,
}

impl Hints {
    fn narrow_start(&mut self, lo: i64, hi: i64) {
        let (a, b) = self.start.unwrap_or((i64::MIN, i64::MAX));
        self.start = Some((a.max(lo), b.min(hi)));
    }
}

fn literal_time(n: &Node) -> Option<(i64, i64)> {
    match n {
        Node::Lit(Lit::Time(t)) => Some((*t, *t)),
        Node::Lit(Lit::Date(d)) => Some((*d, *d + DAY_US - 1)),
        Node::Interval(a, b) => {
            let lo = match a.as_ref() {
                Node::Lit(Lit::Null) => i64::MIN,
                other => literal_time(other)?.0,
            };
            let hi = match b.as_ref() {
                Node::Lit(Lit::Null) => i64::MAX,
                other => literal_time(other)?.1,
            };
            Some((lo, hi))
        }
        _ => None,
    }
}

fn literal_strings(n: &Node) -> Option<Vec<String>> {
    match n {
        Node::Lit(Lit::Str(s)) => Some(vec![s.clone()]),
        _ => None,
    }
}

fn hint(n: &Node, h: &mut Hints) {
    match n {
        Node::And(ps) => ps.iter().for_each(|p| hint(p, h)),
        Node::Spatial(
            SpatialOp::Intersects
            | SpatialOp::Within
            | SpatialOp::Equals
            | SpatialOp::Overlaps
            | SpatialOp::Crosses
            | SpatialOp::Touches
            | SpatialOp::Contains,
            l,
            r,
        ) => {
            if let (Node::Prop(Prop::Geometry), Node::Lit(Lit::Geom(_, env)))
            | (Node::Lit(Lit::Geom(_, env)), Node::Prop(Prop::Geometry)) =
                (l.as_ref(), r.as_ref())
            {
                // Each such conjunct alone is a condition every match meets
                // (meeting two boxes is not meeting their intersection):
                // keep the smaller.
                let area = |b: &geometry::Bbox| {
                    let w = if b[0] > b[2] {
                        b[2] - b[0] + 360.0
                    } else {
                        b[2] - b[0]
                    };
                    w * (b[3] - b[1])
                };
                if !env[0].is_nan() && h.envelope.is_none_or(|e| area(env) < area(&e)) {
                    h.envelope = Some(*env);
                }
            }
        }
        Node::Temporal(op, l, r) => {
            if let (Node::Prop(Prop::Datetime), Some((lo, hi))) = (l.as_ref(), literal_time(r)) {
                match op {
                    TemporalOp::Intersects | TemporalOp::During | TemporalOp::Equals => {
                        h.narrow_start(lo, hi)
                    }
                    TemporalOp::After => h.narrow_start(hi.saturating_add(1), i64::MAX),
                    TemporalOp::Before => h.narrow_start(i64::MIN, lo.saturating_sub(1)),
                    _ => {}
                }
            }
        }
        Node::Cmp(op, l, r) => match (l.as_ref(), r.as_ref()) {
            (Node::Prop(Prop::Datetime), Node::Lit(Lit::Time(t) | Lit::Date(t))) => match op {
                CmpOp::Eq => h.narrow_start(*t, *t),
                CmpOp::Lt => h.narrow_start(i64::MIN, t.saturating_sub(1)),
                CmpOp::Le => h.narrow_start(i64::MIN, *t),
                CmpOp::Gt => h.narrow_start(t.saturating_add(1), i64::MAX),
                CmpOp::Ge => h.narrow_start(*t, i64::MAX),
                CmpOp::Ne => {}
            },
            (Node::Prop(Prop::Collection), r) if *op == CmpOp::Eq => {
                if let Some(v) = literal_strings(r) {
                    h.collections = Some(v);
                }
            }
            (Node::Prop(Prop::Id), r) if *op == CmpOp::Eq => {
                if let Some(v) = literal_strings(r) {
                    h.ids = Some(v);
                }
            }
            _ => {}
        },
        Node::In(x, list) => {
            let vals: Option<Vec<String>> = list
                .iter()
                .map(|l| match l {
                    Node::Lit(Lit::Str(s)) => Some(s.clone()),
                    _ => None,
                })
                .collect();
            match (x.as_ref(), vals) {
                (Node::Prop(Prop::Collection), Some(v)) => h.collections = Some(v),
                (Node::Prop(Prop::Id), Some(v)) => h.ids = Some(v),
                _ => {}
            }
        }
        _ => {}
    }
}

fn args_n<'e>(op: &str, args: &'e [Box<Expr>], n: usize) -> Result<&'e [Box<Expr>], String> {
    if args.len() != n {
        return Err(format!(
            "{op} takes {n} argument{}, got {}",
            if n == 1 { "" } else { "s" },
            args.len()
        ));
    }
    Ok(args)
}

fn compile(e: &Expr) -> Result<Node, String> {
    Ok(match e {
        Expr::Null => Node::Lit(Lit::Null),
        Expr::Bool(b) => Node::Lit(Lit::Bool(*b)),
        Expr::Float(f) => Node::Lit(Lit::Num(*f)),
        Expr::Literal(s) => Node::Lit(Lit::Str(s.clone())),
        Expr::Property { property } => Node::Prop(prop(property)?),
        Expr::Timestamp { timestamp } => match timestamp.as_ref() {
            Expr::Literal(s) => Node::Lit(Lit::Time(datetime::parse_rfc3339(s).ok_or_else(
                || format!("TIMESTAMP('{s}') is not an RFC 3339 date-time such as 2021-04-08T04:39:23Z"),
            )?)),
            other => return Err(format!("TIMESTAMP takes a string, got {other:?}")),
        },
        Expr::Date { date } => match date.as_ref() {
            Expr::Literal(s) => Node::Lit(Lit::Date(datetime::parse_date(s).ok_or_else(
                || format!("DATE('{s}') is not a date such as 2021-04-08"),
            )?)),
            other => return Err(format!("DATE takes a string, got {other:?}")),
        },
        Expr::Interval { interval } => {
            let [a, b] = interval.as_slice() else {
                return Err(format!(
                    "INTERVAL takes 2 arguments (start, end), got {}",
                    interval.len()
                ));
            };
            Node::Interval(Box::new(interval_end(a)?), Box::new(interval_end(b)?))
        }
        Expr::BBox { bbox } => {
            let n: Vec<f64> = bbox
                .iter()
                .map(|b| match b.as_ref() {
                    Expr::Float(f) => Ok(*f),
                    other => Err(format!("BBOX takes numbers, got {other:?}")),
                })
                .collect::<Result<_, _>>()?;
            let b = match n.as_slice() {
                [w, s, e, nn] | [w, s, _, e, nn, _] => [*w, *s, *e, *nn],
                _ => return Err(format!("BBOX takes 4 or 6 numbers, got {}", n.len())),
            };
            Node::Lit(Lit::Geom(Box::new(geometry::bbox_geometry(&b)), b))
        }
        Expr::Geometry(g) => {
            let v = serde_json::to_value(g).map_err(|e| format!("unreadable geometry: {e}"))?;
            let geom = geometry::from_geojson(&v).map_err(|e| format!("geometry in filter: {e}"))?;
            let env = geometry::envelope(&geom).unwrap_or([f64::NAN; 4]);
            Node::Lit(Lit::Geom(Box::new(geom), env))
        }
        Expr::Array(items) => Node::Array(items.iter().map(|i| compile(i)).collect::<Result<_, _>>()?),
        Expr::Operation { op, args } => operation(op, args)?,
    })
}

fn interval_end(e: &Expr) -> Result<Node, String> {
    match e {
        Expr::Literal(s) if s == ".." || s.is_empty() => Ok(Node::Lit(Lit::Null)),
        Expr::Literal(s) => {
            if let Some(t) = datetime::parse_rfc3339(s) {
                Ok(Node::Lit(Lit::Time(t)))
            } else if let Some(d) = datetime::parse_date(s) {
                Ok(Node::Lit(Lit::Date(d)))
            } else {
                Err(format!(
                    "interval end '{s}' is not a date-time, a date or '..'"
                ))
            }
        }
        other => compile(other),
    }
}

fn prop(name: &str) -> Result<Prop, String> {
    let n = name.strip_prefix("properties.").unwrap_or(name);
    if n.is_empty() {
        return Err("a property name is empty".to_string());
    }
    Ok(match n {
        "id" => Prop::Id,
        "collection" => Prop::Collection,
        "geometry" => Prop::Geometry,
        "datetime" => Prop::Datetime,
        "start_datetime" => Prop::Start,
        "end_datetime" => Prop::End,
        other => Prop::Field(other.to_string()),
    })
}

fn operation(op: &str, args: &[Box<Expr>]) -> Result<Node, String> {
    let lower = op.to_ascii_lowercase();
    let b = |e: &Expr| compile(e).map(Box::new);
    let cmp = |c: CmpOp| -> Result<Node, String> {
        let a = args_n(op, args, 2)?;
        Ok(Node::Cmp(c, b(&a[0])?, b(&a[1])?))
    };
    Ok(match lower.as_str() {
        "and" | "or" => {
            if args.len() < 2 {
                return Err(format!(
                    "{op} takes at least 2 arguments, got {}",
                    args.len()
                ));
            }
            let parts = args
                .iter()
                .map(|a| compile(a))
                .collect::<Result<Vec<_>, _>>()?;
            if lower == "and" {
                Node::And(parts)
            } else {
                Node::Or(parts)
            }
        }
        "not" => Node::Not(b(&args_n(op, args, 1)?[0])?),
        "=" => cmp(CmpOp::Eq)?,
        "<>" => cmp(CmpOp::Ne)?,
        "<" => cmp(CmpOp::Lt)?,
        "<=" => cmp(CmpOp::Le)?,
        ">" => cmp(CmpOp::Gt)?,
        ">=" => cmp(CmpOp::Ge)?,
        "isnull" => Node::IsNull(b(&args_n(op, args, 1)?[0])?),
        "like" => {
            let a = args_n(op, args, 2)?;
            match a[1].as_ref() {
                Expr::Literal(p) => Node::LikeLit(b(&a[0])?, Pattern::new(p)),
                _ => Node::Like(b(&a[0])?, b(&a[1])?),
            }
        }
        "between" => match args {
            [x, lo, hi] => Node::Between(b(x)?, b(lo)?, b(hi)?),
            [x, range] => match range.as_ref() {
                Expr::Array(ends) if ends.len() == 2 => {
                    Node::Between(b(x)?, b(&ends[0])?, b(&ends[1])?)
                }
                _ => {
                    return Err(
                        "between takes a value and two bounds: x BETWEEN low AND high".to_string(),
                    )
                }
            },
            _ => return Err(format!("between takes 3 arguments, got {}", args.len())),
        },
        "in" => {
            let a = args_n(op, args, 2)?;
            match a[1].as_ref() {
                Expr::Array(list) => Node::In(
                    b(&a[0])?,
                    list.iter().map(|i| compile(i)).collect::<Result<_, _>>()?,
                ),
                _ => return Err("in takes a value and a list: x IN ('a', 'b')".to_string()),
            }
        }
        "casei" => Node::Casei(b(&args_n(op, args, 1)?[0])?),
        "accenti" => Node::Accenti(b(&args_n(op, args, 1)?[0])?),
        "+" | "-" | "*" | "/" | "%" | "^" | "div" => {
            let which = match lower.as_str() {
                "+" => ArithOp::Add,
                "-" => ArithOp::Sub,
                "*" => ArithOp::Mul,
                "/" => ArithOp::Div,
                "%" => ArithOp::Mod,
                "^" => ArithOp::Pow,
                _ => ArithOp::IntDiv,
            };
            if args.len() < 2
                || (matches!(which, ArithOp::Pow | ArithOp::IntDiv) && args.len() != 2)
            {
                return Err(format!("{op} takes 2 arguments, got {}", args.len()));
            }
            Node::Arith(
                which,
                args.iter().map(|a| compile(a)).collect::<Result<_, _>>()?,
            )
        }
        s if s.starts_with("s_") => {
            let which = match s {
                "s_intersects" => SpatialOp::Intersects,
                "s_disjoint" => SpatialOp::Disjoint,
                "s_equals" => SpatialOp::Equals,
                "s_touches" => SpatialOp::Touches,
                "s_within" => SpatialOp::Within,
                "s_overlaps" => SpatialOp::Overlaps,
                "s_crosses" => SpatialOp::Crosses,
                "s_contains" => SpatialOp::Contains,
                _ => return Err(unknown(op)),
            };
            let a = args_n(op, args, 2)?;
            Node::Spatial(which, b(&a[0])?, b(&a[1])?)
        }
        s if s.starts_with("t_") => {
            let which = match s {
                "t_after" => TemporalOp::After,
                "t_before" => TemporalOp::Before,
                "t_contains" => TemporalOp::Contains,
                "t_disjoint" => TemporalOp::Disjoint,
                "t_during" => TemporalOp::During,
                "t_equals" => TemporalOp::Equals,
                "t_finishedby" => TemporalOp::FinishedBy,
                "t_finishes" => TemporalOp::Finishes,
                "t_intersects" => TemporalOp::Intersects,
                "t_meets" => TemporalOp::Meets,
                "t_metby" => TemporalOp::MetBy,
                "t_overlappedby" => TemporalOp::OverlappedBy,
                "t_overlaps" => TemporalOp::Overlaps,
                "t_startedby" => TemporalOp::StartedBy,
                "t_starts" => TemporalOp::Starts,
                _ => return Err(unknown(op)),
            };
            let a = args_n(op, args, 2)?;
            Node::Temporal(which, b(&a[0])?, b(&a[1])?)
        }
        s if s.starts_with("a_") => {
            let which = match s {
                "a_equals" => ArrayOp::Equals,
                "a_contains" => ArrayOp::Contains,
                "a_containedby" => ArrayOp::ContainedBy,
                "a_overlaps" => ArrayOp::Overlaps,
                _ => return Err(unknown(op)),
            };
            let a = args_n(op, args, 2)?;
            Node::ArrayFn(which, b(&a[0])?, b(&a[1])?)
        }
        _ => return Err(unknown(op)),
    })
}

fn unknown(op: &str) -> String {
    format!(
        "unknown operator or function '{op}'; supported: and, or, not, =, <>, <, <=, >, >=, \
         isNull, like, between, in, casei, accenti, + - * / % ^ div, s_intersects, s_equals, \
         s_disjoint, s_touches, s_within, s_overlaps, s_crosses, s_contains, t_after, t_before, \
         t_contains, t_disjoint, t_during, t_equals, t_finishedBy, t_finishes, t_intersects, \
         t_meets, t_metBy, t_overlappedBy, t_overlaps, t_startedBy, t_starts, a_equals, \
         a_contains, a_containedBy, a_overlaps"
    )
}

// ------------------------------------------------------------------ evaluation

fn from_json(v: &Value) -> V<'_> {
    match v {
        Value::Null | Value::Object(_) => V::Null,
        Value::Bool(b) => V::Bool(*b),
        Value::Number(n) => n.as_f64().map(V::Num).unwrap_or(V::Null),
        Value::String(s) => V::Str(Cow::Borrowed(s)),
        Value::Array(a) => V::Array(a.iter().map(from_json).collect()),
    }
}

fn eval<'a>(n: &'a Node, item: &'a dyn Record) -> V<'a> {
    match n {
        Node::Lit(l) => match l {
            Lit::Null => V::Null,
            Lit::Bool(b) => V::Bool(*b),
            Lit::Num(x) => V::Num(*x),
            Lit::Str(s) => V::Str(Cow::Borrowed(s)),
            Lit::Time(t) => V::Time(*t, *t),
            // A date compares as its midnight; temporal functions widen it.
            Lit::Date(d) => V::Time(*d, *d),
            Lit::Geom(g, env) => V::Geom(g, Some(env)),
        },
        Node::Prop(p) => match p {
            Prop::Id => V::Str(Cow::Borrowed(item.id())),
            Prop::Collection => V::Str(Cow::Borrowed(item.collection())),
            Prop::Geometry => match item.geometry() {
                Some(g) => V::Geom(g, item.envelope()),
                None => V::Null,
            },
            Prop::Datetime | Prop::Start => match item.time() {
                Some((s, _)) => V::Time(s, s),
                None => V::Null,
            },
            Prop::End => match item.time() {
                Some((_, e)) => V::Time(e, e),
                None => V::Null,
            },
            Prop::Field(name) => match item.property(name) {
                None | Some(PropRef::Null) => V::Null,
                Some(PropRef::Num(x)) => V::Num(x),
                Some(PropRef::Bool(b)) => V::Bool(b),
                Some(PropRef::Str(s)) => V::Str(Cow::Borrowed(s)),
                Some(PropRef::Json(v)) => from_json(v),
            },
        },
        Node::Array(items) => V::Array(items.iter().map(|i| eval(i, item)).collect()),
        Node::Interval(a, b) => {
            let lo = match eval_time(a, item, true) {
                Some(Some((lo, _))) => lo,
                Some(None) => i64::MIN,
                None => return V::Null,
            };
            let hi = match eval_time(b, item, true) {
                Some(Some((_, hi))) => hi,
                Some(None) => i64::MAX,
                None => return V::Null,
            };
            V::Time(lo, hi)
        }
        Node::Arith(op, args) => {
            let mut acc = match num(&eval(&args[0], item)) {
                Some(x) => x,
                None => return V::Null,
            };
            for a in &args[1..] {
                let Some(y) = num(&eval(a, item)) else {
                    return V::Null;
                };
                acc = match op {
                    ArithOp::Add => acc + y,
                    ArithOp::Sub => acc - y,
                    ArithOp::Mul => acc * y,
                    ArithOp::Div if y == 0.0 => return V::Null,
                    ArithOp::Div => acc / y,
                    ArithOp::Mod if y == 0.0 => return V::Null,
                    ArithOp::Mod => acc % y,
                    ArithOp::Pow => acc.powf(y),
                    ArithOp::IntDiv if y == 0.0 => return V::Null,
                    ArithOp::IntDiv => (acc / y).trunc(),
                };
            }
            V::Num(acc)
        }
        Node::Casei(x) => match eval(x, item) {
            V::Str(s) => V::Str(Cow::Owned(s.to_lowercase())),
            V::Array(a) => V::Array(
                a.into_iter()
                    .map(|v| match v {
                        V::Str(s) => V::Str(Cow::Owned(s.to_lowercase())),
                        other => other,
                    })
                    .collect(),
            ),
            other => other,
        },
        Node::Accenti(x) => match eval(x, item) {
            V::Str(s) => V::Str(Cow::Owned(unaccent::unaccent(s.as_ref()))),
            other => other,
        },
        // Predicates used as values.
        other => match test(other, item) {
            Some(b) => V::Bool(b),
            None => V::Null,
        },
    }
}

fn num(v: &V) -> Option<f64> {
    match v {
        V::Num(x) => Some(*x),
        _ => None,
    }
}

/// Evaluate a temporal operand: `Some(Some((lo, hi)))`, `Some(None)` for an
/// open end (`..`), `None` for NULL or a value that is not a time.
fn eval_time(n: &Node, item: &dyn Record, widen_dates: bool) -> Option<Option<(i64, i64)>> {
    match n {
        Node::Lit(Lit::Null) => Some(None),
        Node::Lit(Lit::Date(d)) if widen_dates => Some(Some((*d, *d + DAY_US - 1))),
        _ => match eval(n, item) {
            V::Time(a, b) => Some(Some((a, b))),
            V::Str(s) => as_time(&s).map(Some),
            _ => None,
        },
    }
}

fn as_time(s: &str) -> Option<(i64, i64)> {
    if let Some(t) = datetime::parse_rfc3339(s) {
        return Some((t, t));
    }
    datetime::parse_date(s).map(|d| (d, d))
}

fn compare(a: &V, b: &V) -> Option<Ordering> {
    match (a, b) {
        (V::Num(x), V::Num(y)) => x.partial_cmp(y),
        (V::Str(x), V::Str(y)) => Some(x.as_ref().cmp(y.as_ref())),
        (V::Bool(x), V::Bool(y)) => Some(x.cmp(y)),
        (V::Time(x, _), V::Time(y, _)) => Some(x.cmp(y)),
        (V::Str(s), V::Time(y, _)) => as_time(s).map(|(x, _)| x.cmp(y)),
        (V::Time(x, _), V::Str(s)) => as_time(s).map(|(y, _)| x.cmp(&y)),
        _ => None,
    }
}

fn equal(a: &V, b: &V) -> Option<bool> {
    match (a, b) {
        (V::Null, _) | (_, V::Null) => None,
        (V::Array(x), V::Array(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            let mut all = true;
            for (p, q) in x.iter().zip(y) {
                match equal(p, q) {
                    Some(true) => {}
                    Some(false) => return Some(false),
                    None => all = false,
                }
            }
            if all {
                Some(true)
            } else {
                None
            }
        }
        _ => compare(a, b).map(|o| o == Ordering::Equal),
    }
}

fn and3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// Three-valued truth of a predicate.
fn test(n: &Node, item: &dyn Record) -> Option<bool> {
    match n {
        Node::And(parts) => {
            let mut out = Some(true);
            for p in parts {
                match test(p, item) {
                    Some(false) => return Some(false),
                    Some(true) => {}
                    None => out = None,
                }
            }
            out
        }
        Node::Or(parts) => {
            let mut out = Some(false);
            for p in parts {
                match test(p, item) {
                    Some(true) => return Some(true),
                    Some(false) => {}
                    None => out = None,
                }
            }
            out
        }
        Node::Not(x) => test(x, item).map(|b| !b),
        Node::Cmp(op, l, r) => {
            let a = eval(l, item);
            let b = eval(r, item);
            match op {
                CmpOp::Eq => equal(&a, &b),
                CmpOp::Ne => equal(&a, &b).map(|e| !e),
                _ => compare(&a, &b).map(|o| match op {
                    CmpOp::Lt => o == Ordering::Less,
                    CmpOp::Le => o != Ordering::Greater,
                    CmpOp::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                }),
            }
        }
        Node::IsNull(x) => Some(matches!(eval(x, item), V::Null)),
        Node::LikeLit(x, p) => match eval(x, item) {
            V::Str(s) => Some(p.matches(&s)),
            _ => None,
        },
        Node::Like(x, p) => match (eval(x, item), eval(p, item)) {
            (V::Str(s), V::Str(pat)) => Some(like(&s, &pat)),
            _ => None,
        },
        Node::Between(x, lo, hi) => {
            let v = eval(x, item);
            let l = compare(&v, &eval(lo, item)).map(|o| o != Ordering::Less);
            let h = compare(&v, &eval(hi, item)).map(|o| o != Ordering::Greater);
            and3(l, h)
        }
        Node::In(x, list) => {
            let v = eval(x, item);
            if matches!(v, V::Null) {
                return None;
            }
            let mut unknown = false;
            for c in list {
                match equal(&v, &eval(c, item)) {
                    Some(true) => return Some(true),
                    Some(false) => {}
                    None => unknown = true,
                }
            }
            if unknown {
                None
            } else {
                Some(false)
            }
        }
        Node::Spatial(op, l, r) => {
            let (V::Geom(a, ea), V::Geom(b, eb)) = (eval(l, item), eval(r, item)) else {
                return None;
            };
            if let (Some(ea), Some(eb)) = (ea, eb) {
                let boxes_meet = geometry::bbox_intersects(ea, eb);
                if !boxes_meet {
                    return Some(matches!(op, SpatialOp::Disjoint));
                }
            }
            Some(match op {
                SpatialOp::Intersects => a.intersects(b),
                SpatialOp::Disjoint => !a.intersects(b),
                _ => {
                    let m = a.relate(b);
                    match op {
                        SpatialOp::Equals => m.is_equal_topo(),
                        SpatialOp::Touches => m.is_touches(),
                        SpatialOp::Within => m.is_within(),
                        SpatialOp::Overlaps => m.is_overlaps(),
                        SpatialOp::Crosses => m.is_crosses(),
                        _ => m.is_contains(),
                    }
                }
            })
        }
        Node::Temporal(op, l, r) => {
            let (Some(Some((ll, lh))), Some(Some((rl, rh)))) =
                (eval_time(l, item, true), eval_time(r, item, true))
            else {
                return None;
            };
            Some(match op {
                TemporalOp::Before => lh < rl,
                TemporalOp::After => ll > rh,
                TemporalOp::Meets => lh == rl,
                TemporalOp::MetBy => ll == rh,
                TemporalOp::Overlaps => ll < rl && lh > rl && lh < rh,
                TemporalOp::OverlappedBy => ll > rl && ll < rh && lh > rh,
                TemporalOp::Starts => ll == rl && lh < rh,
                TemporalOp::StartedBy => ll == rl && lh > rh,
                TemporalOp::During => ll > rl && lh < rh,
                TemporalOp::Contains => ll < rl && lh > rh,
                TemporalOp::Finishes => ll > rl && lh == rh,
                TemporalOp::FinishedBy => ll < rl && lh == rh,
                TemporalOp::Equals => ll == rl && lh == rh,
                TemporalOp::Disjoint => !(ll <= rh && lh >= rl),
                TemporalOp::Intersects => ll <= rh && lh >= rl,
            })
        }
        Node::ArrayFn(op, l, r) => {
            let (V::Array(a), V::Array(b)) = (eval(l, item), eval(r, item)) else {
                return None;
            };
            let has = |set: &[V], v: &V| set.iter().any(|s| equal(s, v) == Some(true));
            Some(match op {
                ArrayOp::Equals => a.iter().all(|v| has(&b, v)) && b.iter().all(|v| has(&a, v)),
                ArrayOp::Contains => b.iter().all(|v| has(&a, v)),
                ArrayOp::ContainedBy => a.iter().all(|v| has(&b, v)),
                ArrayOp::Overlaps => a.iter().any(|v| has(&b, v)),
            })
        }
        other => match eval(other, item) {
            V::Bool(b) => Some(b),
            _ => None,
        },
    }
}

/// A compiled `LIKE` pattern: (character, is literal) pairs.
#[derive(Debug, Clone)]
struct Pattern {
    tokens: Vec<(char, bool)>,
    ascii: bool,
}

impl Pattern {
    fn new(pattern: &str) -> Pattern {
        let mut tokens = Vec::new();
        let mut it = pattern.chars();
        while let Some(c) = it.next() {
            if c == '\\' {
                if let Some(n) = it.next() {
                    tokens.push((n, true));
                    continue;
                }
            }
            tokens.push((c, false));
        }
        Pattern {
            ascii: pattern.is_ascii(),
            tokens,
        }
    }

    fn matches(&self, s: &str) -> bool {
        if self.ascii && s.is_ascii() {
            // One byte per character: no decoding, no allocation.
            let b = s.as_bytes();
            wildcard(
                b.len(),
                self.tokens.len(),
                |i, j| {
                    let (c, lit) = self.tokens[j];
                    (!lit && c == '_') || c as u32 == u32::from(b[i])
                },
                |j| !self.tokens[j].1 && self.tokens[j].0 == '%',
            )
        } else {
            let chars: Vec<char> = s.chars().collect();
            wildcard(
                chars.len(),
                self.tokens.len(),
                |i, j| {
                    let (c, lit) = self.tokens[j];
                    (!lit && c == '_') || c == chars[i]
                },
                |j| !self.tokens[j].1 && self.tokens[j].0 == '%',
            )
        }
    }
}

/// Wildcard matching with backtracking to the last `%`: `one(i, j)` says
/// whether text position `i` matches pattern token `j`, `star(j)` whether
/// token `j` is `%`.
fn wildcard(
    n: usize,
    m: usize,
    one: impl Fn(usize, usize) -> bool,
    star: impl Fn(usize) -> bool,
) -> bool {
    let (mut i, mut j) = (0usize, 0usize);
    let mut back: Option<(usize, usize)> = None;
    while i < n {
        if j < m && star(j) {
            back = Some((j, i));
            j += 1;
        } else if j < m && one(i, j) {
            i += 1;
            j += 1;
        } else if let Some((sj, si)) = back {
            j = sj + 1;
            i = si + 1;
            back = Some((sj, si + 1));
        } else {
            return false;
        }
    }
    while j < m && star(j) {
        j += 1;
    }
    j == m
}

/// SQL `LIKE`: `%` any run of characters, `_` one character, `\` escapes.
pub(crate) fn like(s: &str, pattern: &str) -> bool {
    Pattern::new(pattern).matches(s)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    struct T {
        props: Value,
        geom: Option<Geometry<f64>>,
        env: Option<geometry::Bbox>,
        time: Option<(i64, i64)>,
    }

    impl Record for T {
        fn id(&self) -> &str {
            "item-1"
        }
        fn collection(&self) -> &str {
            "c1"
        }
        fn geometry(&self) -> Option<&Geometry<f64>> {
            self.geom.as_ref()
        }
        fn envelope(&self) -> Option<&geometry::Bbox> {
            self.env.as_ref()
        }
        fn time(&self) -> Option<(i64, i64)> {
            self.time
        }
        fn property(&self, name: &str) -> Option<PropRef<'_>> {
            self.props.get(name).map(PropRef::from)
        }
    }

    fn item() -> T {
        let g = geometry::from_geojson(
            &json!({"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}),
        )
        .unwrap();
        let t = datetime::parse_rfc3339("2021-04-08T04:39:23Z").unwrap();
        T {
            props: json!({"eo:cloud_cover": 7, "platform": "Sentinel-2A", "tags": ["a", "b"], "created": "2020-01-01T00:00:00Z", "flag": true, "name": "Émile"}),
            env: geometry::envelope(&g),
            geom: Some(g),
            time: Some((t, t)),
        }
    }

    fn m(text: &str) -> bool {
        Filter::from_text(text).unwrap().matches(&item())
    }

    #[test]
    fn comparisons_and_logic_follow_three_valued_rules() {
        assert!(m("eo:cloud_cover >= 5 AND eo:cloud_cover < 10"));
        assert!(!m("eo:cloud_cover > 50 OR eo:cloud_cover < 5"));
        assert!(m("NOT id = 'other'"));
        // missing property: the comparison is NULL, so is its negation
        assert!(!m("missing = 1"));
        assert!(!m("NOT missing = 1"));
        assert!(m("missing IS NULL"));
        assert!(m("missing IS NULL OR missing = 1"));
        assert!(m("collection = 'c1' AND flag = true"));
        assert!(m("properties.eo:cloud_cover = 7"));
    }

    #[test]
    fn advanced_comparisons_work() {
        assert!(m("eo:cloud_cover BETWEEN 0 AND 10"));
        assert!(!m("eo:cloud_cover NOT BETWEEN 0 AND 10"));
        assert!(m("platform LIKE 'Sentinel%'"));
        assert!(m("platform LIKE 'Sentinel-_A'"));
        assert!(!m("platform LIKE 'sentinel%'"));
        assert!(m("CASEI(platform) LIKE casei('sentinel%')"));
        assert!(m("ACCENTI(name) = accenti('Emile')"));
        assert!(m("platform IN ('x', 'Sentinel-2A')"));
        assert!(m("eo:cloud_cover + 3 = 10"));
        assert!(m("eo:cloud_cover div 2 = 3"));
    }

    #[test]
    fn temporal_and_spatial_functions_work() {
        assert!(m("datetime = TIMESTAMP('2021-04-08T04:39:23Z')"));
        assert!(m(
            "T_INTERSECTS(datetime, INTERVAL('2021-04-08T00:00:00Z', '..'))"
        ));
        assert!(m(
            "T_DURING(datetime, INTERVAL('2021-04-01', '2021-04-30'))"
        ));
        assert!(m("T_BEFORE(created, TIMESTAMP('2021-01-01T00:00:00Z'))"));
        assert!(m("T_INTERSECTS(datetime, DATE('2021-04-08'))"));
        assert!(!m("T_AFTER(datetime, DATE('2021-04-08'))"));
        assert!(m("S_INTERSECTS(geometry, BBOX(1, 1, 3, 3))"));
        assert!(!m("S_INTERSECTS(geometry, POINT(5 5))"));
        assert!(m("S_DISJOINT(geometry, POINT(5 5))"));
        assert!(m("S_CONTAINS(geometry, POINT(1 1))"));
        assert!(m(
            "S_WITHIN(geometry, POLYGON((-1 -1, 3 -1, 3 3, -1 3, -1 -1)))"
        ));
    }

    #[test]
    fn array_functions_are_set_comparisons() {
        assert!(m("A_CONTAINS(tags, ('a'))"));
        assert!(m("A_EQUALS(tags, ('b', 'a'))"));
        assert!(m("A_CONTAINEDBY(tags, ('a', 'b', 'c'))"));
        assert!(!m("A_OVERLAPS(tags, ('x'))"));
    }

    #[test]
    fn unknown_functions_and_bad_literals_are_refused_with_a_reason() {
        let e = Filter::from_text("foo(x) = 1").unwrap_err();
        assert!(e.contains("unknown operator or function 'foo'"), "{e}");
        let e = Filter::from_text("datetime > TIMESTAMP('yesterday')").unwrap_err();
        assert!(e.contains("RFC 3339"), "{e}");
        let e = Filter::from_text("(x").unwrap_err();
        assert!(e.contains("cql2-text"), "{e}");
    }

    #[test]
    fn the_json_encoding_compiles_the_same_as_the_text_one() {
        let f = Filter::from_json(
            &json!({"op": "between", "args": [{"property": "eo:cloud_cover"}, [0, 50]]}),
        )
        .unwrap();
        assert!(f.matches(&item()));
        let f = Filter::from_json(&json!({"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [1, 1]}]})).unwrap();
        assert!(f.matches(&item()));
    }

    #[test]
    fn hints_read_what_every_match_meets_from_the_top_conjunction() {
        let f = Filter::from_text(
            "S_INTERSECTS(geometry, BBOX(0, 0, 10, 10)) AND S_INTERSECTS(geometry, BBOX(20, 20, 21, 21)) \
             AND datetime >= TIMESTAMP('2021-01-01T00:00:00Z') AND T_BEFORE(datetime, DATE('2021-02-01')) \
             AND collection IN ('a', 'b') AND eo:cloud_cover < 5",
        )
        .unwrap();
        let h = f.hints();
        // Two boxes: the smaller one, not their (empty) intersection.
        assert_eq!(h.envelope, Some([20.0, 20.0, 21.0, 21.0]));
        let lo = datetime::parse_rfc3339("2021-01-01T00:00:00Z").unwrap();
        let feb = datetime::parse_date("2021-02-01").unwrap();
        assert_eq!(h.start, Some((lo, feb - 1)));
        assert_eq!(h.collections, Some(vec!["a".to_string(), "b".to_string()]));
        // Nothing is read from a disjunction.
        let g = Filter::from_text("collection = 'a' OR S_INTERSECTS(geometry, BBOX(0, 0, 1, 1))")
            .unwrap();
        assert_eq!(g.hints(), Hints::default());
    }

    /// An independent, recursive `LIKE`.
    fn oracle(s: &[char], p: &[(char, bool)]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(('%', false)) => (0..=s.len()).any(|k| oracle(&s[k..], &p[1..])),
            Some(&(c, lit)) => {
                !s.is_empty() && ((!lit && c == '_') || s[0] == c) && oracle(&s[1..], &p[1..])
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn like_agrees_with_a_recursive_matcher(s in "[ab_%é]{0,8}", p in "[ab_%é\\\\]{0,6}") {
            let toks = Pattern::new(&p).tokens;
            let chars: Vec<char> = s.chars().collect();
            proptest::prop_assert_eq!(like(&s, &p), oracle(&chars, &toks), "{} LIKE {}", s, p);
        }
    }

    #[test]
    fn like_handles_wildcards_and_escapes() {
        assert!(like("abc", "a%"));
        assert!(like("abc", "%c"));
        assert!(like("abc", "a_c"));
        assert!(!like("abc", "a_"));
        assert!(like("a%c", "a\\%c"));
        assert!(!like("abc", "a\\%c"));
        assert!(like("", "%"));
        assert!(like("aXbXc", "a%b%c"));
    }
}

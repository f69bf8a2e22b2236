//! Property test: random items and random searches (bbox — across the
//! antimeridian too —, intersects, datetime intervals with open ends, ids,
//! collections, CQL2 comparisons / and / or / not / IS NULL / BETWEEN / IN /
//! LIKE / S_INTERSECTS / temporal functions, in text or JSON, sortby), paged
//! with a random limit: the embedded backend's pages, put together, are
//! exactly the items a brute-force filter written here, independently,
//! selects, in the order it sorts them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/catalog.rs"]
mod catalog;

use arco_server::search::Endpoint;
use arco_server::{EmbeddedBackend, LoadedCatalog, SearchRequest};
use catalog::GenItem;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::cmp::Ordering;

const DAY: i64 = 86_400;
const T0: i64 = 1_500_000_000;
const PLATFORMS: [&str; 3] = ["s2a", "s2b", "l8"];
const COLLECTIONS: [&str; 3] = ["ca", "cb", "cc"];

fn arb_item(i: usize) -> impl Strategy<Value = GenItem> {
    (
        0usize..3,
        -180.0f64..170.0,
        -90.0f64..80.0,
        0.0f64..20.0,
        0.0f64..10.0,
        0i64..1000,
        prop::option::weighted(0.3, 0i64..50),
        prop::option::weighted(0.8, 0u32..100),
        prop::option::weighted(0.8, 0usize..3),
    )
        .prop_map(move |(c, w, s, dw, dh, d, dur, cloud, plat)| GenItem {
            id: format!("i{i:03}"),
            collection: COLLECTIONS[c].to_string(),
            bbox: [w, s, (w + dw).min(180.0), (s + dh).min(90.0)],
            start: T0 + d * DAY,
            end: dur.map(|x| T0 + d * DAY + x * DAY),
            cloud: cloud.map(f64::from),
            platform: plat.map(|p| PLATFORMS[p].to_string()),
            tags: Vec::new(),
        })
}

fn arb_items() -> impl Strategy<Value = Vec<GenItem>> {
    (1usize..60).prop_flat_map(|n| (0..n).map(arb_item).collect::<Vec<_>>())
}

/// A CQL2 predicate, evaluated here by its own rules.
#[derive(Debug, Clone)]
enum F {
    Cloud(&'static str, u32),
    CloudNull,
    CloudBetween(u32, u32),
    PlatformEq(usize),
    PlatformIn(Vec<usize>),
    PlatformLike(&'static str),
    IdEq(usize),
    SIntersects([f64; 4]),
    TAfter(i64),
    TBefore(i64),
    TIntersects(i64, i64),
    And(Box<F>, Box<F>),
    Or(Box<F>, Box<F>),
    Not(Box<F>),
}

fn arb_box() -> impl Strategy<Value = [f64; 4]> {
    (
        -180.0f64..180.0,
        -90.0f64..60.0,
        0.0f64..120.0,
        0.0f64..60.0,
    )
        .prop_map(|(w, s, dw, dh)| {
            let e = w + dw;
            // Wider than the map: crosses the antimeridian.
            let e = if e > 180.0 { e - 360.0 } else { e };
            [w, s, e, (s + dh).min(90.0)]
        })
}

fn arb_leaf() -> impl Strategy<Value = F> {
    prop_oneof![
        (
            prop::sample::select(vec!["=", "<>", "<", "<=", ">", ">="]),
            0u32..100
        )
            .prop_map(|(o, v)| F::Cloud(o, v)),
        Just(F::CloudNull),
        (0u32..100, 0u32..100).prop_map(|(a, b)| F::CloudBetween(a.min(b), a.max(b))),
        (0usize..3).prop_map(F::PlatformEq),
        prop::collection::vec(0usize..3, 1..3).prop_map(F::PlatformIn),
        prop::sample::select(vec!["s%", "s2_", "%8", "l%"]).prop_map(F::PlatformLike),
        (0usize..60).prop_map(F::IdEq),
        arb_box().prop_map(|b| {
            // Spatial literals in filters do not cross the antimeridian.
            if b[0] > b[2] {
                F::SIntersects([b[0], b[1], 180.0, b[3]])
            } else {
                F::SIntersects(b)
            }
        }),
        (0i64..1000).prop_map(|d| F::TAfter(T0 + d * DAY)),
        (0i64..1000).prop_map(|d| F::TBefore(T0 + d * DAY)),
        (0i64..1000, 0i64..300).prop_map(|(d, l)| F::TIntersects(T0 + d * DAY, T0 + (d + l) * DAY)),
    ]
}

fn arb_filter() -> impl Strategy<Value = F> {
    arb_leaf().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| F::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| F::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| F::Not(Box::new(a))),
        ]
    })
}

fn ts(secs: i64) -> String {
    catalog::rfc3339(secs)
}

fn bbox_poly_text(b: &[f64; 4]) -> String {
    format!(
        "POLYGON(({w} {s}, {e} {s}, {e} {n}, {w} {n}, {w} {s}))",
        w = b[0],
        s = b[1],
        e = b[2],
        n = b[3]
    )
}

impl F {
    fn text(&self) -> String {
        match self {
            F::Cloud(o, v) => format!("eo:cloud_cover {o} {v}"),
            F::CloudNull => "eo:cloud_cover IS NULL".into(),
            F::CloudBetween(a, b) => format!("eo:cloud_cover BETWEEN {a} AND {b}"),
            F::PlatformEq(p) => format!("platform = '{}'", PLATFORMS[*p]),
            F::PlatformIn(ps) => format!(
                "platform IN ({})",
                ps.iter()
                    .map(|p| format!("'{}'", PLATFORMS[*p]))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            F::PlatformLike(p) => format!("platform LIKE '{p}'"),
            F::IdEq(i) => format!("id = 'i{i:03}'"),
            F::SIntersects(b) => format!("S_INTERSECTS(geometry, {})", bbox_poly_text(b)),
            F::TAfter(t) => format!("T_AFTER(datetime, TIMESTAMP('{}'))", ts(*t)),
            F::TBefore(t) => format!("T_BEFORE(datetime, TIMESTAMP('{}'))", ts(*t)),
            F::TIntersects(a, b) => {
                format!(
                    "T_INTERSECTS(datetime, INTERVAL('{}', '{}'))",
                    ts(*a),
                    ts(*b)
                )
            }
            F::And(a, b) => format!("({}) AND ({})", a.text(), b.text()),
            F::Or(a, b) => format!("({}) OR ({})", a.text(), b.text()),
            F::Not(a) => format!("NOT ({})", a.text()),
        }
    }

    fn json(&self) -> Value {
        let p = |n: &str| json!({"property": n});
        match self {
            F::Cloud(o, v) => json!({"op": o, "args": [p("eo:cloud_cover"), v]}),
            F::CloudNull => json!({"op": "isNull", "args": [p("eo:cloud_cover")]}),
            F::CloudBetween(a, b) => json!({"op": "between", "args": [p("eo:cloud_cover"), a, b]}),
            F::PlatformEq(i) => json!({"op": "=", "args": [p("platform"), PLATFORMS[*i]]}),
            F::PlatformIn(ps) => {
                json!({"op": "in", "args": [p("platform"), ps.iter().map(|i| PLATFORMS[*i]).collect::<Vec<_>>()]})
            }
            F::PlatformLike(s) => json!({"op": "like", "args": [p("platform"), s]}),
            F::IdEq(i) => json!({"op": "=", "args": [p("id"), format!("i{i:03}")]}),
            F::SIntersects(b) => {
                json!({"op": "s_intersects", "args": [p("geometry"), catalog::polygon(*b)]})
            }
            F::TAfter(t) => {
                json!({"op": "t_after", "args": [p("datetime"), {"timestamp": ts(*t)}]})
            }
            F::TBefore(t) => {
                json!({"op": "t_before", "args": [p("datetime"), {"timestamp": ts(*t)}]})
            }
            F::TIntersects(a, b) => {
                json!({"op": "t_intersects", "args": [p("datetime"), {"interval": [ts(*a), ts(*b)]}]})
            }
            F::And(a, b) => json!({"op": "and", "args": [a.json(), b.json()]}),
            F::Or(a, b) => json!({"op": "or", "args": [a.json(), b.json()]}),
            F::Not(a) => json!({"op": "not", "args": [a.json()]}),
        }
    }

    /// SQL three-valued truth.
    fn eval(&self, it: &GenItem) -> Option<bool> {
        match self {
            F::Cloud(o, v) => it.cloud.map(|c| {
                let v = f64::from(*v);
                match *o {
                    "=" => c == v,
                    "<>" => c != v,
                    "<" => c < v,
                    "<=" => c <= v,
                    ">" => c > v,
                    _ => c >= v,
                }
            }),
            F::CloudNull => Some(it.cloud.is_none()),
            F::CloudBetween(a, b) => it.cloud.map(|c| c >= f64::from(*a) && c <= f64::from(*b)),
            F::PlatformEq(i) => it.platform.as_ref().map(|p| p == PLATFORMS[*i]),
            F::PlatformIn(ps) => it
                .platform
                .as_ref()
                .map(|p| ps.iter().any(|i| p == PLATFORMS[*i])),
            F::PlatformLike(pat) => it.platform.as_ref().map(|p| match *pat {
                "s%" => p.starts_with('s'),
                "s2_" => p.len() == 3 && p.starts_with("s2"),
                "%8" => p.ends_with('8'),
                _ => p.starts_with('l'),
            }),
            F::IdEq(i) => Some(it.id == format!("i{i:03}")),
            F::SIntersects(b) => Some(boxes_meet(&it.bbox, b)),
            F::TAfter(t) => Some(it.start > *t),
            F::TBefore(t) => Some(it.start < *t),
            F::TIntersects(a, b) => Some(it.start >= *a && it.start <= *b),
            F::And(a, b) => match (a.eval(it), b.eval(it)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            F::Or(a, b) => match (a.eval(it), b.eval(it)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            F::Not(a) => a.eval(it).map(|x| !x),
        }
    }
}

/// Closed boxes overlap; `q` may cross the antimeridian (west > east).
fn boxes_meet(item: &[f64; 4], q: &[f64; 4]) -> bool {
    let plain =
        |a: &[f64; 4], b: &[f64; 4]| a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];
    if q[0] > q[2] {
        plain(item, &[q[0], q[1], 180.0, q[3]]) || plain(item, &[-180.0, q[1], q[2], q[3]])
    } else {
        plain(item, q)
    }
}

#[derive(Debug, Clone)]
struct Query {
    bbox: Option<[f64; 4]>,
    intersects: Option<[f64; 4]>,
    datetime: Option<(Option<i64>, Option<i64>)>,
    ids: Option<Vec<usize>>,
    collections: Option<Vec<usize>>,
    filter: Option<(F, bool)>,
    sort_cloud: Option<bool>,
    limit: usize,
}

fn arb_query() -> impl Strategy<Value = Query> {
    (
        prop::option::weighted(0.3, arb_box()),
        prop::option::weighted(0.2, arb_box()),
        prop::option::weighted(
            0.4,
            (
                prop::option::weighted(0.8, 0i64..1000),
                prop::option::weighted(0.8, 0i64..400),
            )
                .prop_filter("one end", |(a, b)| a.is_some() || b.is_some()),
        ),
        prop::option::weighted(0.15, prop::collection::vec(0usize..60, 1..8)),
        prop::option::weighted(0.3, prop::collection::vec(0usize..3, 1..3)),
        prop::option::weighted(0.6, (arb_filter(), any::<bool>())),
        prop::option::weighted(0.3, any::<bool>()),
        1usize..8,
    )
        .prop_map(|(bbox, inter, dt, ids, colls, filter, sort, limit)| Query {
            bbox,
            // Not both: that is a 400.
            intersects: if bbox.is_some() {
                None
            } else {
                inter.filter(|b| b[0] <= b[2])
            },
            datetime: dt.map(|(a, l)| {
                let a = a.map(|d| T0 + d * DAY);
                let b = l.map(|l| a.unwrap_or(T0) + l * DAY);
                (a, b)
            }),
            ids,
            collections: colls,
            filter,
            sort_cloud: sort,
            limit,
        })
}

impl Query {
    fn body(&self) -> Value {
        let mut m = serde_json::Map::new();
        if let Some(b) = self.bbox {
            m.insert("bbox".into(), json!(b));
        }
        if let Some(b) = self.intersects {
            m.insert("intersects".into(), catalog::polygon(b));
        }
        if let Some((a, b)) = self.datetime {
            let f = |x: Option<i64>| x.map(ts).unwrap_or_else(|| "..".to_string());
            m.insert("datetime".into(), json!(format!("{}/{}", f(a), f(b))));
        }
        if let Some(ids) = &self.ids {
            m.insert(
                "ids".into(),
                json!(ids.iter().map(|i| format!("i{i:03}")).collect::<Vec<_>>()),
            );
        }
        if let Some(cs) = &self.collections {
            m.insert(
                "collections".into(),
                json!(cs.iter().map(|c| COLLECTIONS[*c]).collect::<Vec<_>>()),
            );
        }
        if let Some((f, as_text)) = &self.filter {
            if *as_text {
                m.insert("filter".into(), json!(f.text()));
                m.insert("filter-lang".into(), json!("cql2-text"));
            } else {
                m.insert("filter".into(), f.json());
            }
        }
        if let Some(asc) = self.sort_cloud {
            m.insert(
                "sortby".into(),
                json!([{"field": "eo:cloud_cover", "direction": if asc { "asc" } else { "desc" }}]),
            );
        }
        m.insert("limit".into(), json!(self.limit));
        Value::Object(m)
    }

    fn brute_force(&self, items: &[GenItem]) -> Vec<String> {
        let mut hits: Vec<&GenItem> = items
            .iter()
            .filter(|it| {
                self.bbox.is_none_or(|q| boxes_meet(&it.bbox, &q))
                    && self.intersects.is_none_or(|q| boxes_meet(&it.bbox, &q))
                    && self.datetime.is_none_or(|(a, b)| {
                        let end = it.end.unwrap_or(it.start);
                        a.is_none_or(|a| end >= a) && b.is_none_or(|b| it.start <= b)
                    })
                    && self
                        .ids
                        .as_ref()
                        .is_none_or(|ids| ids.iter().any(|i| it.id == format!("i{i:03}")))
                    && self
                        .collections
                        .as_ref()
                        .is_none_or(|cs| cs.iter().any(|c| it.collection == COLLECTIONS[*c]))
                    && self
                        .filter
                        .as_ref()
                        .is_none_or(|(f, _)| f.eval(it) == Some(true))
            })
            .collect();
        match self.sort_cloud {
            None => hits.sort_by(|a, b| {
                b.start
                    .cmp(&a.start)
                    .then_with(|| b.collection.cmp(&a.collection))
                    .then_with(|| b.id.cmp(&a.id))
            }),
            Some(asc) => hits.sort_by(|a, b| {
                // Missing last ascending, first descending; ties by
                // collection and id in the same direction.
                let o = match (a.cloud, b.cloud) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Greater,
                    (Some(_), None) => Ordering::Less,
                    (Some(x), Some(y)) => x.total_cmp(&y),
                }
                .then_with(|| a.collection.cmp(&b.collection))
                .then_with(|| a.id.cmp(&b.id));
                if asc {
                    o
                } else {
                    o.reverse()
                }
            }),
        }
        hits.iter().map(|i| i.id.clone()).collect()
    }
}

fn backend(items: &[GenItem]) -> EmbeddedBackend {
    let mut cat = LoadedCatalog::default();
    for c in COLLECTIONS {
        cat.collections.push(arco_server::load::LoadedCollection {
            json: json!({"type": "Collection", "id": c, "stac_version": "1.1.0", "description": c, "license": "other",
                         "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]}, "temporal": {"interval": [[null, null]]}}, "links": []}),
            location: format!("mem:{c}"),
        });
    }
    for it in items {
        cat.items.push(arco_server::load::LoadedItem::from_value(
            &catalog::item_json(it),
            format!("mem:{}", it.id),
        ));
    }
    EmbeddedBackend::new(cat).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn pages_of_a_search_are_exactly_the_brute_force_selection_in_order(items in arb_items(), q in arb_query()) {
        let b = backend(&items);
        let want = q.brute_force(&items);
        let mut body = q.body();
        let mut got: Vec<String> = Vec::new();
        let mut pages = 0;
        loop {
            let req = SearchRequest::from_json(&body, Endpoint::Search)
                .unwrap_or_else(|e| panic!("{body}: {e}"));
            let page = b.search(&req).unwrap();
            prop_assert_eq!(page.number_matched, Some(want.len() as u64));
            prop_assert!(page.items.len() <= q.limit);
            got.extend(page.items.iter().map(|i| i.id().to_string()));
            pages += 1;
            prop_assert!(pages <= want.len() + 1, "paging does not end");
            match page.next {
                Some(t) => body["token"] = json!(t),
                None => break,
            }
        }
        prop_assert_eq!(got, want, "query {}", q.body());
    }
}

//! The embedded backend: the loaded catalogs held in memory, with columnar
//! indexes so that a search stays fast at 100,000 items.
//!
//! Items are kept in the default sort order — `datetime` descending (the
//! item's `datetime`, or `start_datetime` for a range), then collection id
//! and item id descending, which is pgstac's order — beside flat columns of
//! their times, bounding boxes and collections, an id index, per-collection
//! index lists, an R-tree of the boxes, and the item properties stored by
//! column. A search picks the smallest candidate set (the ids asked for, the
//! slice of the time-ordered items the `datetime` interval can touch, the
//! R-tree hits of a small box, the items of the collections asked for — each
//! also read from the top-level conjunction of the CQL2 filter: an
//! `S_INTERSECTS` with a literal geometry, a comparison or temporal function
//! on `datetime`, `collection = ...`, `id IN (...)`), checks the cheap column
//! predicates first and evaluates the filter only on the survivors (on
//! several threads for large sets). Items themselves are kept as compact JSON
//! text and written into responses as they are, links spliced in.
//!
//! Items without a time sort last and never match a `datetime` constraint.
//! With `sortby`, ties are broken by collection and id in the direction of the
//! first key (pgstac's rule); a missing value sorts after every value
//! (PostgreSQL's rule: last ascending, first descending).

mod columns;

use crate::cql::{PropRef, Record};
use crate::datetime;
use crate::error::{ApiError, LoadError};
use crate::geometry::{self, Bbox};
use crate::load::LoadedCatalog;
use crate::queryables::Inferred;
use crate::search::SearchRequest;
use base64::Engine;
use columns::Columns;
use geo::{Geometry, Intersects};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

const NO_TIME: (i64, i64) = (i64::MIN, i64::MIN);

/// Candidate sets at least this large are filtered on several threads.
const PARALLEL_FROM: usize = 16_384;

/// An item as kept by the embedded backend: its compact JSON without
/// `links` (a quarter of the memory of a parsed value), its own external
/// links, and its id and collection for the links the server writes.
#[derive(Debug)]
pub struct RawItem {
    /// The item's JSON object, without its `links` member.
    pub json: Box<str>,
    /// The item's own links that the server keeps (external ones).
    pub links: Vec<Value>,
    /// The item id.
    pub id: Box<str>,
    /// The collection id.
    pub collection: Arc<str>,
}

/// An item of a response.
#[derive(Debug, Clone)]
pub enum ItemDoc {
    /// A parsed item (pgstac's answers).
    Value(Arc<Value>),
    /// A stored item (the embedded backend).
    Raw(Arc<RawItem>),
}

impl ItemDoc {
    /// The item id.
    pub fn id(&self) -> &str {
        match self {
            ItemDoc::Value(v) => v.get("id").and_then(Value::as_str).unwrap_or(""),
            ItemDoc::Raw(r) => &r.id,
        }
    }

    /// The id of its collection.
    pub fn collection(&self) -> &str {
        match self {
            ItemDoc::Value(v) => v.get("collection").and_then(Value::as_str).unwrap_or(""),
            ItemDoc::Raw(r) => &r.collection,
        }
    }

    /// The item as a JSON value (with its own links).
    pub fn to_value(&self) -> Value {
        match self {
            ItemDoc::Value(v) => (**v).clone(),
            ItemDoc::Raw(r) => {
                let mut v: Value = serde_json::from_str(&r.json).unwrap_or(Value::Null);
                if let Some(o) = v.as_object_mut() {
                    o.insert("links".into(), Value::Array(r.links.clone()));
                }
                v
            }
        }
    }
}

/// One page of search results.
#[derive(Debug, Clone, Default)]
pub struct SearchPage {
    /// The items of this page, in order.
    pub items: Vec<ItemDoc>,
    /// How many items match in all, when known.
    pub number_matched: Option<u64>,
    /// Token of the next page.
    pub next: Option<String>,
    /// Token of the previous page.
    pub prev: Option<String>,
}

#[derive(Debug)]
struct CollectionEntry {
    id: String,
    json: Arc<Value>,
    queryables: Inferred,
}

#[derive(Debug)]
struct ItemEntry {
    raw: Arc<RawItem>,
    geometry: Option<Geometry<f64>>,
}

/// All loaded collections and items, indexed.
#[derive(Debug)]
pub struct EmbeddedBackend {
    root: Option<Value>,
    collections: Vec<CollectionEntry>,
    collection_index: HashMap<String, u32>,
    items: Vec<ItemEntry>,
    props: Columns,
    times: Vec<(i64, i64)>,
    bboxes: Vec<Bbox>,
    coll_of: Vec<u32>,
    by_id: HashMap<Box<str>, Vec<u32>>,
    per_collection: Vec<Vec<u32>>,
    rtree: RTree<GeomWithData<Rectangle<[f64; 2]>, u32>>,
    max_duration: i64,
    extent: Option<Bbox>,
    queryables: Inferred,
}

/// A view of one item for the filter evaluator.
struct View<'a> {
    b: &'a EmbeddedBackend,
    i: usize,
}

impl Record for View<'_> {
    fn id(&self) -> &str {
        &self.b.items[self.i].raw.id
    }
    fn collection(&self) -> &str {
        &self.b.collections[self.b.coll_of[self.i] as usize].id
    }
    fn geometry(&self) -> Option<&Geometry<f64>> {
        self.b.items[self.i].geometry.as_ref()
    }
    fn envelope(&self) -> Option<&Bbox> {
        let b = &self.b.bboxes[self.i];
        (!b[0].is_nan()).then_some(b)
    }
    fn time(&self) -> Option<(i64, i64)> {
        let t = self.b.times[self.i];
        (t != NO_TIME).then_some(t)
    }
    fn property(&self, name: &str) -> Option<PropRef<'_>> {
        self.b.props.get(name, self.i)
    }
}

/// The time of an item: `(datetime, datetime)` or `(start, end)`.
pub fn item_time(props: Option<&Value>) -> Option<(i64, i64)> {
    let p = props?;
    let get = |k: &str| {
        p.get(k)
            .and_then(Value::as_str)
            .and_then(datetime::parse_rfc3339)
    };
    if let Some(t) = get("datetime") {
        return Some((t, t));
    }
    match (get("start_datetime"), get("end_datetime")) {
        (Some(s), Some(e)) => Some((s, e.max(s))),
        (Some(s), None) => Some((s, s)),
        (None, Some(e)) => Some((e, e)),
        (None, None) => None,
    }
}

struct Prepared {
    entry: ItemEntry,
    properties: serde_json::Map<String, Value>,
    time: (i64, i64),
    bbox: Bbox,
    coll: u32,
}

/// The default order: time descending, then collection and id descending.
fn default_cmp(a: &Prepared, b: &Prepared, colls: &[String]) -> Ordering {
    b.time
        .0
        .cmp(&a.time.0)
        .then_with(|| colls[b.coll as usize].cmp(&colls[a.coll as usize]))
        .then_with(|| b.entry.raw.id.cmp(&a.entry.raw.id))
}

impl EmbeddedBackend {
    /// Index a loaded catalog.
    pub fn new(cat: LoadedCatalog) -> Result<Self, LoadError> {
        let mut collections = Vec::with_capacity(cat.collections.len());
        let mut collection_index = HashMap::new();
        for (i, c) in cat.collections.into_iter().enumerate() {
            let id = c
                .json
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            collection_index.insert(id.clone(), i as u32);
            collections.push(CollectionEntry {
                id,
                json: Arc::new(c.json),
                queryables: Inferred::default(),
            });
        }
        let names: Vec<String> = collections.iter().map(|c| c.id.clone()).collect();
        let shared_names: Vec<Arc<str>> = names.iter().map(|n| Arc::from(n.as_str())).collect();
        let mut prepared: Vec<Prepared> = cat
            .items
            .into_par_iter()
            .map(|it| {
                let mut j = it.value()?;
                let id: Box<str> = it.id.as_str().into();
                let coll_name = it.collection.as_str();
                let coll = *collection_index.get(coll_name).ok_or_else(|| {
                    LoadError::invalid(&it.location, format!("unknown collection '{coll_name}'"))
                })?;
                let geometry = match j.get("geometry") {
                    None | Some(Value::Null) => None,
                    Some(g) => Some(geometry::from_geojson(g).map_err(|e| {
                        LoadError::invalid(&it.location, format!("item '{id}' geometry: {e}"))
                    })?),
                };
                let bbox = j
                    .get("bbox")
                    .and_then(geometry::bbox_from_json)
                    .or_else(|| geometry.as_ref().and_then(geometry::envelope))
                    .unwrap_or([f64::NAN; 4]);
                let time = item_time(j.get("properties")).unwrap_or(NO_TIME);
                let (links, properties) = match j.as_object_mut() {
                    Some(o) => {
                        let links = match o.shift_remove("links") {
                            Some(Value::Array(a)) => a,
                            _ => Vec::new(),
                        };
                        let props = match o.get("properties") {
                            Some(Value::Object(p)) => p.clone(),
                            _ => serde_json::Map::new(),
                        };
                        (links, props)
                    }
                    None => (Vec::new(), serde_json::Map::new()),
                };
                let json = serde_json::to_string(&j)
                    .map_err(|e| LoadError::invalid(&it.location, format!("item '{id}': {e}")))?
                    .into_boxed_str();
                Ok(Prepared {
                    entry: ItemEntry {
                        raw: Arc::new(RawItem {
                            json,
                            links,
                            id,
                            collection: shared_names[coll as usize].clone(),
                        }),
                        geometry,
                    },
                    properties,
                    time,
                    bbox,
                    coll,
                })
            })
            .collect::<Result<_, LoadError>>()?;
        prepared.par_sort_unstable_by(|a, b| default_cmp(a, b, &names));

        let n = prepared.len();
        let mut items = Vec::with_capacity(n);
        let mut properties = Vec::with_capacity(n);
        let mut times = Vec::with_capacity(n);
        let mut bboxes = Vec::with_capacity(n);
        let mut coll_of = Vec::with_capacity(n);
        let mut by_id: HashMap<Box<str>, Vec<u32>> = HashMap::with_capacity(n);
        let mut per_collection = vec![Vec::new(); collections.len()];
        let mut rects = Vec::with_capacity(n);
        let mut max_duration = 0i64;
        let mut extent: Option<Bbox> = None;
        for (i, p) in prepared.into_iter().enumerate() {
            let i32_ = i as u32;
            by_id.entry(p.entry.raw.id.clone()).or_default().push(i32_);
            per_collection[p.coll as usize].push(i32_);
            if p.time != NO_TIME {
                max_duration = max_duration.max(p.time.1.saturating_sub(p.time.0));
            }
            if !p.bbox[0].is_nan() {
                let (a, b) = geometry::split(&p.bbox);
                for part in std::iter::once(a).chain(b) {
                    rects.push(GeomWithData::new(
                        Rectangle::from_corners([part[0], part[1]], [part[2], part[3]]),
                        i32_,
                    ));
                    extent = Some(match extent {
                        None => part,
                        Some(e) => [
                            e[0].min(part[0]),
                            e[1].min(part[1]),
                            e[2].max(part[2]),
                            e[3].max(part[3]),
                        ],
                    });
                }
            }
            times.push(p.time);
            bboxes.push(p.bbox);
            coll_of.push(p.coll);
            items.push(p.entry);
            properties.push(p.properties);
        }
        // Queryables, per collection and for all.
        let per: Vec<Inferred> = per_collection
            .par_iter()
            .map(|idx| {
                let mut q = Inferred::default();
                for &i in idx {
                    q.add_properties(&properties[i as usize]);
                }
                q
            })
            .collect();
        let mut all = Inferred::default();
        for (c, q) in collections.iter_mut().zip(per) {
            all.merge(&q);
            c.queryables = q;
        }
        Ok(EmbeddedBackend {
            root: cat.root,
            collections,
            collection_index,
            items,
            props: Columns::build(properties),
            times,
            bboxes,
            coll_of,
            by_id,
            per_collection,
            rtree: RTree::bulk_load(rects),
            max_duration,
            extent,
            queryables: all,
        })
    }

    /// The root catalog the sources came with, if any.
    pub fn root(&self) -> Option<&Value> {
        self.root.as_ref()
    }

    /// Number of items.
    pub fn item_count(&self) -> usize {
        self.items.len()
    }

    /// Every collection, in load order.
    pub fn collections(&self) -> Vec<Arc<Value>> {
        self.collections.iter().map(|c| c.json.clone()).collect()
    }

    /// One collection.
    pub fn collection(&self, id: &str) -> Option<Arc<Value>> {
        self.collection_index
            .get(id)
            .map(|&i| self.collections[i as usize].json.clone())
    }

    /// One item.
    pub fn item(&self, collection: &str, id: &str) -> Option<ItemDoc> {
        let &c = self.collection_index.get(collection)?;
        self.by_id
            .get(id)?
            .iter()
            .find(|&&i| self.coll_of[i as usize] == c)
            .map(|&i| ItemDoc::Raw(self.items[i as usize].raw.clone()))
    }

    /// The queryables inferred for one collection (or for all).
    pub fn queryables(&self, collection: Option<&str>) -> Option<&Inferred> {
        match collection {
            None => Some(&self.queryables),
            Some(c) => self
                .collection_index
                .get(c)
                .map(|&i| &self.collections[i as usize].queryables),
        }
    }

    /// Run a search.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchPage, ApiError> {
        let offset = match &req.token {
            None => 0,
            Some(t) => decode_token(t)?,
        };
        let mut matches = self.matching(req);
        let total = matches.len();
        let end = offset.saturating_add(req.limit).min(total);
        if !req.sortby.is_empty() && offset < total {
            self.sort(&mut matches, req, end);
        }
        let page: Vec<ItemDoc> = if offset < total {
            matches[offset..end]
                .iter()
                .map(|&i| ItemDoc::Raw(self.items[i as usize].raw.clone()))
                .collect()
        } else {
            Vec::new()
        };
        Ok(SearchPage {
            items: page,
            number_matched: Some(total as u64),
            next: (end < total).then(|| encode_token(end)),
            prev: (offset > 0).then(|| encode_token(offset.saturating_sub(req.limit))),
        })
    }

    /// Indices (in default order) of every item matching `req`.
    fn matching(&self, req: &SearchRequest) -> Vec<u32> {
        let n = self.items.len();
        let coll_mask: Option<Vec<bool>> = req.collections.as_ref().map(|cs| {
            let mut m = vec![false; self.collections.len()];
            for c in cs {
                if let Some(&i) = self.collection_index.get(c.as_str()) {
                    m[i as usize] = true;
                }
            }
            m
        });
        let (tlo, thi) = req
            .datetime
            .map(|d| (d.lo(), d.hi()))
            .unwrap_or((i64::MIN, i64::MAX));
        let has_time = req.datetime.is_some();
        let space: Option<Bbox> = req
            .bbox
            .or_else(|| req.intersects.as_ref().map(|g| g.envelope));
        // The exact shape to intersect items with: the geometry, else the box.
        let bbox_shape: Option<Geometry<f64>> = req.bbox.as_ref().map(geometry::bbox_geometry);
        let shape: Option<&Geometry<f64>> = req
            .intersects
            .as_ref()
            .map(|g| &g.geometry)
            .or(bbox_shape.as_ref());
        let ids: Option<HashSet<&str>> = req
            .ids
            .as_ref()
            .map(|v| v.iter().map(String::as_str).collect());

        let hints = req.filter.as_ref().map(|f| f.hints()).unwrap_or_default();

        // The slice of the time-ordered items a datetime interval can touch:
        // starts in [lo - longest duration, hi]; a filter on `datetime`
        // narrows the starts further.
        let (mut a, mut b) = (0, n);
        if has_time {
            a = self.times.partition_point(|t| t.0 > thi);
            let floor = tlo.saturating_sub(self.max_duration);
            b = self.times.partition_point(|t| t.0 >= floor);
        }
        if let Some((lo, hi)) = hints.start {
            a = a.max(self.times.partition_point(|t| t.0 > hi));
            b = b.min(self.times.partition_point(|t| t.0 >= lo));
        }
        let b = b.max(a);
        // A box every match meets: the request's, else the filter's.
        let probe: Option<Bbox> = space.or(hints.envelope);
        let in_slice = |i: u32| (i as usize) >= a && (i as usize) < b;

        // Candidates, ascending: the smallest of the ids asked for, the R-tree
        // hits of a small box, the items of the collections asked for, the
        // time slice.
        let want_ids = req.ids.as_ref().or(hints.ids.as_ref());
        let want_colls = req.collections.as_ref().or(hints.collections.as_ref());
        let candidates: Vec<u32> = if let Some(ids) = want_ids {
            let mut v: Vec<u32> = ids
                .iter()
                .filter_map(|id| self.by_id.get(id.as_str()))
                .flatten()
                .copied()
                .filter(|&i| in_slice(i))
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        } else {
            let range = b - a;
            let colls: Vec<u32> = {
                let mut cs: Vec<u32> = want_colls
                    .into_iter()
                    .flatten()
                    .filter_map(|c| self.collection_index.get(c.as_str()).copied())
                    .collect();
                cs.sort_unstable();
                cs.dedup();
                cs
            };
            let coll_count: Option<usize> = want_colls.map(|_| {
                colls
                    .iter()
                    .map(|&c| self.per_collection[c as usize].len())
                    .sum()
            });
            let spatial_estimate = probe.map(|q| self.estimate(&q));
            let best_other = coll_count.unwrap_or(usize::MAX).min(range);
            if let (Some(q), true) = (
                probe,
                spatial_estimate.is_some_and(|e| e.saturating_mul(4) < best_other),
            ) {
                let (q1, q2) = geometry::split(&q);
                let mut v: Vec<u32> = Vec::new();
                for part in std::iter::once(q1).chain(q2) {
                    let env = AABB::from_corners([part[0], part[1]], [part[2], part[3]]);
                    v.extend(
                        self.rtree
                            .locate_in_envelope_intersecting(&env)
                            .map(|r| r.data)
                            .filter(|&i| in_slice(i)),
                    );
                }
                v.sort_unstable();
                v.dedup();
                v
            } else if coll_count.is_some_and(|c| c < range) {
                let mut v: Vec<u32> = Vec::new();
                for c in colls {
                    let list = &self.per_collection[c as usize];
                    let lo = list.partition_point(|&i| (i as usize) < a);
                    let hi = list.partition_point(|&i| (i as usize) < b);
                    v.extend_from_slice(&list[lo..hi]);
                }
                v.sort_unstable();
                v
            } else {
                (a as u32..b as u32).collect()
            }
        };

        let keep = |i: u32| -> bool {
            let iu = i as usize;
            if let Some(m) = &coll_mask {
                if !m[self.coll_of[iu] as usize] {
                    return false;
                }
            }
            if has_time {
                let t = self.times[iu];
                if t == NO_TIME || t.0 > thi || t.1 < tlo {
                    return false;
                }
            }
            if let Some(q) = &space {
                let bb = &self.bboxes[iu];
                if bb[0].is_nan() || !geometry::bbox_intersects(bb, q) {
                    return false;
                }
                // An item whose box lies inside the query box matches without
                // an exact test.
                let inside = req.bbox.is_some() && geometry::bbox_contains(q, bb);
                if !inside {
                    match (&self.items[iu].geometry, shape) {
                        (Some(ig), Some(s)) if ig.intersects(s) => {}
                        _ => return false,
                    }
                }
            }
            if let Some(ids) = &ids {
                if !ids.contains(&*self.items[iu].raw.id) {
                    return false;
                }
            }
            if let Some(e) = &hints.envelope {
                let bb = &self.bboxes[iu];
                if bb[0].is_nan() || !geometry::bbox_intersects(bb, e) {
                    return false;
                }
            }
            match &req.filter {
                Some(f) => f.matches(&View { b: self, i: iu }),
                None => true,
            }
        };
        // Large candidate sets are checked in parallel chunks (order kept).
        if candidates.len() >= PARALLEL_FROM {
            candidates
                .par_chunks(PARALLEL_FROM / 4)
                .map(|c| c.iter().copied().filter(|&i| keep(i)).collect::<Vec<u32>>())
                .collect::<Vec<_>>()
                .concat()
        } else {
            candidates.into_iter().filter(|&i| keep(i)).collect()
        }
    }

    /// Rough number of items whose boxes meet `q`: the share of the data
    /// extent `q` covers.
    fn estimate(&self, q: &Bbox) -> usize {
        let Some(e) = self.extent else { return 0 };
        let area = |b: &[f64; 4]| ((b[2] - b[0]).max(0.0)) * ((b[3] - b[1]).max(0.0));
        let total = area(&e);
        if total <= 0.0 {
            return self.items.len();
        }
        let (q1, q2) = geometry::split(q);
        let mut covered = 0.0;
        for p in std::iter::once(q1).chain(q2) {
            let inter = [
                p[0].max(e[0]),
                p[1].max(e[1]),
                p[2].min(e[2]),
                p[3].min(e[3]),
            ];
            covered += area(&inter);
        }
        ((covered / total).min(1.0) * self.items.len() as f64) as usize + 1
    }

    fn sort(&self, matches: &mut [u32], req: &SearchRequest, keep: usize) {
        let mut keys: Vec<(&str, bool)> = req
            .sortby
            .iter()
            .map(|k| (k.field.as_str(), k.descending))
            .collect();
        let first_desc = keys.first().map(|k| k.1).unwrap_or(true);
        for tie in ["collection", "id"] {
            if !keys.iter().any(|k| k.0 == tie) {
                keys.push((tie, first_desc));
            }
        }
        // Keys in one flat table, row r at [r * nk, (r + 1) * nk).
        let nk = keys.len();
        let vals: Vec<SortVal<'_>> = matches
            .iter()
            .flat_map(|&i| keys.iter().map(move |k| self.sort_val(i as usize, k.0)))
            .collect();
        let mut rows: Vec<u32> = (0..matches.len() as u32).collect();
        let cmp = |x: &u32, y: &u32| {
            let (a, b) = (*x as usize * nk, *y as usize * nk);
            for (j, (_, desc)) in keys.iter().enumerate() {
                let o = vals[a + j].cmp_nulls_last(&vals[b + j]);
                let o = if *desc { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        };
        if keep > 0 && keep < rows.len() {
            rows.select_nth_unstable_by(keep - 1, cmp);
            rows[..keep].sort_unstable_by(cmp);
        } else {
            rows.sort_unstable_by(cmp);
        }
        let sorted: Vec<u32> = rows.iter().map(|&r| matches[r as usize]).collect();
        matches.copy_from_slice(&sorted);
    }

    fn sort_val(&self, i: usize, field: &str) -> SortVal<'_> {
        let t = self.times[i];
        match field {
            "id" => SortVal::Str(&self.items[i].raw.id),
            "collection" => SortVal::Str(&self.collections[self.coll_of[i] as usize].id),
            "datetime" | "start_datetime" if t != NO_TIME => SortVal::Num(t.0 as f64),
            "end_datetime" if t != NO_TIME => SortVal::Num(t.1 as f64),
            "datetime" | "start_datetime" | "end_datetime" => SortVal::Null,
            other => match self.props.get(other, i) {
                None | Some(PropRef::Null) => SortVal::Null,
                Some(PropRef::Num(x)) => SortVal::Num(x),
                Some(PropRef::Str(s)) => SortVal::Str(s),
                Some(PropRef::Bool(b)) => SortVal::Bool(b),
                Some(PropRef::Json(v)) => SortVal::Other(v.to_string()),
            },
        }
    }
}

/// A sort key value; `Null` (missing) sorts after everything.
#[derive(Debug, Clone, PartialEq)]
enum SortVal<'a> {
    Str(&'a str),
    Num(f64),
    Bool(bool),
    Other(String),
    Null,
}

impl SortVal<'_> {
    fn rank(&self) -> u8 {
        match self {
            SortVal::Str(_) => 0,
            SortVal::Num(_) => 1,
            SortVal::Bool(_) => 2,
            SortVal::Other(_) => 3,
            SortVal::Null => 4,
        }
    }

    fn cmp_nulls_last(&self, o: &SortVal) -> Ordering {
        match (self, o) {
            (SortVal::Str(a), SortVal::Str(b)) => a.cmp(b),
            (SortVal::Other(a), SortVal::Other(b)) => a.cmp(b),
            (SortVal::Num(a), SortVal::Num(b)) => a.total_cmp(b),
            (SortVal::Bool(a), SortVal::Bool(b)) => a.cmp(b),
            _ => self.rank().cmp(&o.rank()),
        }
    }
}

const TOKEN_PREFIX: &str = "arco-offset:";

fn encode_token(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{TOKEN_PREFIX}{offset}"))
}

fn decode_token(t: &str) -> Result<usize, ApiError> {
    let bad = || {
        ApiError::bad_parameter(format!(
            "token '{t}' is not a paging token of this server; follow the href of a \"next\" or \"prev\" link, or leave token out for the first page"
        ))
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .map_err(|_| bad())?;
    let s = String::from_utf8(raw).map_err(|_| bad())?;
    s.strip_prefix(TOKEN_PREFIX)
        .and_then(|n| n.parse().ok())
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tokens_round_trip_and_foreign_ones_are_400() {
        assert_eq!(decode_token(&encode_token(120)).unwrap(), 120);
        let e = decode_token("next:abc:def").unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.description.contains("next"));
    }

    #[test]
    fn missing_sort_values_come_after_every_value() {
        assert_eq!(
            SortVal::Null.cmp_nulls_last(&SortVal::Num(1.0)),
            Ordering::Greater
        );
        assert_eq!(
            SortVal::Num(1.0).cmp_nulls_last(&SortVal::Num(2.0)),
            Ordering::Less
        );
    }
}

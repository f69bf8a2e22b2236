//! The STAC API as plain async functions: each takes the shared state, the
//! request's base URL and its inputs, and returns a [`Document`] (status,
//! media type, body) or an [`ApiError`]. The axum routes in [`crate::routes`]
//! only extract inputs and write documents, so other front ends (tests,
//! later endpoints) call these directly.

use crate::embedded::ItemDoc;
use crate::error::ApiError;
use crate::fields;
use crate::search::{Endpoint, Fields, SearchRequest};
use crate::{AppState, Backend};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// Media type of JSON documents.
pub const JSON: &str = "application/json";
/// Media type of items and item collections.
pub const GEOJSON: &str = "application/geo+json";
/// Media type of queryables.
pub const SCHEMA_JSON: &str = "application/schema+json";
/// Media type of the OpenAPI document.
pub const OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";
/// Media type of the HTML API page.
pub const HTML: &str = "text/html; charset=utf-8";
/// The queryables link relation.
pub const REL_QUERYABLES: &str = "http://www.opengis.net/def/rel/ogc/1.0/queryables";

/// The STAC version of the documents the server writes.
pub const STAC_VERSION: &str = "1.1.0";

/// The conformance classes the server implements (both backends).
pub const CONFORMANCE: &[&str] = &[
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "https://api.stacspec.org/v1.0.0/ogcapi-features#sort",
    "https://api.stacspec.org/v1.0.0/ogcapi-features#fields",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0/item-search#sort",
    "https://api.stacspec.org/v1.0.0/item-search#fields",
    "https://api.stacspec.org/v1.0.0-rc.3/item-search#filter",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/array-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    "http://www.opengis.net/spec/cql2/1.0/conf/arithmetic",
    // The names these two classes had in drafts of CQL2, still read by clients.
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-operators",
];

const OPENAPI_DOC: &str = include_str!("openapi.json");

/// A response body with its status and media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub media_type: &'static str,
    /// The bytes.
    pub body: Vec<u8>,
}

impl Document {
    fn json(media_type: &'static str, v: &impl Serialize) -> Result<Self, ApiError> {
        let body = serde_json::to_vec(v)
            .map_err(|e| ApiError::internal(format!("cannot write the response: {e}")))?;
        Ok(Document {
            status: 200,
            media_type,
            body,
        })
    }

    /// An error as a document.
    pub fn error(e: &ApiError) -> Self {
        Document {
            status: e.status,
            media_type: JSON,
            body: e.body(),
        }
    }

    /// The body as JSON (for tests and callers that want a value).
    pub fn value(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// Where the request came in: the API's base URL and the request target.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Base URL without a trailing slash, e.g. `http://127.0.0.1:8080` or
    /// `https://example.com/stac`.
    pub base: String,
    /// Path of the request below the base, e.g. `/search`.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
}

impl Ctx {
    /// A context for `path` below `base`, without query.
    pub fn new(base: impl Into<String>, path: impl Into<String>) -> Self {
        Ctx {
            base: base.into().trim_end_matches('/').to_string(),
            path: path.into(),
            query: None,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn root(&self) -> String {
        format!("{}/", self.base)
    }

    fn self_url(&self) -> String {
        match &self.query {
            Some(q) if !q.is_empty() => format!("{}{}?{}", self.base, self.path, q),
            _ => self.url(&self.path),
        }
    }
}

/// What a search request carries: query parameters (GET) or a JSON body (POST).
#[derive(Debug, Clone)]
pub enum SearchInput {
    /// GET query parameters, decoded, in order.
    Query(Vec<(String, String)>),
    /// POST body.
    Body(Value),
}

/// Percent-encode one path segment.
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A link object.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    rel: String,
    href: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    media_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    merge: Option<bool>,
}

fn link(rel: &str, href: String, media_type: &'static str) -> Link {
    Link {
        rel: rel.to_string(),
        href,
        media_type: Some(media_type),
        title: None,
        method: None,
        body: None,
        merge: None,
    }
}

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// The server's links of an item, then the item's own external ones.
fn item_links(ctx: &Ctx, collection: &str, id: &str, own: &[Value]) -> Vec<Value> {
    let coll = ctx.url(&format!("/collections/{}", enc(collection)));
    let mut out: Vec<Value> = vec![
        json!({"rel": "self", "type": GEOJSON, "href": format!("{coll}/items/{}", enc(id))}),
        json!({"rel": "parent", "type": JSON, "href": coll}),
        json!({"rel": "collection", "type": JSON, "href": coll}),
        json!({"rel": "root", "type": JSON, "href": ctx.root()}),
    ];
    out.extend(own.iter().filter(|l| is_external(l)).cloned());
    out
}

/// [`item_links`], written straight into `out` (the hot path of a search).
fn write_item_links(
    out: &mut Vec<u8>,
    ctx: &Ctx,
    collection: &str,
    id: &str,
    own: &[Value],
) -> Result<(), ApiError> {
    let coll = format!("{}/collections/{}", ctx.base, enc(collection));
    let item = format!("{coll}/items/{}", enc(id));
    let root = ctx.root();
    let one =
        |out: &mut Vec<u8>, first: bool, rel: &str, ty: &str, href: &str| -> Result<(), ApiError> {
            if !first {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"rel\":\"");
            out.extend_from_slice(rel.as_bytes());
            out.extend_from_slice(b"\",\"type\":\"");
            out.extend_from_slice(ty.as_bytes());
            out.extend_from_slice(b"\",\"href\":");
            serde_json::to_writer(&mut *out, href).map_err(write_err)?;
            out.push(b'}');
            Ok(())
        };
    out.push(b'[');
    one(out, true, "self", GEOJSON, &item)?;
    one(out, false, "parent", JSON, &coll)?;
    one(out, false, "collection", JSON, &coll)?;
    one(out, false, "root", JSON, &root)?;
    for l in own.iter().filter(|l| is_external(l)) {
        out.push(b',');
        serde_json::to_writer(&mut *out, l).map_err(write_err)?;
    }
    out.push(b']');
    Ok(())
}

fn is_external(l: &Value) -> bool {
    let rel = str_of(l, "rel");
    let href = str_of(l, "href");
    !crate::load::STRUCTURAL_RELS.contains(&rel)
        && (href.starts_with("http://") || href.starts_with("https://"))
}

fn external_links(doc: &Value) -> Vec<Value> {
    doc.get("links")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|l| is_external(l))
        .cloned()
        .collect()
}

fn write_err(e: serde_json::Error) -> ApiError {
    ApiError::internal(format!("cannot write the response: {e}"))
}

/// Append one item, with the server's links (and the fields selection), to `out`.
fn write_item(
    out: &mut Vec<u8>,
    item: &ItemDoc,
    fields: Option<&Fields>,
    ctx: &Ctx,
) -> Result<(), ApiError> {
    let own: &[Value] = match item {
        ItemDoc::Raw(r) => &r.links,
        ItemDoc::Value(v) => v
            .get("links")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]),
    };
    if let (ItemDoc::Raw(r), None) = (item, fields) {
        // The stored JSON is an object without links: close it after them.
        let body = r.json.trim_end();
        let Some(open) = body.strip_suffix('}') else {
            return Err(ApiError::internal(format!(
                "item '{}' is stored malformed",
                r.id
            )));
        };
        out.extend_from_slice(open.as_bytes());
        out.extend_from_slice(if open.trim_end().ends_with('{') {
            b"\"links\":"
        } else {
            b",\"links\":"
        });
        write_item_links(out, ctx, &r.collection, &r.id, own)?;
        out.push(b'}');
        return Ok(());
    }
    let links = item_links(ctx, item.collection(), item.id(), own);
    match (item, fields) {
        (ItemDoc::Raw(_), None) => {}
        (ItemDoc::Value(v), None) => {
            let mut m: Vec<(&String, &Value)> = Vec::new();
            if let Some(o) = v.as_object() {
                m.extend(o.iter().filter(|(k, _)| k.as_str() != "links"));
            }
            serde_json::to_writer(
                &mut *out,
                &Entries {
                    entries: m,
                    links: Some(&links),
                },
            )
            .map_err(write_err)?;
        }
        (_, Some(f)) => {
            let full = item.to_value();
            let (v, with_links) = fields::apply(&full, f);
            let m: Vec<(&String, &Value)> = v
                .as_object()
                .map(|o| o.iter().collect())
                .unwrap_or_default();
            let links = with_links.then_some(&links);
            serde_json::to_writer(&mut *out, &Entries { entries: m, links }).map_err(write_err)?;
        }
    }
    Ok(())
}

/// An object written from its members, then `links`.
struct Entries<'a> {
    entries: Vec<(&'a String, &'a Value)>,
    links: Option<&'a Vec<Value>>,
}

impl Serialize for Entries<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (k, v) in &self.entries {
            m.serialize_entry(k, v)?;
        }
        if let Some(l) = self.links {
            m.serialize_entry("links", l)?;
        }
        m.end()
    }
}

fn collection_out(ctx: &Ctx, c: &Value) -> Value {
    let id = str_of(c, "id");
    let href = ctx.url(&format!("/collections/{}", enc(id)));
    let mut links = vec![
        json!({"rel": "self", "type": JSON, "href": href, "title": format!("Collection {id}")}),
        json!({"rel": "parent", "type": JSON, "href": ctx.root(), "title": "Landing page"}),
        json!({"rel": "root", "type": JSON, "href": ctx.root(), "title": "Landing page"}),
        json!({"rel": "items", "type": GEOJSON, "href": format!("{href}/items"), "title": "Items"}),
        json!({"rel": REL_QUERYABLES, "type": SCHEMA_JSON, "href": format!("{href}/queryables"), "title": "Queryables"}),
    ];
    links.extend(external_links(c));
    let mut out = c.as_object().cloned().unwrap_or_default();
    out.insert("links".into(), Value::Array(links));
    Value::Object(out)
}

fn backend_name(state: &AppState) -> &'static str {
    match &state.backend {
        Backend::Embedded(_) => "embedded",
        #[cfg(feature = "pgstac")]
        Backend::Pgstac(_) => "pgstac",
    }
}

/// `GET /`: the landing page.
pub async fn landing(state: &AppState, ctx: &Ctx) -> Result<Document, ApiError> {
    let collections = state.backend.collections().await?;
    let root = state.backend.root_catalog();
    let id = state
        .config
        .id
        .clone()
        .or_else(|| {
            root.as_ref()
                .map(|r| str_of(r, "id").to_string())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "arco".to_string());
    let title = state
        .config
        .title
        .clone()
        .or_else(|| {
            root.as_ref()
                .map(|r| str_of(r, "title").to_string())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "arco STAC API".to_string());
    let description = root
        .as_ref()
        .map(|r| str_of(r, "description").to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            format!(
                "STAC API served by arco ({} backend): search items by bbox, intersects, datetime, ids, collections and CQL2 filters",
                backend_name(state)
            )
        });
    let titled = |l: Link, t: &str| Link {
        title: Some(t.to_string()),
        ..l
    };
    let mut links = vec![
        titled(link("self", ctx.root(), JSON), "Landing page"),
        titled(link("root", ctx.root(), JSON), "Landing page"),
        titled(
            link("conformance", ctx.url("/conformance"), JSON),
            "Conformance classes",
        ),
        titled(link("data", ctx.url("/collections"), JSON), "Collections"),
        Link {
            method: Some("GET"),
            ..titled(link("search", ctx.url("/search"), GEOJSON), "Item search")
        },
        Link {
            method: Some("POST"),
            ..titled(link("search", ctx.url("/search"), GEOJSON), "Item search")
        },
        titled(
            link("service-desc", ctx.url("/api"), OPENAPI),
            "OpenAPI description",
        ),
        titled(
            link("service-doc", ctx.url("/api.html"), "text/html"),
            "API documentation",
        ),
        titled(
            link(REL_QUERYABLES, ctx.url("/queryables"), SCHEMA_JSON),
            "Queryables",
        ),
    ];
    if !state.data.is_empty() {
        links.push(titled(
            link("alternate", ctx.url("/viewer"), "text/html"),
            "Map viewer",
        ));
        links.push(titled(
            link(
                "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
                ctx.url("/tileMatrixSets"),
                JSON,
            ),
            "Tile matrix sets",
        ));
    }
    for c in &collections {
        let id = str_of(c, "id");
        let title = c.get("title").and_then(Value::as_str).map(str::to_string);
        links.push(Link {
            title,
            ..link("child", ctx.url(&format!("/collections/{}", enc(id))), JSON)
        });
    }
    Document::json(
        JSON,
        &json!({
            "type": "Catalog",
            "stac_version": STAC_VERSION,
            "id": id,
            "title": title,
            "description": description,
            "conformsTo": conforms_to(state),
            "links": links,
        }),
    )
}

/// The conformance classes: the STAC API's, and OGC API – EDR's when the
/// server holds datasets.
pub fn conforms_to(state: &AppState) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = CONFORMANCE.to_vec();
    if !state.data.is_empty() {
        out.extend_from_slice(crate::edr::CONFORMANCE);
    }
    out
}

/// `GET /conformance`.
pub fn conformance(state: &AppState) -> Result<Document, ApiError> {
    Document::json(JSON, &json!({ "conformsTo": conforms_to(state) }))
}

/// `GET /collections`.
pub async fn collections(state: &AppState, ctx: &Ctx) -> Result<Document, ApiError> {
    let cs = state.backend.collections().await?;
    let out: Vec<Value> = cs.iter().map(|c| collection_out(ctx, c)).collect();
    let n = out.len();
    Document::json(
        JSON,
        &json!({
            "collections": out,
            "links": [
                link("self", ctx.url("/collections"), JSON),
                link("root", ctx.root(), JSON),
                link("parent", ctx.root(), JSON),
            ],
            "numberMatched": n,
            "numberReturned": n,
        }),
    )
}

fn no_collection(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "there is no collection '{id}'; GET /collections lists the collections there are"
    ))
}

/// `GET /collections/{id}`.
pub async fn collection(state: &AppState, ctx: &Ctx, id: &str) -> Result<Document, ApiError> {
    let c = state
        .backend
        .collection(id)
        .await?
        .ok_or_else(|| no_collection(id))?;
    let mut out = collection_out(ctx, &c);
    // A served dataset is also an OGC API - EDR collection.
    if let (Some(o), Ok(cube)) = (out.as_object_mut(), state.data.get(id)) {
        o.extend(crate::edr::edr_collection_fields(&cube, &ctx.base));
    }
    Document::json(JSON, &out)
}

/// `GET /collections/{c}/items/{i}`.
pub async fn item(
    state: &AppState,
    ctx: &Ctx,
    collection: &str,
    id: &str,
) -> Result<Document, ApiError> {
    let it = state.backend.item(collection, id).await?;
    let Some(it) = it else {
        if state.backend.collection(collection).await?.is_none() {
            return Err(no_collection(collection));
        }
        return Err(ApiError::not_found(format!(
            "collection '{collection}' has no item '{id}'; GET /collections/{}/items lists its items",
            enc(collection)
        )));
    };
    let mut body = Vec::with_capacity(2048);
    write_item(&mut body, &it, None, ctx)?;
    Ok(Document {
        status: 200,
        media_type: GEOJSON,
        body,
    })
}

/// `GET /collections/{id}/items`.
pub async fn items(
    state: &AppState,
    ctx: &Ctx,
    collection: &str,
    input: SearchInput,
) -> Result<Document, ApiError> {
    let mut req = match &input {
        SearchInput::Query(q) => SearchRequest::from_query(q, Endpoint::Items)?,
        SearchInput::Body(b) => SearchRequest::from_json(b, Endpoint::Items)?,
    };
    if state.backend.collection(collection).await?.is_none() {
        return Err(no_collection(collection));
    }
    req.collections = Some(vec![collection.to_string()]);
    let coll_url = ctx.url(&format!("/collections/{}", enc(collection)));
    let extra = vec![
        link("collection", coll_url.clone(), JSON),
        link("parent", coll_url, JSON),
    ];
    run_search(state, ctx, req, &input, extra).await
}

/// `GET /search` and `POST /search`.
pub async fn search(state: &AppState, ctx: &Ctx, input: SearchInput) -> Result<Document, ApiError> {
    let req = match &input {
        SearchInput::Query(q) => SearchRequest::from_query(q, Endpoint::Search)?,
        SearchInput::Body(b) => SearchRequest::from_json(b, Endpoint::Search)?,
    };
    run_search(state, ctx, req, &input, Vec::new()).await
}

async fn run_search(
    state: &AppState,
    ctx: &Ctx,
    req: SearchRequest,
    input: &SearchInput,
    extra_links: Vec<Link>,
) -> Result<Document, ApiError> {
    let req = Arc::new(req);
    let page = state.backend.search(req.clone()).await?;
    let mut links = vec![
        link("self", ctx.self_url(), GEOJSON),
        link("root", ctx.root(), JSON),
    ];
    links.extend(extra_links);
    for (rel, tok) in [("next", &page.next), ("prev", &page.prev)] {
        let Some(tok) = tok else { continue };
        links.push(match input {
            SearchInput::Query(q) => {
                let mut ser = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in q.iter().filter(|(k, _)| k != "token") {
                    ser.append_pair(k, v);
                }
                ser.append_pair("token", tok);
                Link {
                    method: Some("GET"),
                    ..link(
                        rel,
                        format!("{}?{}", ctx.url(&ctx.path), ser.finish()),
                        GEOJSON,
                    )
                }
            }
            SearchInput::Body(_) => Link {
                method: Some("POST"),
                body: Some(json!({ "token": tok })),
                merge: Some(true),
                ..link(rel, ctx.url(&ctx.path), GEOJSON)
            },
        });
    }
    let fields = req.fields.as_ref();
    let mut body = Vec::with_capacity(2048 * (page.items.len() + 1));
    body.extend_from_slice(b"{\"type\":\"FeatureCollection\",\"features\":[");
    for (i, it) in page.items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        write_item(&mut body, it, fields, ctx)?;
    }
    body.extend_from_slice(b"],\"links\":");
    serde_json::to_writer(&mut body, &links).map_err(write_err)?;
    if let Some(n) = page.number_matched {
        body.extend_from_slice(format!(",\"numberMatched\":{n}").as_bytes());
    }
    body.extend_from_slice(format!(",\"numberReturned\":{}}}", page.items.len()).as_bytes());
    Ok(Document {
        status: 200,
        media_type: GEOJSON,
        body,
    })
}

/// `GET /queryables` and `GET /collections/{id}/queryables`.
pub async fn queryables(
    state: &AppState,
    ctx: &Ctx,
    collection: Option<&str>,
) -> Result<Document, ApiError> {
    let (url, title) = match collection {
        Some(c) => (
            ctx.url(&format!("/collections/{}/queryables", enc(c))),
            format!("Queryables of collection {c}"),
        ),
        None => (
            ctx.url("/queryables"),
            "Queryables of every collection".to_string(),
        ),
    };
    if let Some(c) = collection {
        if state.backend.collection(c).await?.is_none() {
            return Err(no_collection(c));
        }
    }
    let doc = state.backend.queryables(collection, &url, &title).await?;
    Document::json(SCHEMA_JSON, &doc)
}

/// `GET /api`: the OpenAPI 3.0 document, its server being this API.
pub fn openapi(ctx: &Ctx) -> Result<Document, ApiError> {
    let mut doc: Value = serde_json::from_str(OPENAPI_DOC).map_err(|e| {
        ApiError::internal(format!("the embedded OpenAPI document is invalid: {e}"))
    })?;
    if let Some(o) = doc.as_object_mut() {
        o.insert("servers".into(), json!([{ "url": ctx.base }]));
    }
    Document::json(OPENAPI, &doc)
}

/// `GET /api.html`: a short human-readable page about the API.
pub fn api_html(ctx: &Ctx) -> Document {
    let b = html_escape(&ctx.base);
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>arco STAC API</title></head>\n<body>\n\
         <h1>arco STAC API</h1>\n<p>The machine-readable description is the OpenAPI document at <a href=\"{b}/api\">{b}/api</a>.</p>\n<ul>\n\
         <li><a href=\"{b}/\">/</a> landing page</li>\n<li><a href=\"{b}/conformance\">/conformance</a></li>\n\
         <li><a href=\"{b}/collections\">/collections</a>, /collections/{{id}}, /collections/{{id}}/items, /collections/{{id}}/items/{{itemId}}, /collections/{{id}}/queryables</li>\n\
         <li><a href=\"{b}/search\">/search</a> (GET and POST): bbox, intersects, datetime, ids, collections, limit, token, filter (cql2-text, cql2-json), sortby, fields</li>\n\
         <li><a href=\"{b}/queryables\">/queryables</a></li>\n<li><a href=\"{b}/healthz\">/healthz</a></li>\n</ul>\n</body></html>\n"
    );
    Document {
        status: 200,
        media_type: HTML,
        body: body.into_bytes(),
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /healthz`: whether the backend answers.
pub async fn healthz(state: &AppState) -> Result<Document, ApiError> {
    let detail = state.backend.health().await?;
    Document::json(
        JSON,
        &json!({"status": "ok", "backend": backend_name(state), "detail": detail}),
    )
}

impl Backend {
    /// The root catalog of the loaded sources (embedded backend only).
    pub fn root_catalog(&self) -> Option<Value> {
        match self {
            Backend::Embedded(e) => e.root().cloned(),
            #[cfg(feature = "pgstac")]
            Backend::Pgstac(_) => None,
        }
    }

    /// Every collection.
    pub async fn collections(&self) -> Result<Vec<Arc<Value>>, ApiError> {
        match self {
            Backend::Embedded(e) => Ok(e.collections()),
            #[cfg(feature = "pgstac")]
            Backend::Pgstac(p) => p.collections().await,
        }
    }

    /// One collection.
    pub async fn collection(&self, id: &str) -> Result<Option<Arc<Value>>, ApiError> {
        match self {
            Backend::Embedded(e) => Ok(e.collection(id)),
            #[cfg(feature = "pgstac")]
            Backend::Pgstac(p) => p.collection(id).await,
        }
    }

    /// One item.
    pub async fn item(&self, collection: &str, id: &str) -> Result<Option<ItemDoc>, ApiError> {
        match self {
            Backend::Embedded(e) => Ok(e.item(collection, id)),
            #[cfg(feature = "pgstac")]
            Backend::Pgstac(p) => Ok(p.item(collection, id).await?.map(ItemDoc::Value)),
        }
    }

    /// Run a search.
    pub async fn search(
        &self,
        req: Arc<SearchRequest>,
    ) -> Result<crate::embedded::SearchPage, ApiError> {
        match self {
            Backend::Embedded(e) => {
                let e = e.clone();
                tokio::task::spawn_blocking(move || e.search(&req))
                    .await
                    .map_err(|e| ApiError::internal(format!("the search was interrupted: {e}")))?
            }
            #[cfg(feature = "pgstac")]
            Backend::Pgstac(p) => p.search(&req).await,
        }
    }

    /// The queryables document, `$id` being `url`.
    pub async fn queryables(
        &self,
        collection: Option<&str>,
        url: &str,
        title: &str,
    ) -> Result<Value, ApiError> {
        match self {
            Backend::Embedded(e) => Ok(e
                .queryables(collection)
                .map(|q| q.document(url, title))
                .unwrap_or_else(|| crate::queryables::Inferred::default().document(url, title))),
            #[cfg(feature = "pgstac")]
            Backend::Pgstac(p) => {
                let base = crate::queryables::Inferred::default().document(url, title);
                let mut doc = p.queryables(collection).await?.unwrap_or(Value::Null);
                let Some(o) = doc.as_object_mut() else {
                    return Ok(base);
                };
                o.insert("$schema".into(), base["$schema"].clone());
                o.insert("$id".into(), Value::String(url.to_string()));
                o.insert("title".into(), Value::String(title.to_string()));
                o.insert("type".into(), json!("object"));
                // The core properties described the same way on both backends.
                if let (Some(Value::Object(props)), Some(Value::Object(core))) =
                    (o.get_mut("properties"), base.get("properties"))
                {
                    for (k, v) in core {
                        props.insert(k.clone(), v.clone());
                    }
                }
                Ok(doc)
            }
        }
    }

    /// A short description of the backend's state, or an error when it cannot answer.
    pub async fn health(&self) -> Result<Value, ApiError> {
        match self {
            Backend::Embedded(e) => {
                Ok(json!({"collections": e.collections().len(), "items": e.item_count()}))
            }
            #[cfg(feature = "pgstac")]
            Backend::Pgstac(p) => Ok(json!({"pgstac_version": p.version().await?})),
        }
    }
}

/// Decode `a=1&b=2` into pairs.
pub fn parse_query(q: Option<&str>) -> Vec<(String, String)> {
    q.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    })
    .unwrap_or_default()
}

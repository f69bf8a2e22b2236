//! The pgstac backend: a PostgreSQL database with the
//! [pgstac](https://github.com/stac-utils/pgstac) schema (installed by
//! `pypgstac migrate`), queried through its SQL functions (`search`,
//! `all_collections`, `get_collection`, `get_item`, `get_queryables`), and
//! [`load_pgstac`] to fill it (`upsert_collection`, `upsert_items`).
//!
//! The server keeps its own request checking, links, fields and errors, so
//! both backends answer alike; pgstac's paging tokens (`next:...`/`prev:...`)
//! are passed through as the API's tokens. Connections are plain TCP without
//! TLS: meant for a database on loopback or a trusted network.

use crate::embedded::{ItemDoc, SearchPage};
use crate::error::ApiError;
use crate::load;
use crate::queryables::Inferred;
use crate::search::SearchRequest;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls};

/// Connections kept open by the backend.
const POOL_SIZE: usize = 4;

/// An error talking to pgstac.
#[derive(Debug, thiserror::Error)]
pub enum PgstacError {
    /// The database could not be reached or refused the connection.
    #[error("cannot connect to pgstac at {url}: {source}; check that PostgreSQL runs there and that pgstac is installed (pypgstac migrate)")]
    Connect {
        /// The connection URL, without its password.
        url: String,
        /// Why.
        #[source]
        source: tokio_postgres::Error,
    },
    /// A statement failed.
    #[error("pgstac {what} failed: {message}")]
    Query {
        /// What the statement was for.
        what: String,
        /// The database's message.
        message: String,
    },
    /// The database answered something unexpected.
    #[error("pgstac {what}: {message}")]
    Unexpected {
        /// What the statement was for.
        what: String,
        /// What was wrong.
        message: String,
    },
    /// Loading the catalog failed before the database was touched.
    #[error(transparent)]
    Load(#[from] crate::error::LoadError),
}

/// The connection URL with any password replaced by `***`.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

async fn connect(url: &str) -> Result<Client, PgstacError> {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|source| PgstacError::Connect {
            url: redact(url),
            source,
        })?;
    tokio::spawn(async move {
        // The connection ends when the client is dropped or the server goes
        // away; the next use of the slot reconnects.
        let _ = conn.await;
    });
    client
        .batch_execute("SET search_path TO pgstac, public")
        .await
        .map_err(|e| query_error("set search_path", &e))?;
    Ok(client)
}

fn query_error(what: &str, e: &tokio_postgres::Error) -> PgstacError {
    let message = match e.as_db_error() {
        Some(db) => match db.hint() {
            Some(h) => format!("{} ({h})", db.message()),
            None => db.message().to_string(),
        },
        None => e.to_string(),
    };
    PgstacError::Query {
        what: what.to_string(),
        message,
    }
}

/// A pool of connections to a pgstac database.
#[derive(Debug)]
pub struct PgstacBackend {
    url: String,
    slots: Vec<Mutex<Option<Client>>>,
    next: AtomicUsize,
}

impl PgstacBackend {
    /// Connect (one connection now, to fail early; more as requests come).
    pub async fn connect(url: &str) -> Result<Self, PgstacError> {
        let first = connect(url).await?;
        let version: String = first
            .query_one("SELECT pgstac.get_version()", &[])
            .await
            .map(|r| r.get(0))
            .map_err(|e| {
                query_error(
                    "get_version (is pgstac installed? run pypgstac migrate)",
                    &e,
                )
            })?;
        let _ = version;
        let mut slots = Vec::with_capacity(POOL_SIZE);
        slots.push(Mutex::new(Some(first)));
        for _ in 1..POOL_SIZE {
            slots.push(Mutex::new(None));
        }
        Ok(PgstacBackend {
            url: url.to_string(),
            slots,
            next: AtomicUsize::new(0),
        })
    }

    /// The pgstac schema version.
    pub async fn version(&self) -> Result<String, ApiError> {
        let v = self
            .call_text("SELECT pgstac.get_version()", &[], "get_version")
            .await?;
        Ok(v.unwrap_or_default())
    }

    /// Run `sql` (text parameters, one text column) on a pooled connection,
    /// reconnecting a dropped one.
    async fn call_text(
        &self,
        sql: &str,
        args: &[&str],
        what: &str,
    ) -> Result<Option<String>, ApiError> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let mut slot = self.slots[i].lock().await;
        if slot.as_ref().is_none_or(Client::is_closed) {
            *slot = Some(
                connect(&self.url)
                    .await
                    .map_err(|e| ApiError::unavailable(e.to_string()))?,
            );
        }
        let Some(client) = slot.as_ref() else {
            return Err(ApiError::unavailable("no connection to pgstac"));
        };
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = args
            .iter()
            .map(|a| a as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        let res = client.query_opt(sql, &params).await;
        match res {
            Ok(row) => Ok(row.and_then(|r| r.get::<_, Option<String>>(0))),
            Err(e) if e.as_db_error().is_some() => {
                let pe = query_error(what, &e);
                // Errors pgstac raises on what it was asked (a bad filter, a
                // bad token) are the client's; others are ours.
                let code = e.code().map(|c| c.code().to_string()).unwrap_or_default();
                if code.starts_with("P0") || code.starts_with("22") || code.starts_with("42") {
                    Err(ApiError::bad_parameter(pe.to_string()))
                } else {
                    Err(ApiError::internal(pe.to_string()))
                }
            }
            Err(e) => {
                *slot = None;
                Err(ApiError::unavailable(query_error(what, &e).to_string()))
            }
        }
    }

    async fn call_json(
        &self,
        sql: &str,
        args: &[&str],
        what: &str,
    ) -> Result<Option<Value>, ApiError> {
        match self.call_text(sql, args, what).await? {
            None => Ok(None),
            Some(s) => serde_json::from_str(&s).map(Some).map_err(|e| {
                ApiError::internal(format!("pgstac {what} returned invalid JSON: {e}"))
            }),
        }
    }

    /// Every collection.
    pub async fn collections(&self) -> Result<Vec<Arc<Value>>, ApiError> {
        let v = self
            .call_json(
                "SELECT pgstac.all_collections()::text",
                &[],
                "all_collections",
            )
            .await?;
        Ok(match v {
            Some(Value::Array(a)) => a.into_iter().map(Arc::new).collect(),
            _ => Vec::new(),
        })
    }

    /// One collection.
    pub async fn collection(&self, id: &str) -> Result<Option<Arc<Value>>, ApiError> {
        let v = self
            .call_json(
                "SELECT pgstac.get_collection($1::text)::text",
                &[id],
                "get_collection",
            )
            .await?;
        Ok(v.filter(|v| !v.is_null()).map(Arc::new))
    }

    /// One item.
    pub async fn item(&self, collection: &str, id: &str) -> Result<Option<Arc<Value>>, ApiError> {
        let v = self
            .call_json(
                "SELECT pgstac.get_item($1::text, $2::text)::text",
                &[id, collection],
                "get_item",
            )
            .await?;
        Ok(v.filter(|v| !v.is_null()).map(Arc::new))
    }

    /// The queryables document pgstac keeps (for one collection or all).
    pub async fn queryables(&self, collection: Option<&str>) -> Result<Option<Value>, ApiError> {
        match collection {
            Some(c) => {
                self.call_json(
                    "SELECT pgstac.get_queryables($1::text)::text",
                    &[c],
                    "get_queryables",
                )
                .await
            }
            None => {
                self.call_json(
                    "SELECT pgstac.get_queryables(NULL::text)::text",
                    &[],
                    "get_queryables",
                )
                .await
            }
        }
    }

    /// Run a search.
    pub async fn search(&self, req: &SearchRequest) -> Result<SearchPage, ApiError> {
        let mut body = req.to_pgstac()?;
        if let Value::Object(m) = &mut body {
            m.insert("conf".into(), serde_json::json!({"context": "on"}));
        }
        let v = self
            .call_json(
                "SELECT pgstac.search($1::text::jsonb)::text",
                &[&body.to_string()],
                "search",
            )
            .await?
            .unwrap_or(Value::Null);
        let items = match v.get("features") {
            Some(Value::Array(a)) => a
                .iter()
                .cloned()
                .map(|i| ItemDoc::Value(Arc::new(i)))
                .collect(),
            _ => Vec::new(),
        };
        Ok(SearchPage {
            items,
            number_matched: v.get("numberMatched").and_then(Value::as_u64),
            next: token(&v, "next"),
            prev: token(&v, "prev"),
        })
    }
}

/// A paging token from pgstac's answer: a top-level `next`/`prev` (pgstac
/// 0.8, 0.9) or the `token` parameter of the `next`/`prev` link (0.10).
fn token(v: &Value, rel: &str) -> Option<String> {
    if let Some(t) = v.get(rel).and_then(Value::as_str) {
        return Some(if t.starts_with(&format!("{rel}:")) {
            t.to_string()
        } else {
            format!("{rel}:{t}")
        });
    }
    let links = v.get("links")?.as_array()?;
    let href = links
        .iter()
        .find(|l| l.get("rel").and_then(Value::as_str) == Some(rel))?
        .get("href")?
        .as_str()?;
    let query = href.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

/// What [`load_pgstac`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadSummary {
    /// Collections upserted.
    pub collections: usize,
    /// Items upserted.
    pub items: usize,
    /// Queryables registered (properties pgstac did not know yet).
    pub queryables: usize,
}

/// Items per `upsert_items` call.
const BATCH: usize = 2000;

/// Names pgstac reads from its own columns; never registered as queryables.
const COLUMNS: &[&str] = &[
    "id",
    "collection",
    "geometry",
    "datetime",
    "start_datetime",
    "end_datetime",
];

/// Upsert collections and items (STAC JSON) into the pgstac database at
/// `url`, then register the items' properties as queryables (typed, so that
/// filters compare numbers as numbers and date-times as times). Collections
/// first; an item's collection must be among them or already in the database.
pub async fn load_pgstac_json(
    url: &str,
    collections: &[Value],
    items: &[Value],
) -> Result<LoadSummary, PgstacError> {
    let mut per: BTreeMap<String, Inferred> = BTreeMap::new();
    for i in items {
        let c = i.get("collection").and_then(Value::as_str).unwrap_or("");
        per.entry(c.to_string()).or_default().add_item(i);
    }
    let texts: Vec<String> = items.iter().map(Value::to_string).collect();
    upsert(url, collections, &texts, per).await
}

async fn upsert(
    url: &str,
    collections: &[Value],
    items: &[String],
    per: BTreeMap<String, Inferred>,
) -> Result<LoadSummary, PgstacError> {
    let client = connect(url).await?;
    for c in collections {
        client
            .execute(
                "SELECT pgstac.upsert_collection($1::text::jsonb)",
                &[&c.to_string()],
            )
            .await
            .map_err(|e| {
                query_error(
                    &format!(
                        "upsert_collection of '{}'",
                        c.get("id").and_then(Value::as_str).unwrap_or("?")
                    ),
                    &e,
                )
            })?;
    }
    for chunk in items.chunks(BATCH) {
        let mut arr = String::with_capacity(chunk.iter().map(|s| s.len() + 1).sum::<usize>() + 2);
        arr.push('[');
        for (i, s) in chunk.iter().enumerate() {
            if i > 0 {
                arr.push(',');
            }
            arr.push_str(s);
        }
        arr.push(']');
        client
            .execute("SELECT pgstac.upsert_items($1::text::jsonb)", &[&arr])
            .await
            .map_err(|e| query_error("upsert_items", &e))?;
    }
    // Queryables, per collection.
    let mut registered = 0;
    for (c, inferred) in per {
        let doc = inferred.document("", "");
        let Some(Value::Object(props)) = doc.get("properties") else {
            continue;
        };
        for (name, def) in props {
            if COLUMNS.contains(&name.as_str()) || def.get("type").is_none_or(|t| !t.is_string()) {
                continue;
            }
            let n = client
                .execute(
                    "INSERT INTO pgstac.queryables (name, collection_ids, definition, property_wrapper) \
                     SELECT $1::text, ARRAY[$2::text], $3::text::jsonb, pgstac.queryable_wrapper(NULL, $3::text::jsonb) \
                     WHERE NOT EXISTS (SELECT 1 FROM pgstac.queryables q WHERE q.name = $1::text \
                       AND (q.collection_ids IS NULL OR $2::text = ANY(q.collection_ids)))",
                    &[&name.as_str(), &c.as_str(), &def.to_string()],
                )
                .await
                .map_err(|e| query_error(&format!("registering queryable '{name}' of '{c}'"), &e))?;
            registered += n as usize;
        }
    }
    Ok(LoadSummary {
        collections: collections.len(),
        items: items.len(),
        queryables: registered,
    })
}

/// [`load_pgstac_json`] with `stac` crate types.
pub async fn load_pgstac(
    url: &str,
    collections: &[stac::Collection],
    items: &[stac::Item],
) -> Result<LoadSummary, PgstacError> {
    let to_json = |what: &str, r: Result<Value, serde_json::Error>| {
        r.map_err(|e| PgstacError::Unexpected {
            what: what.to_string(),
            message: e.to_string(),
        })
    };
    let cs = collections
        .iter()
        .map(|c| to_json("collection to JSON", serde_json::to_value(c)))
        .collect::<Result<Vec<_>, _>>()?;
    let is = items
        .iter()
        .map(|i| to_json("item to JSON", serde_json::to_value(i)))
        .collect::<Result<Vec<_>, _>>()?;
    load_pgstac_json(url, &cs, &is).await
}

/// Upsert an already loaded catalog (see [`crate::load()`]) into pgstac.
pub async fn load_pgstac_catalog(
    url: &str,
    cat: load::LoadedCatalog,
) -> Result<LoadSummary, PgstacError> {
    let collections: Vec<Value> = cat.collections.into_iter().map(|c| c.json).collect();
    let mut per: BTreeMap<String, Inferred> = BTreeMap::new();
    for i in &cat.items {
        let v = i.value()?;
        per.entry(i.collection.clone()).or_default().add_item(&v);
    }
    let texts: Vec<String> = cat.items.into_iter().map(|i| i.json).collect();
    upsert(url, &collections, &texts, per).await
}

/// Load catalogs (the sources `arco serve` takes: catalog directories,
/// catalog/collection/item JSON files or URLs) and upsert them into pgstac.
/// Reading happens on a blocking thread.
pub async fn load_pgstac_sources(
    url: &str,
    sources: &[String],
) -> Result<LoadSummary, PgstacError> {
    let cat = load::load_async(sources.to_vec()).await?;
    load_pgstac_catalog(url, cat).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_are_read_from_either_pgstac_answer_shape() {
        assert_eq!(
            token(&json!({"next": "abc"}), "next").as_deref(),
            Some("next:abc")
        );
        let v = json!({"links": [{"rel": "next", "href": "http://x/search?token=next:6331:6932"}]});
        assert_eq!(token(&v, "next").as_deref(), Some("next:6331:6932"));
        assert_eq!(token(&v, "prev"), None);
    }

    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(
            redact("postgresql://u:secret@h:5432/db"),
            "postgresql://u:***@h:5432/db"
        );
    }
}

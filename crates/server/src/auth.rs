//! Who may read what: API keys and JWTs granting sets of collections.
//!
//! The configuration is a TOML file (`arco serve --auth FILE`, format in
//! `docs/design/serve-ops.md`) read by [`AuthConfig::from_file`]. The
//! [`require`] middleware resolves each request's caller to an [`Access`]
//! and puts it into the request's extensions, then:
//!
//! - paths naming a collection (`/collections/{id}` and below,
//!   `/zarr/{id}` and below) pass only when the caller may read `{id}`:
//!   401 (with `WWW-Authenticate: Bearer`) without valid credentials, 403
//!   with valid credentials that do not grant it;
//! - public paths (`/`, `/conformance`, `/api`, `/healthz`, `/viewer…`, …)
//!   pass always;
//! - `/metrics` needs a caller granted every collection (`"*"`), unless
//!   `public_metrics = true`;
//! - every other path (the listings `/collections`, `/search`, `/datasets`)
//!   passes for any caller with valid credentials, and for callers without
//!   any when `anonymous = true`; their handlers filter what they list with
//!   the [`Access`] extractor.
//!
//! Credentials are read from `Authorization: Bearer <key or JWT>`,
//! `X-API-Key: <key>`, or the query parameters `access_token` and
//! `api_key`, in that order. JWTs (HS256/384/512 with a shared secret;
//! RS*, PS*, ES256/384, EdDSA with keys from a JWKS file) need the `jwt`
//! feature, on by default.

use crate::error::ApiError;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The paths open to everyone when the file does not list `public_paths`.
/// An entry ending in `*` is a prefix.
pub const DEFAULT_PUBLIC_PATHS: [&str; 8] = [
    "/",
    "/conformance",
    "/api",
    "/api.html",
    "/healthz",
    "/viewer*",
    "/tileMatrixSets*",
    "/colorMaps*",
];

/// The first path segments after which the next segment is a collection id.
pub const COLLECTION_SCOPED: [&str; 2] = ["collections", "zarr"];

/// What a caller may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Every collection (no auth configured, or a grant of `"*"`).
    All,
    /// These collections only.
    Collections(Arc<HashSet<String>>),
}

impl Default for Access {
    /// [`Access::All`]: what a server without an auth file grants.
    fn default() -> Self {
        Access::All
    }
}

impl Access {
    /// No collection.
    pub fn none() -> Self {
        Access::Collections(Arc::new(HashSet::new()))
    }

    /// These collections (`"*"` among them: all).
    pub fn of<I, S>(ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let set: HashSet<String> = ids.into_iter().map(Into::into).collect();
        if set.contains("*") {
            Access::All
        } else {
            Access::Collections(Arc::new(set))
        }
    }

    /// May the caller read collection `id`?
    pub fn allows(&self, id: &str) -> bool {
        match self {
            Access::All => true,
            Access::Collections(set) => set.contains(id),
        }
    }

    /// Is every collection readable?
    pub fn is_all(&self) -> bool {
        matches!(self, Access::All)
    }

    /// This access plus the collections `more`.
    pub fn union(&self, more: &HashSet<String>) -> Access {
        match self {
            Access::All => Access::All,
            Access::Collections(set) if more.is_empty() => Access::Collections(Arc::clone(set)),
            Access::Collections(set) => {
                Access::Collections(Arc::new(set.iter().chain(more.iter()).cloned().collect()))
            }
        }
    }

    /// Keep the items of a listing whose collection id is readable, e.g.
    /// `access.retain(&mut collections, |c| c.id.as_str())`.
    pub fn retain<T>(&self, items: &mut Vec<T>, id: impl Fn(&T) -> &str) {
        if let Access::Collections(set) = self {
            items.retain(|x| set.contains(id(x)));
        }
    }

    /// The collections a search may look into: `requested` (the search's
    /// `collections` parameter) as is for [`Access::All`]; otherwise the
    /// requested ones that are readable, or every readable one (sorted) when
    /// none was requested. `None` = no restriction; an empty list = the
    /// search finds nothing.
    pub fn restrict(&self, requested: Option<Vec<String>>) -> Option<Vec<String>> {
        match (self, requested) {
            (Access::All, r) => r,
            (Access::Collections(set), Some(r)) => {
                Some(r.into_iter().filter(|c| set.contains(c)).collect())
            }
            (Access::Collections(set), None) => {
                let mut v: Vec<String> = set.iter().cloned().collect();
                v.sort();
                Some(v)
            }
        }
    }
}

/// The caller's [`Access`] from a request's extensions; [`Access::All`]
/// when the [`require`] middleware did not run (no auth configured).
pub fn access_of(extensions: &axum::http::Extensions) -> Access {
    extensions.get::<Access>().cloned().unwrap_or(Access::All)
}

/// Handlers take `access: Access` as an argument to filter listings.
impl<S: Send + Sync> FromRequestParts<S> for Access {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(access_of(&parts.extensions))
    }
}

/// Who made a request, for the request log: put into the request's and the
/// response's extensions by [`require`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The API key's `name`, or the JWT's `sub`; `None` for an anonymous
    /// caller.
    pub name: Option<Arc<str>>,
}

/// An auth file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The file (or the JWKS file it names) cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not what this module reads.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong and what to write instead.
        message: String,
    },
}

fn invalid(path: &Path, message: impl Into<String>) -> AuthError {
    AuthError::Invalid {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------
// The file

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthFile {
    #[serde(default = "yes")]
    anonymous: bool,
    #[serde(default)]
    public_collections: Vec<String>,
    public_paths: Option<Vec<String>>,
    #[serde(default)]
    public_metrics: bool,
    #[serde(default)]
    api_keys: Vec<ApiKeyEntry>,
    jwt: Option<JwtSection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiKeyEntry {
    name: Option<String>,
    key: String,
    collections: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    #[cfg_attr(not(feature = "jwt"), allow(dead_code))]
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(not(feature = "jwt"), allow(dead_code))]
struct JwtSection {
    secret: Option<String>,
    secret_env: Option<String>,
    jwks_file: Option<PathBuf>,
    issuer: Option<OneOrMany>,
    audience: Option<OneOrMany>,
    #[serde(default = "default_leeway")]
    leeway_seconds: u64,
    #[serde(default = "default_claim")]
    collections_claim: String,
    algorithms: Option<Vec<String>>,
}

fn default_leeway() -> u64 {
    30
}

fn default_claim() -> String {
    "collections".to_string()
}

/// A path pattern: exact, or a prefix when written with a trailing `*`.
#[derive(Debug, Clone)]
enum PathPattern {
    Exact(String),
    Prefix(String),
}

impl PathPattern {
    fn matches(&self, path: &str) -> bool {
        match self {
            PathPattern::Exact(p) => path == p,
            PathPattern::Prefix(p) => path.starts_with(p.as_str()),
        }
    }
}

fn pattern(path: &Path, s: &str) -> Result<PathPattern, AuthError> {
    if !s.starts_with('/') {
        return Err(invalid(
            path,
            format!("public_paths entry '{s}' does not start with '/'; write a path such as \"/healthz\" or a prefix such as \"/viewer*\""),
        ));
    }
    Ok(match s.strip_suffix('*') {
        Some(p) => PathPattern::Prefix(p.to_string()),
        None => PathPattern::Exact(s.to_string()),
    })
}

/// A key's or token's grant.
#[derive(Debug, Clone)]
struct Grant {
    name: Arc<str>,
    /// Already including the public collections.
    access: Access,
}

/// A ready-to-use auth configuration (file read, keys hashed, JWKS parsed).
pub struct AuthConfig {
    anonymous: bool,
    public_collections: HashSet<String>,
    public_paths: Vec<PathPattern>,
    public_metrics: bool,
    /// SHA-256 of each key → grant.
    api_keys: HashMap<[u8; 32], Grant>,
    #[cfg(feature = "jwt")]
    jwt: Option<jwt::Verifier>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("anonymous", &self.anonymous)
            .field("public_collections", &self.public_collections)
            .field("public_metrics", &self.public_metrics)
            .field("api_keys", &self.api_keys.len())
            .finish_non_exhaustive()
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn parse_sha256(hex: &str) -> Option<[u8; 32]> {
    let b = hex.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = hex_digit(b[2 * i])? << 4 | hex_digit(b[2 * i + 1])?;
    }
    Some(out)
}

/// `sha256:<hex>` of a key: what to write in the auth file instead of the
/// key itself (`arco`'s docs show how to compute it with `sha256sum`).
pub fn hash_key(key: &str) -> String {
    let d = Sha256::digest(key.as_bytes());
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

impl AuthConfig {
    /// Read an auth file (TOML). Relative paths in it (`jwt.jwks_file`) are
    /// relative to the file's folder.
    pub fn from_file(path: &Path) -> Result<AuthConfig, AuthError> {
        let text = std::fs::read_to_string(path).map_err(|source| AuthError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        AuthConfig::from_toml(&text, path)
    }

    /// Read an auth configuration from TOML text; `path` names it in errors
    /// and its folder resolves relative paths.
    pub fn from_toml(text: &str, path: &Path) -> Result<AuthConfig, AuthError> {
        let file: AuthFile = toml::from_str(text).map_err(|e| {
            invalid(
                path,
                format!(
                    "not a valid auth file: {}; see docs/design/serve-ops.md for the format",
                    e.to_string().trim_end()
                ),
            )
        })?;
        let public_collections: HashSet<String> = file.public_collections.into_iter().collect();
        if public_collections.contains("*") {
            return Err(invalid(
                path,
                "public_collections contains \"*\": to make every collection public, do not give --auth at all",
            ));
        }
        let public_paths = match &file.public_paths {
            Some(list) => list
                .iter()
                .map(|s| pattern(path, s))
                .collect::<Result<Vec<_>, _>>()?,
            None => DEFAULT_PUBLIC_PATHS
                .iter()
                .map(|s| pattern(path, s))
                .collect::<Result<Vec<_>, _>>()?,
        };
        let mut api_keys = HashMap::new();
        for (i, k) in file.api_keys.iter().enumerate() {
            let name: Arc<str> = Arc::from(
                k.name
                    .clone()
                    .unwrap_or_else(|| format!("api_keys[{i}]"))
                    .as_str(),
            );
            let digest = match k.key.strip_prefix("sha256:") {
                Some(hex) => parse_sha256(hex).ok_or_else(|| {
                    invalid(
                        path,
                        format!("api key '{name}': 'sha256:' must be followed by 64 hex digits (the SHA-256 of the key, e.g. from `printf %s KEY | sha256sum`)"),
                    )
                })?,
                None if k.key.is_empty() => {
                    return Err(invalid(path, format!("api key '{name}' is empty")))
                }
                None => Sha256::digest(k.key.as_bytes()).into(),
            };
            if k.collections.is_empty() {
                return Err(invalid(
                    path,
                    format!("api key '{name}' grants no collection; list collection ids in 'collections', or [\"*\"] for all"),
                ));
            }
            let grant = Grant {
                name: Arc::clone(&name),
                access: Access::of(k.collections.iter().cloned()).union(&public_collections),
            };
            if api_keys.insert(digest, grant).is_some() {
                return Err(invalid(
                    path,
                    format!(
                        "api key '{name}' is the same key as an earlier entry; give each key once"
                    ),
                ));
            }
        }
        #[cfg(feature = "jwt")]
        let jwt = match file.jwt {
            Some(section) => Some(jwt::Verifier::new(section, path, &public_collections)?),
            None => None,
        };
        #[cfg(not(feature = "jwt"))]
        if file.jwt.is_some() {
            return Err(invalid(
                path,
                "the [jwt] section needs arco built with the 'jwt' feature (on by default); rebuild with it or remove the section",
            ));
        }
        Ok(AuthConfig {
            anonymous: file.anonymous,
            public_collections,
            public_paths,
            public_metrics: file.public_metrics,
            api_keys,
            #[cfg(feature = "jwt")]
            jwt,
        })
    }

    /// What a caller without credentials may read.
    pub fn anonymous_access(&self) -> Access {
        if self.anonymous {
            Access::Collections(Arc::new(self.public_collections.clone()))
        } else {
            Access::none()
        }
    }

    fn is_public_path(&self, path: &str) -> bool {
        self.public_paths.iter().any(|p| p.matches(path))
    }

    /// Check a credential (an API key or a JWT).
    fn resolve(&self, credential: &str) -> Result<Grant, String> {
        let digest: [u8; 32] = Sha256::digest(credential.as_bytes()).into();
        if let Some(g) = self.api_keys.get(&digest) {
            return Ok(g.clone());
        }
        #[cfg(feature = "jwt")]
        if let Some(v) = &self.jwt {
            if credential.bytes().filter(|&b| b == b'.').count() == 2 {
                return v.verify(credential, &digest);
            }
        }
        Err("the API key is not known; check it, or ask the server's operator for one".to_string())
    }
}

// ---------------------------------------------------------------------------
// The middleware

/// What a request's path is.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// `/collections/{id}…` or `/zarr/{id}…`.
    Collection(String),
    /// A path that cannot be decoded (not UTF-8 once percent-decoded).
    Undecodable,
    Public,
    Metrics,
    Other,
}

fn decode_segment(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

fn target(auth: &AuthConfig, path: &str) -> Target {
    let mut segs = path.strip_prefix('/').unwrap_or(path).split('/');
    let first = segs.next().unwrap_or("");
    let first = match decode_segment(first) {
        Some(f) => f,
        None => return Target::Undecodable,
    };
    if COLLECTION_SCOPED.contains(&first.as_str()) {
        if let Some(id) = segs.next().filter(|s| !s.is_empty()) {
            return match decode_segment(id) {
                Some(id) => Target::Collection(id),
                None => Target::Undecodable,
            };
        }
    }
    if auth.is_public_path(path) {
        Target::Public
    } else if path == "/metrics" && !auth.public_metrics {
        Target::Metrics
    } else {
        Target::Other
    }
}

/// The credential a request presents: `None` when it presents none,
/// `Some(Err)` for one that cannot be read (another scheme than Bearer).
fn credential(headers: &HeaderMap, query: Option<&str>) -> Option<Result<String, String>> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let Ok(v) = v.to_str() else {
            return Some(Err("the Authorization header is not ASCII".to_string()));
        };
        let v = v.trim();
        return Some(match v.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") && !rest.trim().is_empty() => {
                Ok(rest.trim().to_string())
            }
            _ => Err("the Authorization header is not 'Bearer <API key or JWT>'; other schemes are not read".to_string()),
        });
    }
    if let Some(v) = headers.get("x-api-key") {
        return Some(match v.to_str() {
            Ok(k) if !k.trim().is_empty() => Ok(k.trim().to_string()),
            _ => Err("the X-API-Key header is empty or not ASCII".to_string()),
        });
    }
    let q = query?;
    let mut key = None;
    for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
        match &*k {
            "access_token" => return Some(Ok(v.into_owned())),
            "api_key" if key.is_none() => key = Some(v.into_owned()),
            _ => {}
        }
    }
    key.map(Ok)
}

const HOW: &str = "send an API key as 'Authorization: Bearer KEY' or 'X-API-Key: KEY', or a JWT as 'Authorization: Bearer TOKEN' (or the query parameter access_token=TOKEN)";

fn what(t: &Target, path: &str) -> String {
    match t {
        Target::Collection(id) => format!("collection '{id}'"),
        _ => path.to_string(),
    }
}

fn unauthorized(description: String, error: Option<&str>) -> Response {
    let mut r = ApiError {
        status: 401,
        code: "Unauthorized",
        description: description.clone(),
    }
    .into_response();
    let challenge = match error {
        None => "Bearer realm=\"arco\"".to_string(),
        Some(reason) => {
            let reason: String = reason
                .chars()
                .filter(|c| *c != '"' && *c != '\\' && (' '..='~').contains(c))
                .collect();
            format!(
                "Bearer realm=\"arco\", error=\"invalid_token\", error_description=\"{reason}\""
            )
        }
    };
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

fn forbidden(description: String) -> Response {
    ApiError {
        status: 403,
        code: "Forbidden",
        description,
    }
    .into_response()
}

/// The auth middleware (use with
/// `axum::middleware::from_fn_with_state(auth, auth::require)`, or
/// [`protect`]). `OPTIONS` requests (CORS preflights) pass untouched.
pub async fn require(
    State(auth): State<Arc<AuthConfig>>,
    mut req: Request,
    next: Next,
) -> Response {
    if req.method() == Method::OPTIONS {
        req.extensions_mut().insert(auth.anonymous_access());
        return next.run(req).await;
    }
    let path = req.uri().path().to_string();
    let target = target(&auth, &path);
    let resolved =
        credential(req.headers(), req.uri().query()).map(|c| c.and_then(|c| auth.resolve(&c)));
    let (access, caller) = match (&target, resolved) {
        // Public paths: credentials are read for the listing they may show,
        // never refused.
        (Target::Public, Some(Ok(g))) => (g.access, Some(g.name)),
        (Target::Public, _) => (auth.anonymous_access(), None),
        (Target::Undecodable, _) => {
            return ApiError::bad_parameter(format!(
                "the path {path} is not UTF-8 once percent-decoded; percent-encode ids as UTF-8"
            ))
            .into_response()
        }
        (t, Some(Err(reason))) => {
            return unauthorized(
                format!(
                    "{} refused the credentials: {reason}. To read it, {HOW}",
                    what(t, &path)
                ),
                Some(&reason),
            )
        }
        (Target::Collection(id), None) => {
            let anon = auth.anonymous_access();
            if !anon.allows(id) {
                return unauthorized(format!("collection '{id}' needs credentials: {HOW}"), None);
            }
            (anon, None)
        }
        (Target::Collection(id), Some(Ok(g))) => {
            if !g.access.allows(id) {
                return forbidden(format!(
                    "the credentials of '{}' do not grant collection '{id}'; ask the server's operator to add it to the key's collections or to the token's claim, or use credentials that grant it",
                    g.name
                ));
            }
            (g.access, Some(g.name))
        }
        (Target::Metrics, None) => {
            return unauthorized(
                format!("{path} needs credentials granting every collection (\"*\"): {HOW}"),
                None,
            )
        }
        (Target::Metrics, Some(Ok(g))) => {
            if !g.access.is_all() {
                return forbidden(format!(
                    "{path} needs credentials granting every collection (\"*\"), and those of '{}' do not; or set public_metrics = true in the auth file",
                    g.name
                ));
            }
            (g.access, Some(g.name))
        }
        (Target::Other, None) => {
            if !auth.anonymous {
                return unauthorized(format!("{path} needs credentials: {HOW}"), None);
            }
            (auth.anonymous_access(), None)
        }
        (Target::Other, Some(Ok(g))) => (g.access, Some(g.name)),
    };
    let caller = Caller { name: caller };
    req.extensions_mut().insert(access);
    req.extensions_mut().insert(caller.clone());
    let mut res = next.run(req).await;
    res.extensions_mut().insert(caller);
    res
}

/// `router` with [`require`] added as a layer (every route and the
/// fallback).
pub fn protect(router: Router, auth: Arc<AuthConfig>) -> Router {
    router.layer(axum::middleware::from_fn_with_state(auth, require))
}

// ---------------------------------------------------------------------------
// JWT

#[cfg(feature = "jwt")]
mod jwt {
    use super::{invalid, Access, AuthError, Grant, JwtSection};
    use jsonwebtoken::jwk::{JwkSet, PublicKeyUse};
    use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
    use parking_lot::Mutex;
    use std::collections::{HashMap, HashSet};
    use std::path::Path;
    use std::str::FromStr;
    use std::sync::Arc;

    const CACHE_SHARDS: usize = 16;
    const CACHE_PER_SHARD: usize = 1024;

    struct JwksKey {
        kid: Option<String>,
        alg: Option<Algorithm>,
        key: DecodingKey,
    }

    pub(super) struct Verifier {
        secret: Option<DecodingKey>,
        jwks: Vec<JwksKey>,
        algorithms: Vec<Algorithm>,
        issuer: Option<Vec<String>>,
        audience: Option<Vec<String>>,
        leeway: u64,
        claim: String,
        public: HashSet<String>,
        /// SHA-256 of a token → (grant, valid until, unix seconds): RSA and
        /// EC verification cost tens of microseconds; a viewer sends the
        /// same token with every tile.
        cache: Vec<Mutex<TokenCache>>,
    }

    /// SHA-256 of a token → (its grant, valid until in unix seconds).
    type TokenCache = HashMap<[u8; 32], (Grant, u64)>;

    fn install_provider() {
        // Exactly one backend is compiled in (rust_crypto); installing it
        // explicitly keeps a second one, enabled by another crate, from
        // making jsonwebtoken refuse to choose.
        let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
            &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER,
        );
    }

    impl Verifier {
        pub(super) fn new(
            s: JwtSection,
            path: &Path,
            public: &HashSet<String>,
        ) -> Result<Verifier, AuthError> {
            install_provider();
            let secret_bytes = match (&s.secret, &s.secret_env) {
                (Some(_), Some(_)) => {
                    return Err(invalid(path, "[jwt] has both 'secret' and 'secret_env'; give one"))
                }
                (Some(v), None) => Some(v.clone()),
                (None, Some(var)) => Some(std::env::var(var).map_err(|_| {
                    invalid(
                        path,
                        format!("[jwt] secret_env names the environment variable '{var}', which is not set (or not UTF-8); set it to the HS256 secret"),
                    )
                })?),
                (None, None) => None,
            };
            if let Some(b) = &secret_bytes {
                if b.len() < 32 {
                    return Err(invalid(
                        path,
                        format!("[jwt] the shared secret is {} bytes; HS256 needs at least 32 (RFC 7518 section 3.2): use a longer random secret", b.len()),
                    ));
                }
            }
            let secret = secret_bytes.map(|b| DecodingKey::from_secret(b.as_bytes()));
            let mut jwks = Vec::new();
            if let Some(file) = &s.jwks_file {
                let full = match path.parent() {
                    Some(dir) if file.is_relative() => dir.join(file),
                    _ => file.clone(),
                };
                let text = std::fs::read_to_string(&full).map_err(|source| AuthError::Read {
                    path: full.clone(),
                    source,
                })?;
                let set: JwkSet = serde_json::from_str(&text).map_err(|e| {
                    invalid(
                        &full,
                        format!("not a JWKS ({e}); give a JSON Web Key Set {{\"keys\": [...]}} with public keys"),
                    )
                })?;
                for (i, jwk) in set.keys.iter().enumerate() {
                    let kid = jwk.common.key_id.clone();
                    let label = kid.clone().unwrap_or_else(|| format!("keys[{i}]"));
                    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
                        continue;
                    }
                    let key = DecodingKey::from_jwk(jwk).map_err(|e| {
                        invalid(
                            &full,
                            format!("key '{label}' cannot be used to verify signatures ({e})"),
                        )
                    })?;
                    if key.family() == AlgorithmFamily::Hmac {
                        return Err(invalid(
                            &full,
                            format!("key '{label}' is a symmetric ('oct') key; put shared secrets in [jwt] secret or secret_env, and only public keys in the JWKS"),
                        ));
                    }
                    let alg = match jwk.common.key_algorithm {
                        Some(a) => Some(Algorithm::try_from(a).map_err(|e| {
                            invalid(
                                &full,
                                format!("key '{label}': algorithm not usable for signatures ({e})"),
                            )
                        })?),
                        None => None,
                    };
                    jwks.push(JwksKey { kid, alg, key });
                }
                if jwks.is_empty() {
                    return Err(invalid(&full, "the JWKS has no signature key"));
                }
            }
            if secret.is_none() && jwks.is_empty() {
                return Err(invalid(
                    path,
                    "[jwt] needs 'secret' or 'secret_env' (HS256) and/or 'jwks_file' (RS256, ES256, ...)",
                ));
            }
            let algorithms = match &s.algorithms {
                Some(list) => {
                    let mut v = Vec::new();
                    for a in list {
                        let alg = Algorithm::from_str(a).map_err(|_| {
                            invalid(path, format!("[jwt] algorithms: '{a}' is not a JWS algorithm; use HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 or EdDSA"))
                        })?;
                        v.push(alg);
                    }
                    v
                }
                None => {
                    let mut v = Vec::new();
                    if secret.is_some() {
                        v.extend([Algorithm::HS256, Algorithm::HS384, Algorithm::HS512]);
                    }
                    for k in &jwks {
                        for a in k.key.family().algorithms() {
                            if !v.contains(a) {
                                v.push(*a);
                            }
                        }
                    }
                    v
                }
            };
            Ok(Verifier {
                secret,
                jwks,
                algorithms,
                issuer: s.issuer.map(super::OneOrMany::into_vec),
                audience: s.audience.map(super::OneOrMany::into_vec),
                leeway: s.leeway_seconds,
                claim: s.collections_claim,
                public: public.clone(),
                cache: (0..CACHE_SHARDS)
                    .map(|_| Mutex::new(HashMap::new()))
                    .collect(),
            })
        }

        fn key_for(&self, alg: Algorithm, kid: Option<&str>) -> Result<&DecodingKey, String> {
            if alg.family() == AlgorithmFamily::Hmac {
                return self.secret.as_ref().ok_or_else(|| {
                    format!("{alg:?} tokens are not accepted here (no shared secret is configured)")
                });
            }
            let fits =
                |k: &&JwksKey| k.key.family() == alg.family() && k.alg.is_none_or(|a| a == alg);
            match kid {
                Some(kid) => self
                    .jwks
                    .iter()
                    .filter(|k| k.kid.as_deref() == Some(kid))
                    .find(fits)
                    .map(|k| &k.key)
                    .ok_or_else(|| {
                        format!("no key with kid '{kid}' for {alg:?} in the server's JWKS")
                    }),
                None => {
                    let mut it = self.jwks.iter().filter(fits);
                    match (it.next(), it.next()) {
                        (Some(k), None) => Ok(&k.key),
                        (None, _) => Err(format!("no {alg:?} key in the server's JWKS")),
                        (Some(_), Some(_)) => Err("the token has no 'kid' and the JWKS has several keys; issue tokens with a kid".to_string()),
                    }
                }
            }
        }

        pub(super) fn verify(&self, token: &str, digest: &[u8; 32]) -> Result<Grant, String> {
            let now = jsonwebtoken::get_current_timestamp();
            let shard = &self.cache[digest[0] as usize % self.cache.len()];
            if let Some((g, until)) = shard.lock().get(digest) {
                if now <= *until {
                    return Ok(g.clone());
                }
            }
            let header = jsonwebtoken::decode_header(token)
                .map_err(|e| format!("the token is not a JWT ({e})"))?;
            if !self.algorithms.contains(&header.alg) {
                return Err(format!(
                    "tokens signed with {:?} are not accepted here (accepted: {:?})",
                    header.alg, self.algorithms
                ));
            }
            let key = self.key_for(header.alg, header.kid.as_deref())?;
            let mut v = Validation::new(header.alg);
            v.leeway = self.leeway;
            v.validate_exp = true;
            v.validate_nbf = true;
            v.set_required_spec_claims(&["exp"]);
            if let Some(iss) = &self.issuer {
                v.set_issuer(iss);
            }
            match &self.audience {
                Some(aud) => v.set_audience(aud),
                None => v.validate_aud = false,
            }
            let data =
                jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(token, key, &v)
                    .map_err(|e| explain(&e, self))?;
            let claims = data.claims;
            let exp = claims
                .get("exp")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(now);
            let access = match claims.get(&self.claim) {
                None => Access::none(),
                Some(serde_json::Value::String(s)) if s == "*" => Access::All,
                Some(serde_json::Value::String(s)) => Access::of(
                    s.split([' ', ','])
                        .filter(|x| !x.is_empty())
                        .map(str::to_string),
                ),
                Some(serde_json::Value::Array(a)) => {
                    let mut ids = Vec::with_capacity(a.len());
                    for x in a {
                        match x.as_str() {
                            Some(s) => ids.push(s.to_string()),
                            None => {
                                return Err(format!(
                                    "the token's '{}' claim holds a non-string; it must be a list of collection ids or \"*\"",
                                    self.claim
                                ))
                            }
                        }
                    }
                    Access::of(ids)
                }
                Some(_) => {
                    return Err(format!(
                        "the token's '{}' claim must be a list of collection ids or \"*\"",
                        self.claim
                    ))
                }
            }
            .union(&self.public);
            let name: Arc<str> = Arc::from(
                claims
                    .get("sub")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("jwt"),
            );
            let grant = Grant { name, access };
            let mut map = shard.lock();
            if map.len() >= CACHE_PER_SHARD {
                map.retain(|_, (_, until)| now <= *until);
                if map.len() >= CACHE_PER_SHARD {
                    map.clear();
                }
            }
            map.insert(*digest, (grant.clone(), exp.saturating_add(self.leeway)));
            Ok(grant)
        }
    }

    fn explain(e: &jsonwebtoken::errors::Error, v: &Verifier) -> String {
        use jsonwebtoken::errors::ErrorKind as K;
        match e.kind() {
            K::ExpiredSignature => format!(
                "the token has expired (exp is past, beyond the {} s leeway); get a new token",
                v.leeway
            ),
            K::ImmatureSignature => "the token is not valid yet (nbf is in the future)".to_string(),
            K::InvalidAudience => match &v.audience {
                Some(a) => format!("the token's audience (aud) is not one of {a:?}"),
                None => "the token's audience (aud) is refused".to_string(),
            },
            K::InvalidIssuer => match &v.issuer {
                Some(i) => format!("the token's issuer (iss) is not one of {i:?}"),
                None => "the token's issuer (iss) is refused".to_string(),
            },
            K::InvalidSignature => "the token's signature does not verify".to_string(),
            K::MissingRequiredClaim(c) => format!("the token has no '{c}' claim"),
            K::InvalidAlgorithm => "the token's algorithm does not fit the key".to_string(),
            _ => format!("the token cannot be verified ({e})"),
        }
    }
}

//! The OpenAPI 3.1 document of the whole HTTP surface. It is built with the router, not beside
//! it: every route is added through utoipa-axum's `OpenApiRouter::routes` from a handler's
//! `#[utoipa::path]` (or, for the holder pages, through `apidoc::page`), so a route cannot be
//! served without being described — clippy's `disallowed-methods` refuses the other ways to add
//! one, and debug builds answer 500 to a request whose route the document lacks
//! ([`described_only`]).

use crate::apidoc::Root;
use crate::error::ApiError;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeSet;
use std::sync::OnceLock;
use utoipa::OpenApi as _;
use utoipa::openapi::OpenApi;

/// The document, with every route of [`super::described_routes`]. Built once; the same on every instance.
pub fn document() -> &'static OpenApi {
    static DOC: OnceLock<OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = Root::openapi();
        doc.merge(super::described_routes().into_openapi());
        doc
    })
}

/// The document as `GET /openapi.json` serves it and `docs/openapi.json` holds it.
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let mut text = document()
            .to_pretty_json()
            .expect("an OpenAPI document serializes");
        text.push('\n');
        text
    })
}

/// `(METHOD, path template)` of every described operation.
fn operations() -> &'static BTreeSet<(String, String)> {
    static OPS: OnceLock<BTreeSet<(String, String)>> = OnceLock::new();
    OPS.get_or_init(|| {
        let mut ops = BTreeSet::new();
        for (path, item) in &document().paths.paths {
            let methods = [
                ("GET", item.get.is_some()),
                ("PUT", item.put.is_some()),
                ("POST", item.post.is_some()),
                ("DELETE", item.delete.is_some()),
                ("PATCH", item.patch.is_some()),
            ];
            for (method, present) in methods {
                if present {
                    ops.insert((method.to_string(), path.clone()));
                }
            }
        }
        ops
    })
}

/// Whether the document describes `method` on the route template `path`.
pub fn describes(method: &str, path: &str) -> bool {
    // HEAD is answered wherever GET is (axum), as HTTP wants.
    let method = if method == "HEAD" { "GET" } else { method };
    operations().contains(&(method.to_string(), path.to_string()))
}

/// Debug builds only: a request that matched a route the document does not describe is answered
/// 500, so that every test that reaches such a route fails.
pub async fn described_only(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    if let Some(route) = route
        && !describes(req.method().as_str(), &route)
    {
        let method = req.method().clone();
        return ApiError::Internal(anyhow::anyhow!(
            "{method} {route} is served but not described in the OpenAPI document"
        ))
        .into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// `docs/openapi.json`, the committed copy readers and tools take.
    fn committed_path() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
    }

    #[test]
    fn the_committed_document_is_current() {
        let path = committed_path();
        if std::env::var_os("WALLETD_WRITE_OPENAPI").is_some() {
            std::fs::write(&path, document_json()).expect("docs/openapi.json is writable");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == document_json(),
            "docs/openapi.json is stale: run `WALLETD_WRITE_OPENAPI=1 cargo test -p walletd openapi`"
        );
    }

    /// Every `{name}` of a path is a path parameter of each of its operations: a generator
    /// (Schemathesis) cannot fill a parameter the document does not declare.
    #[test]
    fn every_path_parameter_is_declared() {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::path::ParameterIn;
        let doc = document();
        for (path, item) in doc.paths.paths.iter() {
            let named: BTreeSet<&str> = path
                .split('{')
                .skip(1)
                .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
                .collect();
            let ops = [&item.get, &item.put, &item.post, &item.delete, &item.patch];
            for op in ops.into_iter().flatten() {
                let declared: BTreeSet<&str> = op
                    .parameters
                    .iter()
                    .flatten()
                    .filter_map(|p| match p {
                        RefOr::T(p) if p.parameter_in == ParameterIn::Path => Some(p.name.as_str()),
                        _ => None,
                    })
                    .collect();
                assert_eq!(declared, named, "{path}");
            }
        }
    }

    #[tokio::test]
    async fn a_route_the_document_lacks_is_refused() {
        use axum::body::Body;
        use tower::ServiceExt;
        #[allow(clippy::disallowed_methods)] // the very thing that must not pass
        let router = axum::Router::new()
            .route("/undescribed", axum::routing::get(|| async { "served" }))
            .route("/healthz", axum::routing::get(|| async { "served" }))
            .route_layer(axum::middleware::from_fn(described_only));
        let call = |uri: &'static str| {
            let router = router.clone();
            async move {
                let req = Request::get(uri).body(Body::empty()).unwrap();
                router.oneshot(req).await.unwrap().status().as_u16()
            }
        };
        assert_eq!(call("/undescribed").await, 500);
        assert_eq!(call("/healthz").await, 200);
    }

    /// The schema names a schema refers to (`$ref`), transitively through `components`.
    fn refs_in(value: &serde_json::Value, out: &mut BTreeSet<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(r)) = map.get("$ref") {
                    out.insert(r.trim_start_matches("#/components/schemas/").to_string());
                }
                map.values().for_each(|v| refs_in(v, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs_in(v, out)),
            _ => {}
        }
    }

    /// What the Wallet API's clients call (`/rest/v1`, `/oauth/v1`) is made of `wallet_client`'s
    /// types only, each exactly as the SDK derives it: the SDK reads what walletd documents.
    #[test]
    fn the_api_schemas_are_the_sdks_types() {
        let doc = serde_json::to_value(document()).unwrap();
        let components = &doc["components"]["schemas"];
        let mut names = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            if path.starts_with("/rest/v1/") || path.starts_with("/oauth/v1/") {
                refs_in(item, &mut names);
            }
        }
        loop {
            let before = names.len();
            for name in names.clone() {
                refs_in(&components[&name], &mut names);
            }
            if names.len() == before {
                break;
            }
        }
        let sdk: BTreeMap<String, serde_json::Value> = wallet_client::types::schemas()
            .into_iter()
            .map(|(name, schema)| (name, serde_json::to_value(schema).unwrap()))
            .collect();
        assert!(names.contains("Transaction") && names.contains("ErrorBody"));
        for name in &names {
            let Some(theirs) = sdk.get(name) else {
                panic!("{name} is in the API's document but is not a wallet_client type");
            };
            assert_eq!(&components[name], theirs, "{name} differs from the SDK's");
        }
    }

    #[test]
    fn every_operation_lists_its_errors_and_a_success() {
        for (path, item) in &document().paths.paths {
            let item = serde_json::to_value(item).unwrap();
            for (method, op) in item.as_object().unwrap() {
                let responses = op["responses"].as_object().unwrap();
                assert!(
                    responses.keys().any(|s| s.starts_with('2')),
                    "{method} {path} has no success answer"
                );
                if path.starts_with("/rest/v1/") || path.starts_with("/oauth/v1/") {
                    for status in ["400", "401", "429", "500", "503"] {
                        assert!(
                            responses.contains_key(status),
                            "{method} {path}: no {status}"
                        );
                    }
                    assert_eq!(op["security"][0]["mac"], serde_json::json!([]));
                }
            }
        }
    }
}

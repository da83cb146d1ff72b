//! The OpenAPI 3 document of the REST API, generated from the handlers' `#[utoipa::path]`
//! annotations, served as JSON at [`routes::SCHEMA`], and the Swagger UI docs page at
//! [`routes::DOCS`]. Swagger UI is compiled into the binary (`utoipa-swagger-ui` with its
//! `vendored` feature): nothing is downloaded at build time or when the page is viewed.
//!
//! Adding an endpoint to the document: add its path to the route table
//! (`whisper_http::routes`), annotate the handler with `#[utoipa::path(...)]`
//! (`path = routes::X`, method, `tag`, every response including the errors with
//! [`ErrorBody`], and the shared responses of this module: the sets [`CommonErrors`],
//! [`JsonBodyErrors`], [`TokenRejected`], [`NotAuthenticated`], [`SessionRequired`]), then
//! list it in `paths(...)` of [`ApiDoc`] below (its module must be visible from here, e.g.
//! `pub(crate) mod rooms;`). Give it an `operation_id` unique in the document (the tests
//! check), `security(("bearer" = []))` when it needs the access token. Its request and
//! response schemas (`ToSchema`) are picked up from the annotation; list a schema in
//! `components(schemas(...))` only when no annotation reaches it. The tests below then check
//! that it is routed, that its references resolve and that its errors use `ErrorBody`.

use std::sync::{Arc, LazyLock};

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use whisper_http::error_response;
use whisper_http::fallback::{not_found, resource};
use whisper_http::routes;
use whisper_wire::ErrorBody;

/// Name of the Bearer access token security scheme; use it in `security(("bearer" = []))`.
pub const BEARER: &str = "bearer";
/// Name of the session cookie security scheme; use it in `security(("session" = []))`.
pub const SESSION: &str = "session";

mod responses;

pub use responses::{
    CommonErrors, JsonBodyErrors, NotAuthenticated, PayloadTooLarge, ServiceUnavailable,
    SessionRequired, TokenRejected, TooManyRequests, UnsupportedMediaType,
};

/// The whole API. To document a new handler, add it to `paths(...)` in its area's group.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Whisper",
        description = format!(
            "The REST API of Whisper, a chat server. Errors always have the shape \
            `{{\"code\", \"detail\", \"fields\"?}}` (schema `ErrorBody`). Real-time chat runs \
            over the WebSocket `{}`, which this document does not describe.",
            routes::CHAT_SOCKET
        ),
        license(name = "MIT", identifier = "MIT"),
    ),
    paths(
        // Health.
        crate::health::live,
        crate::health::ready,
        // Users and authentication: the `user/` routes.
        crate::accounts::registration::register,
        crate::accounts::registration::begin_verification,
        crate::accounts::registration::complete_verification,
        crate::accounts::registration::verification_page,
        crate::accounts::two_factor::create_device,
        crate::accounts::two_factor::qr_code,
        crate::accounts::two_factor::confirm_device,
        crate::accounts::login::login,
        crate::accounts::login::totp_instructions,
        crate::accounts::login::verify_totp,
        crate::accounts::login::refresh,
        crate::accounts::login::logout,
        crate::accounts::profile::me,
        crate::accounts::profile::rename,
        crate::accounts::profile::user_list,
        crate::accounts::social::begin,
        crate::accounts::social::complete,
        // Rooms, messages and media: the `chat/` routes. Add their handlers here.
        crate::chat::rooms::list,
        crate::chat::rooms::create,
        crate::chat::rooms::add_members,
        crate::chat::rooms::remove_member,
        crate::chat::history::home,
        crate::chat::media::download,
    ),
    components(
        schemas(ErrorBody),
        responses(TooManyRequests, ServiceUnavailable, PayloadTooLarge, UnsupportedMediaType),
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "health", description = "Liveness and readiness probes."),
        (name = "users", description = "Registration, email verification, TOTP two-factor \
            setup, login, token sessions, profiles, social sign-in."),
        (name = "chat", description = "Rooms, their members, message history and media."),
    ),
)]
pub struct ApiDoc;

/// Registers the two ways to authenticate: the Bearer access token and the session cookie.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "`Authorization: Bearer <access>` with the access token of \
                         `totp/verify/` or `refresh/`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            SESSION,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "whisper_session",
                "The signed and encrypted session cookie: it carries the email of the flow in \
                 progress (verification, TOTP setup, login) and the refresh token. Keep cookies \
                 between the calls of one flow.",
            ))),
        );
    }
}

/// The document as served, built once.
static SCHEMA_JSON: LazyLock<Result<String, String>> =
    LazyLock::new(|| ApiDoc::openapi().to_json().map_err(|e| e.to_string()));

/// The Swagger UI settings: the document above, no online validator (it would call
/// another host), and operations filterable.
static SWAGGER_CONFIG: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        utoipa_swagger_ui::Config::new([routes::SCHEMA])
            .validator_url("none")
            .filter(true)
            .try_it_out_enabled(false)
            .persist_authorization(false),
    )
});

/// GET [`routes::SCHEMA`]: the OpenAPI document.
async fn schema() -> HttpResponse {
    match SCHEMA_JSON.as_ref() {
        Ok(json) => HttpResponse::Ok()
            .content_type("application/json")
            .body(json.as_str()),
        Err(error) => {
            tracing::error!(%error, "OpenAPI document does not serialize");
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Something went wrong on our side; please try again later.",
            )
        }
    }
}

/// GET [`routes::DOCS`]`<file>`: Swagger UI's page (empty `<file>`) and its assets.
async fn docs(file: web::Path<String>) -> HttpResponse {
    match utoipa_swagger_ui::serve(&file, SWAGGER_CONFIG.clone()) {
        Ok(Some(file)) => {
            let mut response = HttpResponse::Ok();
            if file.gzpipped {
                response.insert_header((header::CONTENT_ENCODING, "gzip"));
            }
            response
                .content_type(file.content_type)
                .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .body(file.bytes.into_owned())
        }
        Ok(None) => not_found().await,
        Err(error) => {
            tracing::error!(%error, "Swagger UI asset");
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Something went wrong on our side; please try again later.",
            )
        }
    }
}

/// The docs page without its trailing slash: the page's relative asset links need the slash.
async fn docs_without_slash() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, HeaderValue::from_static(routes::DOCS)))
        .finish()
}

/// Mounts the document and the docs page; other methods are a JSON 405.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource(
        routes::SCHEMA,
        [
            (Method::GET, web::to(schema)),
            (Method::HEAD, web::to(schema)),
        ],
    ))
    .service(resource(
        routes::DOCS.trim_end_matches('/'),
        [
            (Method::GET, web::to(docs_without_slash)),
            (Method::HEAD, web::to(docs_without_slash)),
        ],
    ))
    .service(resource(
        &format!("{}{{file:.*}}", routes::DOCS),
        [(Method::GET, web::to(docs)), (Method::HEAD, web::to(docs))],
    ));
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use actix_web::{App, test};
    use serde_json::Value;

    use super::*;
    use crate::Readiness;
    use whisper_http::fallback::json_errors;

    const HTTP_METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];

    /// The whole REST app as `lib.rs` mounts it, without any service behind it.
    macro_rules! app {
        () => {{
            let readiness = web::Data::new(Readiness::default());
            test::init_service(
                App::new()
                    .wrap(json_errors())
                    .configure(|cfg| crate::configure(cfg, readiness.clone())),
            )
            .await
        }};
    }

    async fn served_document() -> Value {
        let app = app!();
        let request = test::TestRequest::get().uri(routes::SCHEMA).to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
        let bytes = test::read_body(response).await;
        serde_json::from_slice(&bytes).expect("the schema is JSON")
    }

    /// `{path: {methods}}` of the document.
    fn operations(document: &Value) -> BTreeMap<String, BTreeSet<String>> {
        document["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .map(|(path, item)| {
                let methods = item
                    .as_object()
                    .expect("path item")
                    .keys()
                    .filter(|key| HTTP_METHODS.contains(&key.as_str()))
                    .cloned()
                    .collect();
                (path.clone(), methods)
            })
            .collect()
    }

    /// What `reference` (`#/components/<kind>/<name>`) points at in `document`.
    fn resolve<'d>(document: &'d Value, reference: &str) -> Option<&'d Value> {
        let pointer = reference.strip_prefix('#')?;
        document.pointer(pointer)
    }

    fn collect_refs(value: &Value, into: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("$ref", Value::String(reference)) => into.push(reference.clone()),
                        _ => collect_refs(value, into),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| collect_refs(item, into)),
            _ => {}
        }
    }

    #[actix_web::test]
    async fn the_schema_is_openapi_3_listing_every_rest_path_of_the_api() {
        let document = served_document().await;
        let version = document["openapi"].as_str().expect("openapi field");
        assert!(version.starts_with("3."), "{version}");
        assert_eq!(document["info"]["title"], "Whisper");

        let expected: [(&str, &[&str]); 24] = [
            (routes::HEALTH_LIVE, &["get"]),
            (routes::HEALTH_READY, &["get"]),
            (routes::REGISTER, &["post"]),
            (routes::VERIFY_EMAIL_BEGIN, &["post"]),
            (routes::VERIFY_EMAIL_COMPLETE, &["get", "post"]),
            (routes::TOTP_DEVICE_CREATE, &["post"]),
            (routes::QR_CODE, &["post"]),
            (routes::TOTP_DEVICE_VERIFY, &["post"]),
            (routes::LOGIN, &["post"]),
            (routes::TOTP_VERIFY, &["get", "post"]),
            (routes::REFRESH, &["post"]),
            (routes::LOGOUT, &["post"]),
            (routes::ME, &["get", "patch"]),
            (routes::USER_LIST, &["get"]),
            (routes::SOCIAL_BEGIN, &["get"]),
            (routes::SOCIAL_COMPLETE, &["get"]),
            (routes::ROOM_LIST, &["get", "post"]),
            (routes::ROOM_MEMBERS, &["post"]),
            (routes::ROOM_MEMBER, &["delete"]),
            (routes::ROOM_HOME, &["get"]),
            (routes::MEDIA, &["get"]),
            // Not in the document itself: checked absent below.
            (routes::SCHEMA, &[]),
            (routes::DOCS, &[]),
            ("/api/v1/docs/{file}", &[]),
        ];
        let documented = operations(&document);
        for (path, methods) in expected {
            let methods: BTreeSet<String> = methods.iter().map(|m| (*m).to_owned()).collect();
            if methods.is_empty() {
                assert!(!documented.contains_key(path), "{path} documented");
            } else {
                assert_eq!(documented.get(path), Some(&methods), "{path}");
            }
        }
    }

    #[actix_web::test]
    async fn operations_say_what_they_take_and_answer() {
        let document = served_document().await;
        let paths = &document["paths"];
        let op = |path: &str, method: &str| paths[path][method].clone();

        let register = op(routes::REGISTER, "post");
        assert_eq!(register["tags"][0], "users");
        assert_eq!(
            register["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/RegisterRequest"
        );
        assert_eq!(
            register["responses"]["201"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/AccountBody"
        );
        for status in ["400", "409", "413", "415", "429", "503"] {
            assert!(register["responses"].get(status).is_some(), "{status}");
        }

        let qr = op(routes::QR_CODE, "post");
        let png = qr["responses"]["200"]["content"]
            .as_object()
            .expect("content");
        assert_eq!(png.keys().collect::<Vec<_>>(), ["image/png"]);
        // Media is served with the type its bytes have, never as octet-stream (schemathesis
        // found the document saying otherwise).
        let media = op(routes::MEDIA, "get");
        let media = media["responses"]["200"]["content"]
            .as_object()
            .expect("content");
        for served in ["image/png", "image/webp", "audio/mpeg", "video/mp4"] {
            assert!(media.contains_key(served), "{served}");
        }
        assert!(!media.contains_key("application/octet-stream"));
        let page = op(routes::VERIFY_EMAIL_COMPLETE, "get");
        assert!(
            page["responses"]["200"]["content"]
                .get("text/html")
                .is_some()
        );
        assert_eq!(page["parameters"][0]["name"], "token");
        assert_eq!(page["parameters"][0]["in"], "path");

        let login = op(routes::LOGIN, "post");
        assert!(
            login["responses"]["303"]["headers"]
                .get("Location")
                .is_some()
        );
        let social = op(routes::SOCIAL_COMPLETE, "get");
        for status in ["201", "303", "400", "401", "403", "404", "502"] {
            assert!(social["responses"].get(status).is_some(), "{status}");
        }
        let names: BTreeSet<&str> = social["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(names, BTreeSet::from(["backend", "code", "state", "error"]));
        let begin = op(routes::SOCIAL_BEGIN, "get");
        assert!(
            begin["responses"]["302"]["headers"]
                .get("Location")
                .is_some()
        );
        let users = op(routes::USER_LIST, "get");
        assert_eq!(users["parameters"][0]["name"], "search");
        assert_eq!(users["parameters"][0]["in"], "query");

        assert_eq!(
            op(routes::ME, "get")["security"],
            serde_json::json!([{"bearer": []}])
        );
        assert_eq!(
            op(routes::TOTP_VERIFY, "post")["security"],
            serde_json::json!([{"session": []}])
        );
        assert!(op(routes::REGISTER, "post").get("security").is_none());
    }

    #[actix_web::test]
    async fn security_schemes_are_the_bearer_token_and_the_session_cookie() {
        let document = served_document().await;
        let schemes = &document["components"]["securitySchemes"];
        assert_eq!(schemes["bearer"]["type"], "http");
        assert_eq!(schemes["bearer"]["scheme"], "bearer");
        assert_eq!(schemes["session"]["type"], "apiKey");
        assert_eq!(schemes["session"]["in"], "cookie");
        assert_eq!(schemes["session"]["name"], "whisper_session");
    }

    #[actix_web::test]
    async fn every_reference_resolves_and_every_error_has_the_error_shape() {
        let document = served_document().await;
        let mut refs = Vec::new();
        collect_refs(&document, &mut refs);
        assert!(!refs.is_empty());
        for reference in &refs {
            assert!(
                resolve(&document, reference).is_some(),
                "dangling {reference}"
            );
        }

        let error_shape = "#/components/schemas/ErrorBody";
        for (path, methods) in operations(&document) {
            for method in methods {
                let operation = &document["paths"][&path][&method];
                let responses = operation["responses"].as_object().expect("responses");
                assert!(!responses.is_empty(), "{method} {path}");
                for (status, response) in responses {
                    let code: u16 = status.parse().expect("numeric status");
                    if code < 400 {
                        continue;
                    }
                    let response = match response["$ref"].as_str() {
                        Some(reference) => resolve(&document, reference).expect("resolves"),
                        None => response,
                    };
                    let json = &response["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(json, error_shape, "{method} {path} {status}");
                }
            }
        }
    }

    #[actix_web::test]
    async fn every_operation_has_a_unique_id_a_tag_and_a_summary() {
        let document = served_document().await;
        let mut seen = BTreeSet::new();
        for (path, methods) in operations(&document) {
            for method in methods {
                let operation = &document["paths"][&path][&method];
                let id = operation["operationId"].as_str().unwrap_or_default();
                assert!(!id.is_empty(), "{method} {path} has no operationId");
                assert!(seen.insert(id.to_owned()), "operationId {id} twice");
                assert!(
                    operation["tags"][0].is_string(),
                    "{method} {path} has no tag"
                );
                assert!(
                    operation["summary"].is_string() || operation["description"].is_string(),
                    "{method} {path} says nothing"
                );
            }
        }
    }

    #[actix_web::test]
    async fn every_documented_operation_is_routed() {
        let document = served_document().await;
        let app = app!();
        for (path, methods) in operations(&document) {
            let uri = path.replace(['{', '}'], "");
            for method in methods {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
                let request = test::TestRequest::default()
                    .method(method.clone())
                    .uri(&uri)
                    .peer_addr("127.0.0.1:9".parse().expect("address"))
                    .to_request();
                let response = test::call_service(&app, request).await;
                let status = response.status();
                assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
                if status == StatusCode::NOT_FOUND {
                    let body: Value = test::read_body_json(response).await;
                    assert_ne!(body["code"], "not_found", "{method} {path} is not routed");
                }
            }
        }
    }

    fn no_absolute_url(text: &str) -> Result<(), String> {
        let lower = text.to_ascii_lowercase();
        for scheme in ["http://", "https://", "//cdn", "src=\"//", "href=\"//"] {
            if let Some(at) = lower.find(scheme) {
                let end = (at + 60).min(text.len());
                return Err(text.get(at..end).unwrap_or(scheme).to_owned());
            }
        }
        Ok(())
    }

    /// The values of `attribute="..."` in `html`.
    fn attribute_values<'h>(html: &'h str, attribute: &str) -> Vec<&'h str> {
        let needle = format!("{attribute}=\"");
        html.match_indices(&needle)
            .filter_map(|(at, _)| {
                let rest = &html[at + needle.len()..];
                rest.find('"').map(|end| &rest[..end])
            })
            .collect()
    }

    #[actix_web::test]
    async fn the_docs_page_is_html_that_loads_everything_from_this_server() {
        let app = app!();
        let request = test::TestRequest::get().uri(routes::DOCS).to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers().get(header::CONTENT_TYPE).unwrap();
        assert!(
            content_type.to_str().unwrap().starts_with("text/html"),
            "{content_type:?}"
        );
        let html = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
        assert!(html.contains("<html"), "{html}");
        no_absolute_url(&html).unwrap();

        let assets: Vec<&str> = attribute_values(&html, "src")
            .into_iter()
            .chain(attribute_values(&html, "href"))
            .collect();
        assert!(assets.len() >= 3, "{assets:?}");
        for asset in assets {
            assert!(!asset.contains(':'), "not relative: {asset}");
            let uri = format!("{}{}", routes::DOCS, asset.trim_start_matches("./"));
            let request = test::TestRequest::get().uri(&uri).to_request();
            let response = test::call_service(&app, request).await;
            assert_eq!(response.status(), StatusCode::OK, "{uri}");
        }

        // The script starting Swagger UI reads our document and calls no online validator.
        let request = test::TestRequest::get()
            .uri("/api/v1/docs/swagger-initializer.js")
            .to_request();
        let script =
            String::from_utf8(test::call_and_read_body(&app, request).await.to_vec()).unwrap();
        assert!(
            script.contains(&format!("\"url\": \"{}\"", routes::SCHEMA)),
            "{script}"
        );
        assert!(script.contains("\"validatorUrl\": \"none\""), "{script}");
        no_absolute_url(&script).unwrap();
    }

    #[actix_web::test]
    async fn docs_and_schema_refuse_other_methods_and_unknown_files_in_json() {
        let app = app!();
        for uri in [routes::SCHEMA, routes::DOCS, "/api/v1/docs/index.css"] {
            let request = test::TestRequest::post().uri(uri).to_request();
            let response = test::call_service(&app, request).await;
            assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{uri}");
            assert_eq!(response.headers().get(header::ALLOW).unwrap(), "GET, HEAD");
            let body: Value = test::read_body_json(response).await;
            assert_eq!(body["code"], "method_not_allowed");
        }

        let request = test::TestRequest::get()
            .uri("/api/v1/docs/nothing.js")
            .to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body: Value = test::read_body_json(response).await;
        assert_eq!(body["code"], "not_found");

        let request = test::TestRequest::get().uri("/api/v1/docs").to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(
            response.headers().get(header::LOCATION).unwrap(),
            routes::DOCS
        );
    }
}

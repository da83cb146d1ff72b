//! The browser client's scripts and styles, compiled into the binary with `include_str!`
//! (no files beside the binary, no build step, no extra dependency), served with their
//! content type and a validator so browsers revalidate cheaply after an upgrade.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use whisper_http::fallback::not_found;

/// A file of `templates/static/`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_str!(concat!("../../../../templates/static/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

const ASSETS: [Asset; 15] = [
    asset!("icon.svg", "image/svg+xml"),
    asset!("whisper.css", "text/css; charset=utf-8"),
    asset!("api.js", JS),
    asset!("socket.js", JS),
    asset!("message-list.js", JS),
    asset!("composer.js", JS),
    asset!("presence.js", JS),
    asset!("members.js", JS),
    asset!("session.js", JS),
    asset!("signup.js", JS),
    asset!("verify.js", JS),
    asset!("setup-2fa.js", JS),
    asset!("login.js", JS),
    asset!("rooms.js", JS),
    asset!("room.js", JS),
];

/// A strong validator of `body`: FNV-1a, enough to tell two builds' files apart.
fn etag(body: &str) -> String {
    let hash = body.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("\"{hash:016x}\"")
}

/// GET `/static/<name>`.
pub async fn asset(request: HttpRequest, name: web::Path<String>) -> HttpResponse {
    let Some(asset) = ASSETS.iter().find(|asset| asset.name == name.as_str()) else {
        return not_found().await;
    };
    let tag = etag(asset.body);
    let cached = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|given| given.trim() == tag));
    // Names carry no version, so a short lifetime, then a cheap revalidation.
    let mut response = if cached {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .insert_header((header::ETAG, tag));
    if cached {
        return response.finish();
    }
    response.content_type(asset.content_type).body(asset.body)
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use actix_web::{App, test};

    use super::*;

    #[actix_web::test]
    async fn assets_have_their_type_and_revalidate() {
        let app =
            test::init_service(App::new().route("/static/{name}", web::get().to(asset))).await;
        for (name, kind) in [("api.js", "text/javascript"), ("whisper.css", "text/css")] {
            let response = test::call_service(
                &app,
                test::TestRequest::get()
                    .uri(&format!("/static/{name}"))
                    .to_request(),
            )
            .await;
            assert_eq!(response.status(), StatusCode::OK);
            let content_type = response
                .headers()
                .get("content-type")
                .unwrap()
                .to_str()
                .unwrap();
            assert!(content_type.starts_with(kind), "{name}: {content_type}");
            assert_eq!(
                response.headers().get("x-content-type-options").unwrap(),
                "nosniff"
            );
            let tag = response.headers().get("etag").unwrap().clone();
            let again = test::call_service(
                &app,
                test::TestRequest::get()
                    .uri(&format!("/static/{name}"))
                    .insert_header(("If-None-Match", tag))
                    .to_request(),
            )
            .await;
            assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        }
        let missing = test::call_service(
            &app,
            test::TestRequest::get().uri("/static/nope.js").to_request(),
        )
        .await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    }
}

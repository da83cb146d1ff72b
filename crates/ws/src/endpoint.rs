//! GET [`routes::CHAT_SOCKET`]: authentication and membership are checked before the
//! upgrade (401/403/404 in the error shape), then the socket is served.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use actix_ws::{AggregatedMessageStream, CloseCode, CloseReason, Session};
use serde::Deserialize;
use whisper_domain::ports::{Clock, Quotas};
use whisper_domain::{Accounts, Chat, Rooms};
use whisper_http::auth::{AuthenticatedUser, Viewer, bearer_token};
use whisper_http::fallback::method_not_allowed;
use whisper_http::origin::{cross_origin, same_origin};
use whisper_http::path_ids::room_id;
use whisper_http::{ApiError, PublicUrl, routes};

use crate::connection::Connection;
use crate::hub::{CLOSE_TOO_MANY_SOCKETS, Hub};
use crate::settings::WsSettings;

/// Room for the JSON metadata of a media frame beyond the media limit.
const METADATA_ALLOWANCE: usize = 64 * 1024;

/// `?since=<message_id>`
#[derive(Debug, Deserialize)]
pub struct SocketQuery {
    since: Option<String>,
}

/// The services a socket needs, shared by the workers.
#[derive(Clone)]
pub struct SocketServices {
    /// The fan-out hub.
    pub hub: Arc<Hub>,
    /// Sending messages.
    pub chat: Arc<Chat>,
    /// Tunables.
    pub settings: WsSettings,
    /// `WHISPER_PUBLIC_URL`, for the `Origin` check and media URLs.
    pub public_url: PublicUrl,
    /// The time, for the per-connection send rate.
    pub clock: Arc<dyn Clock>,
    /// Send budgets shared by every instance (several instances with limits on).
    pub quotas: Option<Arc<dyn Quotas>>,
}

/// Mounts the chat socket; needs `web::Data<SocketServices>`, `web::Data<Rooms>` and
/// `web::Data<Accounts>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(routes::CHAT_SOCKET)
            .route(web::get().to(chat_socket))
            .default_service(method_not_allowed(&[actix_web::http::Method::GET])),
    );
}

/// GET [`routes::CHAT_SOCKET`].
pub async fn chat_socket(
    request: HttpRequest,
    body: web::Payload,
    room: web::Path<String>,
    query: web::Query<SocketQuery>,
    services: web::Data<SocketServices>,
    rooms: web::Data<Rooms>,
    accounts: web::Data<Accounts>,
) -> Result<HttpResponse, ApiError> {
    let caller = if bearer_token(&request).is_some() {
        AuthenticatedUser::extract(&request).await?
    } else {
        let viewer = Viewer::extract(&request).await?;
        // The browser sends the cookie whichever page opens the socket: only our own
        // pages may use it.
        if !same_origin(&request, Some(&services.public_url)) {
            return Err(cross_origin());
        }
        viewer.0
    };
    let room = room_id(&room)?;
    rooms.check_member(&caller.user.id, &room).await?;

    let (response, session, stream) = actix_ws::handle(&request, body).map_err(|error| {
        ApiError::new(
            error.as_response_error().status_code(),
            "websocket_required",
            format!("This address speaks WebSocket: {error}."),
        )
    })?;
    let transport_max = services.settings.media_max_bytes + METADATA_ALLOWANCE;
    let stream = stream
        .max_frame_size(transport_max)
        .aggregate_continuations()
        .max_continuation_size(transport_max);
    // Refused after the upgrade, so the client reads a close code, but before joining the
    // room: presence and `chat.active` never see it.
    let Some(slot) = services.hub.admit(&caller.user.id) else {
        actix_web::rt::spawn(refuse_over_cap(session, stream));
        return Ok(response);
    };
    let connection = Connection {
        hub: services.hub.clone(),
        chat: services.chat.clone(),
        accounts: accounts.into_inner(),
        rooms: rooms.into_inner(),
        user: caller.user,
        access_token: caller.access_token,
        room,
        since: query.into_inner().since,
        settings: services.settings,
        public_url: services.public_url.clone(),
        clock: services.clock.clone(),
        quotas: services.quotas.clone(),
    };
    actix_web::rt::spawn(async move {
        connection.run(session, stream).await;
        drop(slot);
    });
    Ok(response)
}

/// How long a refused socket may take to answer its close frame.
const REFUSAL_GRACE: Duration = Duration::from_secs(1);

/// Closes a socket beyond the per-user cap with [`CLOSE_TOO_MANY_SOCKETS`].
async fn refuse_over_cap(session: Session, mut stream: AggregatedMessageStream) {
    let reason = CloseReason {
        code: CloseCode::from(CLOSE_TOO_MANY_SOCKETS),
        description: Some("too many sockets".to_owned()),
    };
    let _ = tokio::time::timeout(REFUSAL_GRACE, session.close(Some(reason))).await;
    // Reads the client's close reply (or gives up), so the connection ends cleanly.
    let _ = tokio::time::timeout(REFUSAL_GRACE, async {
        while let Some(Ok(_)) = stream.recv().await {}
    })
    .await;
}

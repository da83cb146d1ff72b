//! Every path the server answers, written once. The routers mount these, the OpenAPI
//! annotations document them (`#[utoipa::path(path = routes::LOGIN, ...)]`), and links are
//! built from them ([`path`], [`crate::links::PublicUrl`]). A `{name}` segment is a path
//! parameter, in the syntax both actix-web and utoipa read.

/// GET: 200 while the process runs.
pub const HEALTH_LIVE: &str = "/health/live";
/// GET: 200 while every backing service answers.
pub const HEALTH_READY: &str = "/health/ready";

/// POST: a new account.
pub const REGISTER: &str = "/api/v1/user/register/";
/// POST: a new verification email.
pub const VERIFY_EMAIL_BEGIN: &str = "/api/v1/user/verify-email/begin/";
/// POST: the emailed link's token confirms the email; GET: the page that POSTs it.
pub const VERIFY_EMAIL_COMPLETE: &str = "/api/v1/user/verify-email/complete/{token}/";
/// POST: a TOTP device for the session's email.
pub const TOTP_DEVICE_CREATE: &str = "/api/v1/user/totp-device/create/";
/// POST: the QR code of the unconfirmed TOTP device.
pub const QR_CODE: &str = "/api/v1/user/qr-code/";
/// POST: the first code confirms the TOTP device.
pub const TOTP_DEVICE_VERIFY: &str = "/api/v1/user/totp-device/verify/";
/// POST: the first login step, by email.
pub const LOGIN: &str = "/api/v1/user/login/";
/// POST: the second login step, the TOTP code; GET: what to POST.
pub const TOTP_VERIFY: &str = "/api/v1/user/totp/verify/";
/// POST: new tokens for a refresh token.
pub const REFRESH: &str = "/api/v1/user/refresh/";
/// POST: ends the session.
pub const LOGOUT: &str = "/api/v1/user/logout/";
/// GET: the caller's account; PATCH: renames it.
pub const ME: &str = "/api/v1/user/me/";
/// GET: users by username prefix.
pub const USER_LIST: &str = "/api/v1/user/user-list/";
/// GET: redirects to the identity provider.
pub const SOCIAL_BEGIN: &str = "/api/v1/user/social/begin/{backend}/";
/// GET: where the identity provider sends the browser back.
pub const SOCIAL_COMPLETE: &str = "/api/v1/user/social/complete/{backend}/";

/// GET: the caller's rooms; POST: a new room.
pub const ROOM_LIST: &str = "/api/v1/chat/room-list/";
/// POST: the creator adds members.
pub const ROOM_MEMBERS: &str = "/api/v1/chat/room/{room_id}/users/";
/// DELETE: the creator removes a member, or a member leaves.
pub const ROOM_MEMBER: &str = "/api/v1/chat/room/{room_id}/users/{user_id}/";
/// GET: a room's history (JSON) or its page (HTML).
pub const ROOM_HOME: &str = "/api/v1/chat/home/{room_id}/";
/// GET: a message's media bytes.
pub const MEDIA: &str = "/api/v1/chat/media/{message_id}/";

/// GET: the OpenAPI document.
pub const SCHEMA: &str = "/api/v1/schema/";
/// GET: the docs page; its assets are served below it.
pub const DOCS: &str = "/api/v1/docs/";

/// GET: the chat WebSocket of a room.
pub const CHAT_SOCKET: &str = "/ws/chat/{room_id}/";

/// GET: the browser client's home page (signed in: the rooms).
pub const PAGE_HOME: &str = "/";
/// GET: the sign-up page.
pub const PAGE_SIGNUP: &str = "/signup/";
/// GET: the authenticator enrolment page.
pub const PAGE_SETUP_2FA: &str = "/setup-2fa/";
/// GET: the log-in page (`?next=<local path>`).
pub const PAGE_LOGIN: &str = "/login/";
/// GET: the signed-in person's rooms.
pub const PAGE_ROOMS: &str = "/rooms/";
/// GET: a room's chat page.
pub const PAGE_ROOM: &str = "/rooms/{room_id}/";
/// GET: the browser client's embedded scripts and styles.
pub const STATIC_ASSET: &str = "/static/{name}";

/// `route` with its `{…}` segments replaced by `values`, in order: `path(MEDIA, &[id])`.
/// Values are path segments the server generated (ids, tokens, backend names).
pub fn path(route: &str, values: &[&str]) -> String {
    let mut filled =
        String::with_capacity(route.len() + values.iter().map(|v| v.len()).sum::<usize>());
    let mut values = values.iter();
    let mut rest = route;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let Some(value) = values.next() else {
            break;
        };
        filled.push_str(&rest[..open]);
        filled.push_str(value);
        rest = &rest[open + close + 1..];
    }
    filled.push_str(rest);
    filled
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Each route and the path API.md (or UI.md, for pages) gives it, copied from API.md on purpose: the table is
    /// the wire contract.
    const CONTRACT: [(&str, &str); 31] = [
        (HEALTH_LIVE, "/health/live"),
        (HEALTH_READY, "/health/ready"),
        (REGISTER, "/api/v1/user/register/"),
        (VERIFY_EMAIL_BEGIN, "/api/v1/user/verify-email/begin/"),
        (
            VERIFY_EMAIL_COMPLETE,
            "/api/v1/user/verify-email/complete/{token}/",
        ),
        (TOTP_DEVICE_CREATE, "/api/v1/user/totp-device/create/"),
        (QR_CODE, "/api/v1/user/qr-code/"),
        (TOTP_DEVICE_VERIFY, "/api/v1/user/totp-device/verify/"),
        (LOGIN, "/api/v1/user/login/"),
        (TOTP_VERIFY, "/api/v1/user/totp/verify/"),
        (REFRESH, "/api/v1/user/refresh/"),
        (LOGOUT, "/api/v1/user/logout/"),
        (ME, "/api/v1/user/me/"),
        (USER_LIST, "/api/v1/user/user-list/"),
        (SOCIAL_BEGIN, "/api/v1/user/social/begin/{backend}/"),
        (SOCIAL_COMPLETE, "/api/v1/user/social/complete/{backend}/"),
        (ROOM_LIST, "/api/v1/chat/room-list/"),
        (ROOM_MEMBERS, "/api/v1/chat/room/{room_id}/users/"),
        (ROOM_MEMBER, "/api/v1/chat/room/{room_id}/users/{user_id}/"),
        (ROOM_HOME, "/api/v1/chat/home/{room_id}/"),
        (MEDIA, "/api/v1/chat/media/{message_id}/"),
        (SCHEMA, "/api/v1/schema/"),
        (DOCS, "/api/v1/docs/"),
        (CHAT_SOCKET, "/ws/chat/{room_id}/"),
        (PAGE_HOME, "/"),
        (PAGE_SIGNUP, "/signup/"),
        (PAGE_SETUP_2FA, "/setup-2fa/"),
        (PAGE_LOGIN, "/login/"),
        (PAGE_ROOMS, "/rooms/"),
        (PAGE_ROOM, "/rooms/{room_id}/"),
        (STATIC_ASSET, "/static/{name}"),
    ];

    #[test]
    fn every_route_is_the_path_api_md_names_and_none_is_written_twice() {
        for (route, expected) in CONTRACT {
            assert_eq!(route, expected);
        }
        // A copy-paste slip giving two routes one path would shadow one of them.
        let distinct: BTreeSet<&str> = CONTRACT.iter().map(|(route, _)| *route).collect();
        assert_eq!(distinct.len(), CONTRACT.len());
    }

    #[test]
    fn path_fills_each_segment_in_order() {
        assert_eq!(path(MEDIA, &["m1"]), "/api/v1/chat/media/m1/");
        assert_eq!(
            path(ROOM_MEMBER, &["r1", "u1"]),
            "/api/v1/chat/room/r1/users/u1/"
        );
        assert_eq!(path(LOGIN, &[]), LOGIN);
        assert_eq!(path(CHAT_SOCKET, &["r1"]), "/ws/chat/r1/");
    }
}

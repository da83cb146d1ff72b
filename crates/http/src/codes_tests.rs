//! Every detail of every domain error, with the status, code and sentence clients see
//! today. Each `*_row` match is exhaustive: a new variant does not compile until it has its
//! row (then list it in the array above the match, too).

use actix_web::http::StatusCode;
use serde_json::json;
use whisper_domain::{
    Clash, Credential, Denial, DomainError, Field, Flaw, MediaKind, Missing, Rejection, Service,
    UserId,
};

use crate::errors::tests::answer;

const REJECTIONS: &[Rejection] = &[
    Rejection::ExpiredLink,
    Rejection::InvalidLink,
    Rejection::AlreadyVerified,
    Rejection::WrongOneTimePassword,
    Rejection::MediaTooLarge { max_bytes: 1024 },
];

fn rejection_row(rejection: &Rejection) -> (&'static str, &'static str) {
    match rejection {
        Rejection::ExpiredLink => (
            "expired_token",
            "This verification link has expired; request a new one.",
        ),
        Rejection::InvalidLink => ("invalid_token", "This verification link is not valid."),
        Rejection::AlreadyVerified => (
            "already_verified",
            "This email address is already verified.",
        ),
        Rejection::WrongOneTimePassword => {
            ("invalid_otp", "The code is wrong, expired or already used.")
        }
        Rejection::MediaTooLarge { .. } => ("media_too_large", "Media is limited to 1024 bytes."),
    }
}

const MISSING: &[Missing] = &[
    Missing::AccountWithEmail,
    Missing::User,
    Missing::TotpDevice,
    Missing::UsedVerificationLink,
    Missing::SocialProvider,
    Missing::Room,
    Missing::RoomMember,
    Missing::MemberAccount,
    Missing::UnnamedMember,
    Missing::Message,
    Missing::MessageMedia,
    Missing::MessageInRoom,
];

fn missing_row(missing: Missing) -> (&'static str, &'static str) {
    match missing {
        Missing::AccountWithEmail => ("not_found", "No account uses this email address."),
        Missing::User => ("user_not_found", "No such user."),
        Missing::TotpDevice => ("no_totp_device", "Create a TOTP device first."),
        Missing::UsedVerificationLink => {
            ("invalid_token", "This verification link was already used.")
        }
        Missing::SocialProvider => (
            "unknown_backend",
            "This sign-in provider is not available here.",
        ),
        Missing::Room => ("room_not_found", "No such room."),
        Missing::RoomMember => ("not_a_member", "That user is not a member of this room."),
        Missing::MemberAccount => ("not_a_member", "No such user."),
        Missing::UnnamedMember => ("not_a_member", "That user is not a member."),
        Missing::Message => ("not_found", "No such message."),
        Missing::MessageMedia => ("not_found", "This message has no media."),
        Missing::MessageInRoom => ("unknown_message", "No such message in this room."),
    }
}

const CLASHES: &[Clash] = &[
    Clash::EmailTaken,
    Clash::UsernameTaken,
    Clash::RoomNameTaken,
    Clash::TotpAlreadyConfirmed,
    Clash::VerificationPending,
];

fn clash_row(clash: Clash) -> (&'static str, &'static str) {
    match clash {
        Clash::EmailTaken => ("email_taken", "A user with this email already exists."),
        Clash::UsernameTaken => (
            "username_taken",
            "A user with this username already exists.",
        ),
        Clash::RoomNameTaken => ("room_name_taken", "A room with this name already exists."),
        Clash::TotpAlreadyConfirmed => (
            "totp_already_confirmed",
            "Two-factor authentication is already set up for this account.",
        ),
        Clash::VerificationPending => (
            "verification_pending",
            "A verification link was sent recently and still works; check your inbox.",
        ),
    }
}

const CREDENTIALS: &[Credential] = &[
    Credential::InvalidRefreshToken,
    Credential::InvalidAccessToken,
    Credential::SessionRequired,
];

fn credential_row(credential: Credential) -> (&'static str, &'static str) {
    match credential {
        Credential::InvalidRefreshToken => (
            "invalid_refresh",
            "The refresh token is invalid or was revoked.",
        ),
        Credential::InvalidAccessToken => (
            "invalid_token",
            "The access token is invalid, expired or revoked.",
        ),
        Credential::SessionRequired => (
            "session_required",
            "Start by verifying your email or logging in; this step needs that session.",
        ),
    }
}

const DENIALS: &[Denial] = &[
    Denial::TotpSetupRequired,
    Denial::EmailNotVerified,
    Denial::EmailNotVerifiedByProvider,
    Denial::NotCreatorToAdd,
    Denial::NotCreatorToRemove,
    Denial::NotMember,
];

fn denial_row(denial: Denial) -> (&'static str, &'static str) {
    match denial {
        Denial::TotpSetupRequired => (
            "totp_setup_required",
            "Set up two-factor authentication before logging in.",
        ),
        Denial::EmailNotVerified => ("email_not_verified", "Verify your email address first."),
        Denial::EmailNotVerifiedByProvider => (
            "email_not_verified",
            "Your identity provider has not verified this email address.",
        ),
        Denial::NotCreatorToAdd => (
            "not_room_creator",
            "Only the room's creator can add members.",
        ),
        Denial::NotCreatorToRemove => (
            "not_room_creator",
            "Only the room's creator can remove other members.",
        ),
        Denial::NotMember => ("not_a_member", "You are not a member of this room."),
    }
}

const SERVICES: &[Service] = &[
    Service::Database,
    Service::IdentityProvider,
    Service::MediaStorage,
];

fn service_row(service: Service) -> (&'static str, &'static str) {
    match service {
        Service::Database => (
            "service_unavailable",
            "The database is unavailable right now; try again later.",
        ),
        Service::IdentityProvider => (
            "service_unavailable",
            "The identity provider is unavailable right now; try again later.",
        ),
        Service::MediaStorage => (
            "service_unavailable",
            "The media storage is unavailable right now; try again later.",
        ),
    }
}

/// Every detail as an error, with the status API.md gives it and its code and sentence.
fn every_detail() -> Vec<(DomainError, StatusCode, &'static str, &'static str)> {
    let mut rows = Vec::new();
    for rejection in REJECTIONS {
        let (code, detail) = rejection_row(rejection);
        rows.push((
            DomainError::Rejected(*rejection),
            StatusCode::BAD_REQUEST,
            code,
            detail,
        ));
    }
    for missing in MISSING {
        let (code, detail) = missing_row(*missing);
        rows.push((
            DomainError::NotFound(*missing),
            StatusCode::NOT_FOUND,
            code,
            detail,
        ));
    }
    for clash in CLASHES {
        let (code, detail) = clash_row(*clash);
        rows.push((
            DomainError::Conflict(*clash),
            StatusCode::CONFLICT,
            code,
            detail,
        ));
    }
    for credential in CREDENTIALS {
        let (code, detail) = credential_row(*credential);
        let error = DomainError::Unauthenticated(*credential);
        rows.push((error, StatusCode::UNAUTHORIZED, code, detail));
    }
    for denial in DENIALS {
        let (code, detail) = denial_row(*denial);
        rows.push((
            DomainError::Forbidden(*denial),
            StatusCode::FORBIDDEN,
            code,
            detail,
        ));
    }
    for service in SERVICES {
        let (code, detail) = service_row(*service);
        let error = DomainError::Unavailable(*service);
        rows.push((error, StatusCode::SERVICE_UNAVAILABLE, code, detail));
    }
    rows
}

fn is_snake_case(word: &str) -> bool {
    !word.is_empty()
        && !word.starts_with('_')
        && !word.ends_with('_')
        && !word.contains("__")
        && word.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

#[actix_web::test]
async fn every_detail_answers_with_its_status_snake_case_code_and_sentence() {
    for (error, expected_status, expected_code, expected_detail) in every_detail() {
        assert!(is_snake_case(expected_code), "{expected_code}");
        let (status, _, body) = answer(error.clone()).await;
        assert_eq!(status, expected_status, "{error:?}");
        assert_eq!(
            body,
            json!({"code": expected_code, "detail": expected_detail}),
            "{error:?}"
        );
    }
}

const FIELDS: &[Field] = &[
    Field::Email,
    Field::Username,
    Field::RoomName,
    Field::Members,
    Field::MessageText,
    Field::ReplyTo,
    Field::Media,
    Field::MediaFormat,
    Field::MediaKey,
    Field::ClientId,
    Field::Cursor,
    Field::PageSize,
    Field::AuthorizationCode,
    Field::UserId,
    Field::RoomId,
    Field::MessageId,
    Field::TokenId,
    Field::TokenFamilyId,
];

/// A new field does not compile until it is named here (and listed in `FIELDS`).
fn field_row(field: Field) -> &'static str {
    match field {
        Field::Email => "email",
        Field::Username => "username",
        Field::RoomName => "room_name",
        Field::Members => "user_ids",
        Field::MessageText => "message",
        Field::ReplyTo => "previous_message_id",
        Field::Media => "media",
        Field::MediaFormat => "media_format",
        Field::MediaKey => "media_key",
        Field::ClientId => "client_id",
        Field::Cursor => "cursor",
        Field::PageSize => "page_size",
        Field::AuthorizationCode => "code",
        Field::UserId => "user_id",
        Field::RoomId => "room_id",
        Field::MessageId => "message_id",
        Field::TokenId => "jti",
        Field::TokenFamilyId => "family_id",
    }
}

#[actix_web::test]
async fn every_field_has_its_own_snake_case_name_in_the_body() {
    let mut seen = std::collections::BTreeSet::new();
    for field in FIELDS {
        let name = field_row(*field);
        assert!(is_snake_case(name), "{name}");
        assert!(seen.insert(name), "{name} is used twice");
        let (status, _, body) = answer(DomainError::invalid(*field, Flaw::MalformedId)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let flaw = "must be 21 characters of A-Z, a-z, 0-9, '_' or '-'";
        assert_eq!(
            body,
            json!({
                "code": "invalid_input",
                "detail": format!("Invalid {name}: {flaw}"),
                "fields": {name: [flaw]},
            })
        );
    }
}

fn flaws(id: &UserId) -> Vec<Flaw> {
    vec![
        Flaw::MalformedId,
        Flaw::EmailMissing,
        Flaw::EmailTooLong,
        Flaw::EmailMalformed,
        Flaw::UsernameLength,
        Flaw::UsernameCharacters,
        Flaw::RoomNameMissing,
        Flaw::RoomNameTooLong,
        Flaw::RoomNameControlCharacters,
        Flaw::MessageEmpty,
        Flaw::MessageTooLong,
        Flaw::ReplyOutsideRoom,
        Flaw::MediaKindUnknown,
        Flaw::MediaFormatUnsupported(MediaKind::Audio),
        Flaw::MediaKeyMalformed,
        Flaw::ClientIdLength,
        Flaw::ForeignCursor,
        Flaw::EmptyPage,
        Flaw::AuthorizationCodeMissing,
        Flaw::NotAUserId("x y".into()),
        Flaw::UnknownUserId(id.clone()),
        Flaw::UnknownUser,
    ]
}

/// A new flaw does not compile until it has its sentence here (and is listed in `flaws`).
fn flaw_row(flaw: &Flaw) -> String {
    match flaw {
        Flaw::MalformedId => "must be 21 characters of A-Z, a-z, 0-9, '_' or '-'".into(),
        Flaw::EmailMissing => "Enter an email address.".into(),
        Flaw::EmailTooLong => "An email address has at most 254 characters.".into(),
        Flaw::EmailMalformed => "Enter a valid email address.".into(),
        Flaw::UsernameLength => "A username has 3 to 30 characters.".into(),
        Flaw::UsernameCharacters => {
            "Use letters, digits, '.', '_' or '-', starting with a letter or digit.".into()
        }
        Flaw::RoomNameMissing => "Enter a room name.".into(),
        Flaw::RoomNameTooLong => "A room name has at most 64 characters.".into(),
        Flaw::RoomNameControlCharacters => "A room name cannot contain control characters.".into(),
        Flaw::MessageEmpty => "A message cannot be empty.".into(),
        Flaw::MessageTooLong => "A message has at most 4096 characters.".into(),
        Flaw::ReplyOutsideRoom => "The message replied to is not in this room.".into(),
        Flaw::MediaKindUnknown => "Use image, audio or video.".into(),
        Flaw::MediaFormatUnsupported(_) => "These bytes are not a supported audio format.".into(),
        Flaw::MediaKeyMalformed => "Not a media key.".into(),
        Flaw::ClientIdLength => "A client_id has 1 to 64 characters.".into(),
        Flaw::ForeignCursor => "This cursor is not one the server gave out.".into(),
        Flaw::EmptyPage => "Ask for at least one message.".into(),
        Flaw::AuthorizationCodeMissing => "The provider sent no code.".into(),
        Flaw::NotAUserId(_) => "Not a user id: x y".into(),
        Flaw::UnknownUserId(id) => format!("Unknown user: {id}"),
        Flaw::UnknownUser => "Unknown user.".into(),
    }
}

#[actix_web::test]
async fn every_flaw_is_one_sentence_under_its_field() {
    for flaw in flaws(&UserId::generate()) {
        let sentence = flaw_row(&flaw);
        let (_, _, body) = answer(DomainError::invalid(Field::Members, flaw)).await;
        assert_eq!(body["fields"], json!({"user_ids": [sentence]}));
        assert_eq!(body["detail"], format!("Invalid user_ids: {sentence}"));
    }
}

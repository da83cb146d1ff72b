//! The stable words API.md gives each business error: the `code` clients match on and the
//! name of each input field. Shared by the HTTP edge and the WebSocket codec, so a socket
//! and a request refuse the same thing with the same code.

use whisper_domain::{Clash, Credential, Denial, Field, Missing, Rejection};

/// The name of `field` in request bodies and in the `fields` of an error.
pub fn field_name(field: Field) -> &'static str {
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

/// The code of a refusal in the current state.
pub fn rejection_code(rejection: &Rejection) -> &'static str {
    match rejection {
        Rejection::ExpiredLink => "expired_token",
        Rejection::InvalidLink => "invalid_token",
        Rejection::AlreadyVerified => "already_verified",
        Rejection::WrongOneTimePassword => "invalid_otp",
        Rejection::MediaTooLarge { .. } => "media_too_large",
    }
}

/// The code of something that does not exist.
pub fn missing_code(missing: Missing) -> &'static str {
    match missing {
        Missing::AccountWithEmail | Missing::Message | Missing::MessageMedia => "not_found",
        Missing::User => "user_not_found",
        Missing::TotpDevice => "no_totp_device",
        Missing::UsedVerificationLink => "invalid_token",
        Missing::SocialProvider => "unknown_backend",
        Missing::Room => "room_not_found",
        Missing::RoomMember | Missing::MemberAccount | Missing::UnnamedMember => "not_a_member",
        Missing::MessageInRoom => "unknown_message",
    }
}

/// The code of a clash with existing state.
pub fn clash_code(clash: Clash) -> &'static str {
    match clash {
        Clash::EmailTaken => "email_taken",
        Clash::UsernameTaken => "username_taken",
        Clash::RoomNameTaken => "room_name_taken",
        Clash::TotpAlreadyConfirmed => "totp_already_confirmed",
        Clash::VerificationPending => "verification_pending",
    }
}

/// The code of a refused proof of identity.
pub fn credential_code(credential: Credential) -> &'static str {
    match credential {
        Credential::InvalidRefreshToken => "invalid_refresh",
        Credential::InvalidAccessToken => "invalid_token",
        Credential::SessionRequired => "session_required",
    }
}

/// The code of a refusal to a known caller.
pub fn denial_code(denial: Denial) -> &'static str {
    match denial {
        Denial::TotpSetupRequired => "totp_setup_required",
        Denial::EmailNotVerified | Denial::EmailNotVerifiedByProvider => "email_not_verified",
        Denial::NotCreatorToAdd | Denial::NotCreatorToRemove => "not_room_creator",
        Denial::NotMember => "not_a_member",
    }
}

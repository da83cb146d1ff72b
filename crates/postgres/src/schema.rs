//! The tables of `migrations/`, as diesel sees them. The `nanoid` domain is a varchar.

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        username -> Text,
        is_username_set -> Bool,
        is_email_verified -> Bool,
        is_online -> Bool,
        created -> Timestamptz,
    }
}

diesel::table! {
    email_verification_codes (user_id) {
        user_id -> Text,
        digest -> Bytea,
        created -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    totp_devices (user_id) {
        user_id -> Text,
        secret -> Bytea,
        confirmed -> Bool,
        last_accepted_step -> Nullable<Int8>,
        created -> Timestamptz,
    }
}

diesel::table! {
    totp_failures (user_id, failed_at) {
        user_id -> Text,
        failed_at -> Timestamptz,
    }
}

diesel::table! {
    refresh_token_families (id) {
        id -> Text,
        user_id -> Text,
        current_jti -> Text,
        created -> Timestamptz,
        expires_at -> Timestamptz,
        revoked -> Bool,
    }
}

diesel::table! {
    access_tokens (jti) {
        jti -> Text,
        user_id -> Text,
        family_id -> Nullable<Text>,
        issued_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked -> Bool,
    }
}

diesel::table! {
    rooms (id) {
        id -> Text,
        room_name -> Text,
        creator -> Text,
        created -> Timestamptz,
        last_seq -> Int8,
    }
}

diesel::table! {
    room_members (room_id, user_id) {
        room_id -> Text,
        user_id -> Text,
        joined -> Timestamptz,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        room_id -> Text,
        sender_id -> Text,
        message_format -> Text,
        text_content -> Nullable<Text>,
        media_key -> Nullable<Text>,
        media_content_type -> Nullable<Text>,
        media_size -> Nullable<Int8>,
        previous_message_id -> Nullable<Text>,
        is_reply -> Bool,
        created -> Timestamptz,
        client_id -> Nullable<Text>,
        seq -> Int8,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Int8,
        kind -> Text,
        recipient -> Text,
        payload -> Jsonb,
        queued_at -> Timestamptz,
        due_at -> Timestamptz,
        leased_until -> Nullable<Timestamptz>,
        failed_attempts -> Int4,
        last_error -> Nullable<Text>,
        abandoned_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    social_identities (backend, subject) {
        backend -> Text,
        subject -> Text,
        user_id -> Text,
        created -> Timestamptz,
    }
}

diesel::joinable!(email_verification_codes -> users (user_id));
diesel::joinable!(totp_devices -> users (user_id));
diesel::joinable!(room_members -> rooms (room_id));
diesel::joinable!(room_members -> users (user_id));
diesel::joinable!(messages -> users (sender_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    email_verification_codes,
    totp_devices,
    totp_failures,
    refresh_token_families,
    access_tokens,
    rooms,
    room_members,
    messages,
    mail_outbox,
    social_identities,
);

-- Accounts, email verification, TOTP devices and session tokens.
-- Ids are 21-character nanoids; timestamps are UTC with microseconds.

-- Byte order (COLLATE "C"), so id tie-breaks sort the same on every server.
CREATE DOMAIN nanoid AS varchar(21) COLLATE "C" CHECK (VALUE ~ '^[A-Za-z0-9_-]{21}$');

CREATE TABLE users (
    id                nanoid PRIMARY KEY,
    email             text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    username          text NOT NULL CHECK (length(username) BETWEEN 3 AND 30),
    is_username_set   boolean NOT NULL,
    is_email_verified boolean NOT NULL DEFAULT false,
    is_online         boolean NOT NULL DEFAULT false,
    created           timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);
-- Usernames are unique ignoring case; the same index serves prefix search.
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username) text_pattern_ops);

-- One live code per user: the user id is the key.
CREATE TABLE email_verification_codes (
    user_id    nanoid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    digest     bytea NOT NULL UNIQUE CHECK (length(digest) = 32),
    created    timestamptz NOT NULL,
    expires_at timestamptz NOT NULL CHECK (expires_at > created)
);

-- One authenticator per user; the secret is stored encrypted by the application.
CREATE TABLE totp_devices (
    user_id            nanoid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret             bytea NOT NULL,
    confirmed          boolean NOT NULL DEFAULT false,
    last_accepted_step bigint CHECK (last_accepted_step >= 0),
    created            timestamptz NOT NULL
);

CREATE TABLE refresh_token_families (
    id          nanoid PRIMARY KEY,
    user_id     nanoid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    current_jti nanoid NOT NULL,
    created     timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    revoked     boolean NOT NULL DEFAULT false
);
CREATE INDEX refresh_token_families_user_idx ON refresh_token_families (user_id);

CREATE TABLE access_tokens (
    jti        nanoid PRIMARY KEY,
    user_id    nanoid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Revoking (or deleting) a family takes its access tokens with it.
    family_id  nanoid REFERENCES refresh_token_families (id) ON DELETE CASCADE,
    issued_at  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked    boolean NOT NULL DEFAULT false
);
CREATE INDEX access_tokens_family_idx ON access_tokens (family_id) WHERE family_id IS NOT NULL;
CREATE INDEX access_tokens_user_idx ON access_tokens (user_id);

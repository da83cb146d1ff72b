-- Which identity-provider account (e.g. Google's `sub`) signs in as which user.
CREATE TABLE social_identities (
    backend text NOT NULL,
    subject text NOT NULL,
    user_id nanoid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (backend, subject)
);
CREATE INDEX social_identities_user_idx ON social_identities (user_id);

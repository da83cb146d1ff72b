-- The mail outbox (emails commit with the change that produces them) and failed TOTP
-- attempts (for locking out guessers).

CREATE TABLE mail_outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text NOT NULL,
    recipient       text NOT NULL,
    -- The email's fields, as the renderer needs them; it carries a one-time link.
    payload         jsonb NOT NULL,
    queued_at       timestamptz NOT NULL DEFAULT now(),
    -- When the next attempt may start.
    due_at          timestamptz NOT NULL DEFAULT now(),
    -- A deliverer holds the email until then; after a crash another one takes it over.
    leased_until    timestamptz,
    failed_attempts integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    last_error      text,
    -- Set when the mail server refused the email for good; kept for operators.
    abandoned_at    timestamptz
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (due_at, id) WHERE abandoned_at IS NULL;

CREATE TABLE totp_failures (
    user_id   nanoid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    failed_at timestamptz NOT NULL
);
CREATE INDEX totp_failures_user_idx ON totp_failures (user_id, failed_at);

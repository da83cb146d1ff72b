DROP TABLE access_tokens;
DROP TABLE refresh_token_families;
DROP TABLE totp_devices;
DROP TABLE email_verification_codes;
DROP TABLE users;
DROP DOMAIN nanoid;

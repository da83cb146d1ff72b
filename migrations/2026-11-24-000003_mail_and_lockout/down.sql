DROP TABLE totp_failures;
DROP TABLE mail_outbox;

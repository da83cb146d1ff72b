DROP TABLE social_identities;

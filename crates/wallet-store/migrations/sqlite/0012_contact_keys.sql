-- Wallet lookups by contact (`GET wallets?email=|phone=|email_hash=|phone_hash=`, `GET wallet?`):
-- the normal forms of a user's e-mail (ASCII lower case) and phone (its digits), and the SHA-1 of
-- each, kept beside the contact by the store when it writes one. SQL cannot compute SHA-1 on
-- both backends, so the store fills these columns for the users that exist when this migration
-- runs (`migrate.rs`), in the same transaction.
ALTER TABLE users ADD COLUMN email_key TEXT;
ALTER TABLE users ADD COLUMN email_sha1 TEXT;
ALTER TABLE users ADD COLUMN phone_key TEXT;
ALTER TABLE users ADD COLUMN phone_sha1 TEXT;
CREATE INDEX users_by_email_key ON users (email_key);
CREATE INDEX users_by_email_sha1 ON users (email_sha1);
CREATE INDEX users_by_phone_key ON users (phone_key) WHERE phone_key IS NOT NULL;
CREATE INDEX users_by_phone_sha1 ON users (phone_sha1) WHERE phone_sha1 IS NOT NULL;

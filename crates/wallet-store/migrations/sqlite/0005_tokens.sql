-- Step 4: OAuth MAC access tokens of wallet holders (so that `me` works in paths).

-- `access_token` is the MAC id of token-signed requests and `mac_key` its secret (HMAC needs it
-- in clear, like clients' MAC secrets). The refresh token is stored only as a SHA-256 hash.
CREATE TABLE access_tokens (
    access_token TEXT PRIMARY KEY,
    mac_key TEXT NOT NULL,
    client_id BIGINT NOT NULL REFERENCES clients(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    scope TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    refresh_hash TEXT UNIQUE,
    refresh_expires_at BIGINT,
    revoked BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX access_tokens_by_user ON access_tokens (user_id);

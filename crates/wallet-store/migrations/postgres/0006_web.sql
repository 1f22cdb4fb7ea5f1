-- Step 4: the holder's web pages (confirmation page and holder app).

-- A login session of a wallet holder. The cookie carries a random id; only its SHA-256 is kept.
-- `csrf` is the token every form of the session must echo back.
CREATE TABLE web_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_at);

-- Failed logins per key (`email:<address>` or `ip:<address>`) and window, to slow guessing.
CREATE TABLE login_failures (
    key TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    failures BIGINT NOT NULL,
    PRIMARY KEY (key, window_start)
);

-- Transactions accepted on the confirmation page without enough money wait here for funds.
CREATE INDEX transactions_waiting_funds ON transactions (created_at) WHERE status = 'waiting_funds';

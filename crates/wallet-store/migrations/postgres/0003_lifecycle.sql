-- Step 3: idempotency keys, frozen incoming money.

-- The first answer to a request with an Idempotency-Key, replayed to retries.
CREATE TABLE idempotency_keys (
    client_id BIGINT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, idempotency_key)
);
CREATE INDEX idempotency_keys_by_time ON idempotency_keys (created_at);

-- Money confirmed to this account but frozen: shown as reserved, not yet in the balance.
ALTER TABLE accounts ADD COLUMN incoming BIGINT NOT NULL DEFAULT 0;

CREATE INDEX payments_frozen ON payments (status, freeze_until);

-- Requests per API client per minute, for rate_limit_exceeded (shared by all instances).
CREATE TABLE rate_counters (
    client_id BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    requests BIGINT NOT NULL,
    PRIMARY KEY (client_id, window_start)
);

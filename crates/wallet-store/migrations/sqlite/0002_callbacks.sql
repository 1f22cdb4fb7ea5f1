-- Callbacks: the durable outbox (DESIGN.md "Callbacks"). A row is written in the same database
-- transaction as the change it reports, and delivered (at least once) by a worker that claims it
-- with a lease (`locked_until`), so that any number of walletd instances can share the table.
-- The signing key pair lives in `settings` (callback_signing_key_pkcs8_b64) unless a PEM file is
-- configured. Times are wall-clock UNIX seconds.
CREATE TABLE callbacks (
    id INTEGER PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    transaction_key TEXT,
    object TEXT NOT NULL CHECK (object IN ('transaction', 'payment', 'allowance')),
    event_type TEXT NOT NULL,
    uri TEXT NOT NULL,
    -- The exact JSON text that is signed and sent as the form field `event`.
    event TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    -- NULL once delivered, or once the worker gave up (`walletd admin callbacks redeliver` re-queues).
    next_attempt_at BIGINT,
    last_attempt_at BIGINT,
    last_status BIGINT,
    last_error TEXT,
    delivered_at BIGINT,
    locked_until BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX callbacks_due ON callbacks (next_attempt_at, id) WHERE delivered_at IS NULL;
CREATE INDEX callbacks_by_transaction ON callbacks (transaction_key, id);

-- Step 2: allowances, FLASH SMS, holder restrictions and limits, project limits.

-- An allowance: the holder lets one API client reserve up to max_price per transaction and
-- limits[].max_price per rolling window of limits[].time seconds, without asking each time.
CREATE TABLE allowances (
    id INTEGER PRIMARY KEY,
    transaction_key TEXT NOT NULL,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    client_id BIGINT NOT NULL REFERENCES clients(id),
    status TEXT NOT NULL CHECK (status IN ('new', 'active', 'inactive', 'deleted')),
    optional BIGINT NOT NULL DEFAULT 0,
    wallet_id BIGINT REFERENCES wallets(id),
    currency TEXT NOT NULL,
    max_price BIGINT CHECK (max_price > 0),
    limits_json TEXT NOT NULL,
    description TEXT,
    valid_for BIGINT,
    valid_until BIGINT,
    created_at BIGINT NOT NULL,
    confirmed_at BIGINT
);
-- At most one active allowance per client and wallet, whatever the code above the store does.
CREATE UNIQUE INDEX allowances_one_active ON allowances (client_id, wallet_id) WHERE status = 'active';
CREATE INDEX allowances_by_transaction ON allowances (transaction_key);

-- The allowance a payment was reserved under (reserve by allowance), for the rolling windows.
ALTER TABLE payments ADD COLUMN allowance_id BIGINT;
CREATE INDEX payments_by_allowance ON payments (allowance_id);
CREATE INDEX payments_by_payer ON payments (payer_wallet_id, currency);

-- FLASH SMS: the code shown to the holder with the transaction while it is waiting.
ALTER TABLE transactions ADD COLUMN correlation_key TEXT;
ALTER TABLE transactions ADD COLUMN restrictions_json TEXT;

-- Messages to wallet holders' phones; the default gateway leaves them here for operators.
CREATE TABLE sms_outbox (
    id INTEGER PRIMARY KEY,
    phone TEXT NOT NULL,
    body TEXT NOT NULL,
    transaction_key TEXT,
    created_at BIGINT NOT NULL
);

-- What the operator knows of a holder: identity verified, restricted, natural or legal person.
ALTER TABLE users ADD COLUMN identity_verified BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN restricted BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN person_type TEXT NOT NULL DEFAULT 'natural';
-- A wallet whose holder may see but not spend (no_rights).
ALTER TABLE wallets ADD COLUMN can_pay BIGINT NOT NULL DEFAULT 1;

-- Spending limits of a wallet per rolling window: the holder's own (limits_exceeded) or a
-- temporary one set by the operator (restriction_limits_exceeded).
CREATE TABLE wallet_limits (
    wallet_id BIGINT NOT NULL REFERENCES wallets(id),
    currency TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('holder', 'restriction')),
    max_price BIGINT NOT NULL CHECK (max_price >= 0),
    period BIGINT NOT NULL CHECK (period > 0),
    PRIMARY KEY (wallet_id, currency, kind)
);

-- Most one transaction of a project may total, per currency (limit_violation on create).
CREATE TABLE project_limits (
    project_id BIGINT NOT NULL REFERENCES projects(id),
    currency TEXT NOT NULL,
    max_price BIGINT NOT NULL CHECK (max_price > 0),
    PRIMARY KEY (project_id, currency)
);

-- Invalid requests per API client per minute (rate_limit_exceeded counts them apart).
ALTER TABLE rate_counters ADD COLUMN invalid BIGINT NOT NULL DEFAULT 0;

-- walletd schema, SQLite dialect. Times are UNIX seconds; money is integer minor units.
CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    phone TEXT,
    phone_confirmed BIGINT NOT NULL DEFAULT 0,
    pin_hash TEXT,
    pin_failures BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE wallets (
    id INTEGER PRIMARY KEY,
    owner_user_id BIGINT NOT NULL REFERENCES users(id),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    created_at BIGINT NOT NULL
);

CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    wallet_id BIGINT NOT NULL REFERENCES wallets(id),
    callback_uri TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE clients (
    id INTEGER PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    mac_id TEXT NOT NULL UNIQUE,
    mac_secret TEXT NOT NULL,
    grants TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    wallet_id BIGINT REFERENCES wallets(id),
    system_name TEXT,
    currency TEXT NOT NULL,
    balance BIGINT NOT NULL DEFAULT 0,
    reserved BIGINT NOT NULL DEFAULT 0,
    CHECK (reserved >= 0),
    CHECK (wallet_id IS NULL OR balance - reserved >= 0),
    CHECK ((wallet_id IS NULL) <> (system_name IS NULL)),
    UNIQUE (wallet_id, currency),
    UNIQUE (system_name, currency)
);

CREATE TABLE movements (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    transaction_key TEXT,
    payment_id BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE entries (
    id INTEGER PRIMARY KEY,
    movement_id BIGINT NOT NULL REFERENCES movements(id),
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    amount BIGINT NOT NULL
);
CREATE INDEX entries_by_account ON entries (account_id);

CREATE TABLE transactions (
    transaction_key TEXT PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    client_id BIGINT NOT NULL REFERENCES clients(id),
    status TEXT NOT NULL,
    kind TEXT,
    wallet_id BIGINT,
    created_at BIGINT NOT NULL,
    confirmed_at BIGINT,
    reserve_for BIGINT,
    reserve_until BIGINT,
    reserve_flat BIGINT NOT NULL DEFAULT 0,
    reserved_until BIGINT,
    use_allowance BIGINT NOT NULL,
    suggest_allowance BIGINT NOT NULL,
    auto_confirm BIGINT NOT NULL,
    redirect_uri TEXT,
    callback_uri TEXT,
    callbacks_disabled BIGINT NOT NULL DEFAULT 0,
    user_json TEXT,
    inquiries_json TEXT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX transactions_due ON transactions (status, reserved_until);
CREATE INDEX transactions_by_project ON transactions (project_id, created_at);

CREATE TABLE payments (
    id INTEGER PRIMARY KEY,
    transaction_key TEXT NOT NULL REFERENCES transactions(transaction_key),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    status TEXT NOT NULL,
    price BIGINT NOT NULL CHECK (price >= 0),
    currency TEXT NOT NULL,
    description TEXT,
    parameters TEXT,
    price_rules TEXT,
    purpose TEXT,
    beneficiary_wallet_id BIGINT NOT NULL REFERENCES wallets(id),
    beneficiary_json TEXT,
    payer_wallet_id BIGINT,
    freeze_for BIGINT,
    freeze_until BIGINT,
    hold_id BIGINT,
    created_at BIGINT NOT NULL,
    confirmed_at BIGINT
);
CREATE INDEX payments_by_transaction ON payments (transaction_key);

CREATE TABLE holds (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    payment_id BIGINT NOT NULL REFERENCES payments(id),
    amount BIGINT NOT NULL CHECK (amount >= 0),
    status TEXT NOT NULL CHECK (status IN ('active', 'settled', 'released')),
    created_at BIGINT NOT NULL,
    resolved_at BIGINT
);
CREATE INDEX holds_by_account ON holds (account_id, status);

CREATE TABLE reservation_codes (
    id INTEGER PRIMARY KEY,
    code_hash TEXT NOT NULL UNIQUE,
    wallet_id BIGINT NOT NULL REFERENCES wallets(id),
    max_amount BIGINT,
    currency TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    transaction_key TEXT
);

CREATE TABLE transaction_events (
    id INTEGER PRIMARY KEY,
    transaction_key TEXT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    event TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX transaction_events_by_key ON transaction_events (transaction_key, id);

CREATE TABLE mac_nonces (
    mac_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (mac_id, nonce)
);
CREATE INDEX mac_nonces_by_time ON mac_nonces (seen_at);

-- The cash-out flow as a naive implementation would run it on PostgreSQL: each API call is its own
-- durable commit (three per flow), touching the same rows walletd reads, locks and writes, on
-- walletd's own schema — and nothing more: no MAC nonce, no idempotency record, no event log, no
-- outbox, no JSON.
--
-- One pgbench "transaction" is one API call, so pgbench's per-transaction log gives per-request
-- latencies: :phase cycles 0 (create) → 1 (reserve) → 2 (confirm) for each client, and the
-- variables set by \gset (the transaction key, ids) live on between pgbench transactions.
-- Run by `walletd-limit postgres` (bench/limit/src/postgres.rs), which seeds the database and passes:
--   -D phase=0 -D n=0                  the flow state of each client
--   -D project_id=… -D api_client=…    the cash-out point and its API client
--   -D hot_wallet=… -D hot_account=…   its beneficiary wallet and that wallet's EUR account
--   -D amount=100 -D now=…             minor units per flow; the business time
-- Client c's n-th flow uses the code whose hash is sha256('c-<c>-<n>'), seeded bound to a payer
-- wallet chosen at random (payers spread over the wallets, or all on one wallet).
-- Transaction keys start with the time they were made (milliseconds, hex) as walletd's do, so the
-- indexes on the key grow at one end here too.

\if :phase = 0
-- POST transaction: the transaction and its payment.
BEGIN;
INSERT INTO transactions (transaction_key, project_id, client_id, status, created_at, use_allowance, suggest_allowance, auto_confirm, updated_at)
    VALUES (lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0') || substr(md5(random()::text), 1, 8), :project_id, :api_client, 'new', :now, 1, 0, 0, :now)
    RETURNING transaction_key AS key \gset
INSERT INTO payments (transaction_key, project_id, status, price, currency, description, beneficiary_wallet_id, created_at)
    VALUES (:key, :project_id, 'new', :amount, 'EUR', 'limit: cash-out', :hot_wallet, :now)
    RETURNING id AS payment_id \gset
COMMIT;
\set phase 1

\elif :phase = 1
-- PUT transaction/{key}/reserve with a code: lock the transaction, read its payments, read and lock
-- the code, hold the money on the payer's account (guarded), mark the code used, record the state.
BEGIN;
SELECT status FROM transactions WHERE transaction_key = :key FOR UPDATE;
SELECT id, price, currency FROM payments WHERE transaction_key = :key;
SELECT id AS code_id, wallet_id AS payer_wallet, expires_at, coalesce(used_at, 0) AS used_at
    FROM reservation_codes
    WHERE code_hash = encode(sha256(convert_to('c-' || :client_id || '-' || :n, 'UTF8')), 'hex')
    FOR UPDATE \gset
UPDATE accounts SET reserved = reserved + :amount
    WHERE wallet_id = :payer_wallet AND currency = 'EUR' AND balance - reserved >= :amount
    RETURNING id AS payer_account \gset
INSERT INTO holds (account_id, payment_id, amount, status, created_at)
    VALUES (:payer_account, :payment_id, :amount, 'active', :now)
    RETURNING id AS hold_id \gset
UPDATE payments SET status = 'reserved', payer_wallet_id = :payer_wallet, hold_id = :hold_id WHERE id = :payment_id;
UPDATE reservation_codes SET used_at = :now, transaction_key = :key WHERE id = :code_id AND used_at IS NULL;
UPDATE transactions SET status = 'reserved', kind = 'reservation_code', wallet_id = :payer_wallet,
    reserved_until = CAST(:now AS BIGINT) + 86400, updated_at = :now
    WHERE transaction_key = :key;
COMMIT;
\set phase 2

\else
-- PUT transaction/{key}/confirm: lock the transaction, read its payments, settle the hold (once),
-- debit the payer, credit the cash-out point's (hot) account, one movement with two entries.
BEGIN;
SELECT status FROM transactions WHERE transaction_key = :key FOR UPDATE;
SELECT id, hold_id, price, beneficiary_wallet_id FROM payments WHERE transaction_key = :key;
UPDATE holds SET status = 'settled', resolved_at = :now WHERE id = :hold_id AND status = 'active'
    RETURNING account_id AS held_account, amount AS held \gset
UPDATE accounts SET balance = balance - :held, reserved = reserved - :held WHERE id = :held_account;
UPDATE accounts SET balance = balance + :held WHERE id = :hot_account;
INSERT INTO movements (kind, transaction_key, payment_id, created_at)
    VALUES ('payment', :key, :payment_id, :now)
    RETURNING id AS movement_id \gset
INSERT INTO entries (movement_id, account_id, amount)
    VALUES (:movement_id, :held_account, -CAST(:held AS BIGINT)), (:movement_id, :hot_account, :held);
UPDATE payments SET status = 'done', confirmed_at = :now WHERE id = :payment_id;
UPDATE transactions SET status = 'confirmed', confirmed_at = :now, updated_at = :now WHERE transaction_key = :key;
COMMIT;
\set n :n + 1
\set phase 0
\endif

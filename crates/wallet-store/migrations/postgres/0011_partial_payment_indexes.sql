-- Payments are looked up by allowance and by payer only for a given allowance or payer
-- (`allowance_spends`, `wallet_spends`), never for NULL: index only the payments that have one.
-- A new payment has neither, and most never get an allowance; a cash-out flow then writes no entry
-- of either index when the payment is created, and none of `payments_by_allowance` later
-- (bench/README.md, "Partial payment indexes").
DROP INDEX payments_by_allowance;
CREATE INDEX payments_by_allowance ON payments (allowance_id) WHERE allowance_id IS NOT NULL;
DROP INDEX payments_by_payer;
CREATE INDEX payments_by_payer ON payments (payer_wallet_id, currency) WHERE payer_wallet_id IS NOT NULL;

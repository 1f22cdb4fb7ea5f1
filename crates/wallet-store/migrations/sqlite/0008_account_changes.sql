-- Changes to an account's money that need no guard (credits, settled debits, releases, top-ups),
-- appended instead of rewriting the account's row: none of them lowers the money available, so
-- the row stays a safe lower bound for the guard of a hold, and a busy account (a cash-out
-- point's, credited by every confirm; a payer paying at many tills) is not one row every
-- transaction queues for. An account's money is its row plus its changes; the sweeper folds the
-- changes into the row (see accounts.rs).
CREATE TABLE account_changes (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    balance BIGINT NOT NULL,
    reserved BIGINT NOT NULL,
    CHECK (reserved <= 0)
);
CREATE INDEX account_changes_by_account ON account_changes (account_id);

-- Every account with its changes added: what its money is.
CREATE VIEW account_totals AS
SELECT a.id, a.wallet_id, a.system_name, a.currency, a.incoming,
    a.balance + (SELECT CAST(COALESCE(SUM(c.balance), 0) AS BIGINT) FROM account_changes c WHERE c.account_id = a.id) AS balance,
    a.reserved + (SELECT CAST(COALESCE(SUM(c.reserved), 0) AS BIGINT) FROM account_changes c WHERE c.account_id = a.id) AS reserved
FROM accounts a;

-- Only active holds are ever looked up by account (what an account has reserved, in the ledger
-- check); a settled or released hold is found by its id. Indexing every hold by its payer's account
-- put each reserve and each confirm on a random page of an index that grows for ever (1.5 of the
-- 25 pages a cash-out flow wrote to SQLite's WAL, bench/README.md); the active ones are few, and
-- their pages are shared by every transaction of a group commit.
DROP INDEX holds_by_account;
CREATE INDEX holds_active_by_account ON holds (account_id) WHERE status = 'active';

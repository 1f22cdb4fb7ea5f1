-- Nothing on SQLite: its writes at commit are statements of their own, in the writer's
-- transaction (batch.rs); PostgreSQL's migration 10 adds walletd_refuse.
SELECT 1;

-- walletd_refuse(reason) fails the statement that calls it, with SQLSTATE WD001 and the reason as
-- its message. The writes a transaction makes at commit run as one statement (batch.rs); a write
-- among them that must change a row and does not (a nonce or an idempotency key already taken)
-- calls it, so that the statement fails whole: none of its parts is written, even when the
-- statement runs alone, outside a transaction (db.rs, LazyTx). VOLATILE: never evaluated ahead.
CREATE FUNCTION walletd_refuse(reason TEXT) RETURNS BIGINT
    LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'WD001', MESSAGE = reason;
END
$$;

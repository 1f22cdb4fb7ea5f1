-- A client's per-minute request count spread over rows (`shard`), so that concurrent requests on
-- PostgreSQL do not queue for one row lock; the count of a window is the sum of its rows. Counts
-- live one minute: the old table is replaced, not migrated.
DROP TABLE rate_counters;

CREATE TABLE rate_counters (
    client_id BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    shard BIGINT NOT NULL,
    requests BIGINT NOT NULL,
    invalid BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (client_id, window_start, shard)
);

-- Where a transaction was created from: the holder whose access token signed `POST transaction`
-- (its manager, `manager_id`) and the location the client named in the MAC `ext`
-- (`location_id`). Both are shown only when known.
ALTER TABLE transactions ADD COLUMN manager_id BIGINT;
ALTER TABLE transactions ADD COLUMN location_id BIGINT;

-- Payment passwords: a payment created with `password{type,value,optional,cancelable}` pays its
-- beneficiary only once the password is given (by the client, or by the beneficiary on walletd's
-- pages); its reserved transaction waits in `waiting_password` meanwhile.
--
-- `payments.password_json` is the password's public part as shown,
-- `{"type","status","optional","cancelable"}` (status `disabled`, `pending` or `unlocked`);
-- NULL for a payment without a password. The value itself is kept only as a salted Argon2id
-- hash in `payment_passwords`, with the wrong attempts counted (limited as PINs are).
ALTER TABLE payments ADD COLUMN password_json TEXT;

CREATE TABLE payment_passwords (
    payment_id BIGINT PRIMARY KEY REFERENCES payments(id),
    password_hash TEXT NOT NULL,
    failures BIGINT NOT NULL DEFAULT 0 CHECK (failures >= 0)
);

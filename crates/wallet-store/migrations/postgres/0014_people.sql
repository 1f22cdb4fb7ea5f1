-- Payments to people who may not have a wallet yet.
--
-- A payment whose beneficiary was given as an email or phone that belongs to nobody yet has a
-- row here until a user with that confirmed contact exists; its transaction, once reserved, waits
-- in `waiting_registration`. Meanwhile the payment's `beneficiary_wallet_id` is its project's
-- wallet, a placeholder never paid: a transaction with such a row never reaches `reserved`.
-- Emails are stored lowercased, phones as `+` and digits.
CREATE TABLE payment_contacts (
    payment_id BIGINT PRIMARY KEY REFERENCES payments(id),
    email TEXT,
    phone TEXT,
    created_at BIGINT NOT NULL,
    CHECK ((email IS NULL) <> (phone IS NULL))
);
CREATE INDEX payment_contacts_by_email ON payment_contacts (email) WHERE email IS NOT NULL;
CREATE INDEX payment_contacts_by_phone ON payment_contacts (phone) WHERE phone IS NOT NULL;


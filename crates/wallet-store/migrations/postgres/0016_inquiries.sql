-- The holder's answers to a transaction's inquiries, given on the confirmation page.
--
-- One row per answered transaction: `answers_json` holds each inquiry's decision (accepted or
-- declined) and the items given (`GET transaction/{key}/inquired-information`).
CREATE TABLE inquiry_answers (
    transaction_key TEXT PRIMARY KEY REFERENCES transactions(transaction_key),
    answers_json TEXT NOT NULL,
    answered_at BIGINT NOT NULL
);

-- Active allowances by the end of their validity, for the sweep that makes them `inactive`
-- (with their `allowance.inactive` callback).
CREATE INDEX allowances_expiring ON allowances (valid_until)
    WHERE status = 'active' AND valid_until IS NOT NULL;

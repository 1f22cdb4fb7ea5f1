-- Callbacks: the durable outbox and the signing key pair (owned by the callbacks work).
SELECT 1;

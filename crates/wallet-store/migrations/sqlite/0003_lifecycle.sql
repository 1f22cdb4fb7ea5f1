-- Step 3: sandbox clock, idempotency keys, freezes.
SELECT 1;

-- A rotation publishes the next signing key ahead of its first signature (the lead,
-- GENQUEUE_WEBHOOK_KEY_LEAD): receivers that cache the JWKS fetch it before it signs. signs_from
-- is when a key starts signing; retired_at, when it stops, may now be ahead too (the next key's
-- signs_from). Keys made before this were signing from their creation.
ALTER TABLE webhook_signing_keys ADD COLUMN signs_from BIGINT;
UPDATE webhook_signing_keys SET signs_from = created_at;
ALTER TABLE webhook_signing_keys ALTER COLUMN signs_from SET NOT NULL;

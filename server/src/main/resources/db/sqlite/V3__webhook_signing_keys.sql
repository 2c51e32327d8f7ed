-- The Ed25519 keys webhook deliveries are signed with (io.genqueue.webhook). One is active
-- (retired_at NULL): the one that signs. A rotation retires it and makes the next in one
-- transaction; a retired key stays in /.well-known/jwks.json until published_until (the
-- rotation's grace period, GENQUEUE_WEBHOOK_KEY_GRACE by default).
-- The private key has to be usable, so unlike an API key it is stored as it is: whoever can read
-- this database can sign webhooks.
CREATE TABLE webhook_signing_keys (
    kid             TEXT    PRIMARY KEY,           -- RFC 7638 thumbprint of the public key
    private_key     BLOB    NOT NULL,              -- PKCS#8
    public_key      BLOB    NOT NULL,              -- the 32 bytes of RFC 8032 (the JWK's x)
    created_at      INTEGER NOT NULL,
    retired_at      INTEGER,
    published_until INTEGER,                       -- retired keys: the end of their grace period
    CHECK ((retired_at IS NULL) = (published_until IS NULL))
) STRICT, WITHOUT ROWID;

-- At most one active key, whatever the writers do.
CREATE UNIQUE INDEX webhook_signing_keys_one_active ON webhook_signing_keys ((retired_at IS NULL)) WHERE retired_at IS NULL;

-- Step 7: the OAuth authorization code grant, as the PHP client drives it.

-- The redirect URIs a client registered (`walletd admin client set-redirect-uris`): the only
-- places the authorization page sends a browser back to, compared as exact strings.
CREATE TABLE client_redirect_uris (
    client_id BIGINT NOT NULL REFERENCES clients(id),
    uri TEXT NOT NULL,
    PRIMARY KEY (client_id, uri)
);

-- Authorization codes, known only by their SHA-256: single use (`used_at`), short-lived, bound to
-- the client, the holder who approved, the scope and the redirect URI (`redirect_given`: whether
-- the authorization request named it, so the token request must repeat it).
CREATE TABLE oauth_codes (
    code_hash TEXT PRIMARY KEY,
    client_id BIGINT NOT NULL REFERENCES clients(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    scope TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    redirect_given BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX oauth_codes_by_expiry ON oauth_codes (expires_at);

-- `POST /oauth/v1/session`: an authorization request prepared by the client, with the e-mail
-- address it confirmed; the holder opens it at `/frontend/oauth/{key}` (the key stored hashed).
CREATE TABLE oauth_sessions (
    key_hash TEXT PRIMARY KEY,
    client_id BIGINT NOT NULL REFERENCES clients(id),
    scope TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    redirect_given BIGINT NOT NULL,
    state TEXT,
    email TEXT,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX oauth_sessions_by_expiry ON oauth_sessions (expires_at);

-- The code a token was issued from (directly or by refreshing): a code used twice revokes them.
ALTER TABLE access_tokens ADD COLUMN grant_code TEXT;
CREATE INDEX access_tokens_by_grant_code ON access_tokens (grant_code);

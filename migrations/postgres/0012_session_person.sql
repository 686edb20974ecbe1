-- Who signed in through GitHub, GitLab or OIDC (JSON of access::Person: name, forge login,
-- OIDC groups), so that each request can ask what they may read now. NULL for a session
-- made from an API token. Keep it in step with ../sqlite/0012_session_person.sql.
ALTER TABLE sessions ADD COLUMN person TEXT;

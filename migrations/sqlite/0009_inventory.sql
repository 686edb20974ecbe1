-- The inventory: the components each project's default branch declares and what its
-- deployments run, and the HTTP API endpoints its OpenAPI documents declare. Keep it in
-- step with ../postgres/0009_inventory.sql.

-- One row per component (package URL and the manifest that lists it) of a project's
-- default branch (`default_branch`) or of a deployment (`production`, `staging`); a
-- newer scan of the same target replaces the target's rows.
CREATE TABLE components (
    project_id        BIGINT NOT NULL REFERENCES projects (id),
    target            TEXT NOT NULL CHECK (target IN ('default_branch', 'production', 'staging')),
    purl              TEXT NOT NULL,
    -- The package URL without version, qualifiers and subpath: the package across versions.
    package_purl      TEXT NOT NULL,
    manifest          TEXT NOT NULL,
    ecosystem         TEXT NOT NULL,
    name              TEXT NOT NULL,
    version           TEXT,
    scope             TEXT NOT NULL CHECK (scope IN ('runtime', 'dev', 'test')),
    direct            BOOLEAN,
    line              BIGINT,
    license_declared  TEXT,
    license_concluded TEXT,
    -- JSON array of text: from a direct dependency down to this one.
    chain             TEXT NOT NULL,
    -- The scan that first showed this version here, and the latest that did.
    first_seen_commit TEXT NOT NULL,
    first_seen_at     TEXT NOT NULL,
    commit_sha        TEXT NOT NULL,
    observed_at       TEXT NOT NULL,
    PRIMARY KEY (project_id, target, purl, manifest)
);
CREATE INDEX components_by_package ON components (package_purl, project_id);

-- One row per operation of a project's default branch's OpenAPI documents.
CREATE TABLE api_endpoints (
    project_id  BIGINT NOT NULL REFERENCES projects (id),
    file        TEXT NOT NULL,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,
    line        BIGINT NOT NULL,
    operation   TEXT,
    -- required | none | disabled, and the schemes a required one names (JSON array).
    security    TEXT NOT NULL CHECK (security IN ('required', 'none', 'disabled')),
    schemes     TEXT NOT NULL,
    -- JSON arrays: the document's servers ({url, public}) and sensitive response fields.
    servers     TEXT NOT NULL,
    public      BOOLEAN,
    sensitive   TEXT NOT NULL,
    commit_sha  TEXT NOT NULL,
    observed_at TEXT NOT NULL,
    PRIMARY KEY (project_id, file, method, path)
);

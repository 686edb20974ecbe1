-- Exploitation intelligence, cached from the published feeds: CISA's Known Exploited
-- Vulnerabilities catalog and FIRST's EPSS scores, one row per CVE, each feed replaced
-- whole on every load. Keep it in step with ../postgres/0002_intel.sql. Dates are
-- ISO 8601 text (YYYY-MM-DD); timestamps RFC 3339 text in UTC, as in 0001.

CREATE TABLE intel_kev (
    cve_id             TEXT PRIMARY KEY,
    vendor_project     TEXT NOT NULL,
    product            TEXT NOT NULL,
    vulnerability_name TEXT NOT NULL,
    date_added         TEXT NOT NULL,
    due_date           TEXT,
    known_ransomware   BOOLEAN NOT NULL,
    required_action    TEXT NOT NULL
);

CREATE TABLE intel_epss (
    cve_id      TEXT PRIMARY KEY,
    probability DOUBLE PRECISION NOT NULL CHECK (probability >= 0 AND probability <= 1),
    percentile  DOUBLE PRECISION NOT NULL CHECK (percentile >= 0 AND percentile <= 1)
);

-- When each feed was last loaded, from where, and what it said about itself.
CREATE TABLE intel_feeds (
    feed       TEXT PRIMARY KEY CHECK (feed IN ('kev', 'epss')),
    source     TEXT NOT NULL,
    version    TEXT,
    published  TEXT,
    records    BIGINT NOT NULL,
    loaded_at  TEXT NOT NULL
);

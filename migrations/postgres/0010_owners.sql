-- The owner each default-branch finding is counted for: the first team (`@org/team`),
-- else the first person (`@user` or an email), that the CODEOWNERS file at the
-- finding's introducing commit (at the scanned commit when blame named none) gives its
-- path. NULL when the file names nobody for it, and for reports uploaded without their
-- repository (POST /api/v1/scans), where there is no CODEOWNERS to read. Keep it in step
-- with ../sqlite/0010_owners.sql.
ALTER TABLE branch_findings ADD COLUMN owner TEXT;

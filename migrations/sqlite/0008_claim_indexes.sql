-- A claim checks that no other job of the same change is running: one lookup per candidate
-- in these partial indexes of running jobs (by pull request, and by coalescing key for jobs
-- about no pull request), instead of a scan of every running row.
CREATE INDEX jobs_running_pull_request ON jobs (forge, repository, pull_request)
    WHERE status = 'running';
CREATE INDEX jobs_running_coalesce ON jobs (coalesce_key) WHERE status = 'running';

-- A claimed job with a newer job of its change, whatever that one's status, is out of date
-- (on PostgreSQL two accepts for one change may not see each other: see store/queue.rs).
CREATE INDEX jobs_change_order ON jobs (coalesce_key, id);

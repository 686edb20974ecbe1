-- Budgets of requests to a forge shared by every replica (GitHub's 80 content-creating
-- requests a minute hold per installation, not per process). Each taker bumps `version`
-- first, which locks the row: takers of one budget queue instead of racing.
CREATE TABLE send_budgets (
    budget  TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);

-- The sends within the latest window of each budget, in microseconds since the epoch.
CREATE TABLE budget_sends (
    budget  TEXT NOT NULL,
    sent_at BIGINT NOT NULL
);
CREATE INDEX budget_sends_by_budget ON budget_sends (budget, sent_at);

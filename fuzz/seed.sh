#!/usr/bin/env bash
# Seeds the fuzz corpora (fuzz/corpus/<target>/, generated, git-ignored) from the project's
# fixtures: scanner reports, webhook payloads, the YAML examples of the README (.posture.yml
# and the settings file), the env-file examples of deploy/, and diffs made with git from
# fixture pairs. Safe to re-run: it only adds files (named by content hash).
#
#   fuzz/seed.sh
set -euo pipefail

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$fuzz_dir")"
fixtures="$root/fixtures"
corpus="$fuzz_dir/corpus"
# Larger seeds slow every execution down (libFuzzer sizes inputs from the corpus).
max_seed_bytes=$((128 * 1024))

targets=(report posture_yml settings diff webhook)
for t in "${targets[@]}"; do mkdir -p "$corpus/$t"; done

# add TARGET PREFIX FILE: stores PREFIX (printf escapes for selector bytes, may be empty)
# followed by FILE's content, named by content hash.
add() {
    local target="$1" prefix="$2" file="$3" tmp name
    [ -s "$file" ] || return 0
    [ "$(stat -c %s "$file")" -le "$max_seed_bytes" ] || return 0
    tmp="$(mktemp)"
    printf "$prefix" >"$tmp"
    cat "$file" >>"$tmp"
    name="seed-$(sha1sum "$tmp" | cut -c1-16)"
    mv "$tmp" "$corpus/$target/$name"
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# ---- report: every scanner report fixture, plus JSON that is not a report.
while IFS= read -r -d '' f; do
    add report "" "$f"
done < <(find "$fixtures/sarif" "$fixtures/sca" "$fixtures/demo/reports" "$fixtures/risk/reports" \
    "$fixtures/intel" -type f \( -name '*.sarif' -o -name '*.json' \) -print0)

# ---- README YAML blocks: .posture.yml and settings-file examples.
awk -v out="$work/readme-yaml-" '
    /^```yaml/ { n++; inside = 1; next }
    /^```/ && inside { inside = 0; next }
    inside { print > (out n ".yml") }
' "$root/README.md"

cat >"$work/posture-min.yml" <<'EOF'
version: 1
fail_on: high
EOF
cat >"$work/posture-ignore.yml" <<'EOF'
fail_on: medium
max_inline_comments: 10
reports: ["reports/**/*.sarif", "**/osv-scanner.json"]
ignore:
  - path: "tests/**"
    reason: "fixtures"
  - rule: CVE-2019-10906
    path: "services/legacy/**"
    reason: "not internet-facing"
    until: 2026-12-31
context: {internet_facing: true, data_classification: pii, environment: production, tier: 1}
components:
  - {name: web, paths: ["services/web/**"], internet_facing: true, tier: 1}
risk: {weights: {kev: {listed: 30}, dependency: {dev: -30}}}
gate: {on_missing_report: pass}
triage: {allow: [maintainers], require_approval: [accept, wont_fix], max_accept_days: 30, vex: [.posture/vex.json]}
EOF
cat >"$work/settings-min.yml" <<'EOF'
sla: {critical: 7, high: 30, medium: 90, low: 180, kev_days: 14}
orgs:
  Acme:
    sla: {critical: 5}
    digest: {day: monday, hour: 8}
EOF
for f in "$work"/readme-yaml-*.yml "$work"/posture-*.yml; do add posture_yml "" "$f"; done
for f in "$work"/readme-yaml-*.yml "$work"/settings-*.yml; do add settings '\x00' "$f"; done

# ---- env files (settings target, selector byte 1).
cat >"$work/posture.env" <<'EOF'
# comment
POSTURE_DATABASE_URL=postgres://posture@db/posture
export POSTURE_GITHUB_WEBHOOK_SECRET="a,b"
POSTURE_GITLAB_WEBHOOK_TOKEN='token'

EOF
add settings '\x01' "$work/posture.env"
while IFS= read -r -d '' f; do
    add settings '\x01' "$f"
done < <(find "$root/deploy" -type f -name '*.env.example' -print0)

# ---- diffs (selector byte 2: a modified file): forge-style patches and git's own diffs.
printf '@@ -1,6 +1,7 @@\n a\n-b\n+B\n+B2\n c\n d\n e\n+f\n@@ -20,2 +21,1 @@ fn x\n x\n-y\n' >"$work/patch-1.diff"
printf '@@ -0,0 +1,2 @@\n+a\n+b\n' >"$work/patch-added.diff"
printf '@@ -1,2 +0,0 @@\n-a\n-b\n' >"$work/patch-deleted.diff"
printf '@@ -3 +3 @@\n-x\n\\ No newline at end of file\n+y\n\\ No newline at end of file\n' >"$work/patch-eof.diff"
pairs=(
    "demo/reports/base/semgrep.sarif demo/reports/head/semgrep.sarif"
    "demo/reports/base/osv-scanner.json demo/reports/head/osv-scanner.json"
    "demo/reports/base/gitleaks.sarif demo/reports/head/gitleaks.sarif"
    "github/pull_request_opened.json github/pull_request_synchronize.json"
    "github/push.json github/push_with-new-branch.json"
    "gitlab/push.json gitlab/tag_push.json"
    "sca/trivy/npm.json sca/trivy/pip.json"
)
n=0
for pair in "${pairs[@]}"; do
    read -r a b <<<"$pair"
    for context in 0 3; do
        n=$((n + 1))
        git diff --no-index --no-color -U"$context" -- "$fixtures/$a" "$fixtures/$b" \
            >"$work/git-$n.diff" || true
    done
done
for f in "$work"/patch-*.diff "$work"/git-*.diff; do add diff '\x02' "$f"; done

# ---- webhook: byte 0 picks the event (see fuzz_targets/webhook.rs EVENTS), byte 1 the flags.
gh() { add webhook "$1\\x00" "$fixtures/github/$2"; }
gl() { add webhook "$1\\x00" "$fixtures/gitlab/$2"; }
gh '\x00' pull_request_opened.json
gh '\x00' pull_request_synchronize.json
gh '\x01' check_suite_completed.json
gh '\x02' workflow_run_completed.with-pull-requests.json
gh '\x03' issue_comment_created.json
gh '\x03' issue_comment_edited.json
gh '\x04' push.json
gh '\x04' push_with-new-branch.json
gh '\x05' pull_request_review_comment_created.json
gh '\x06' installation_created.json
gh '\x08' ping_with-app_id.json
gh '\x09' check_run_completed.json
gl '\x0a' merge_request.json
gl '\x0b' pipeline.json
gl '\x0c' note_merge_request.json
gl '\x0d' push.json
gl '\x0d' tag_push.json
gl '\x0e' pipeline.json

for t in "${targets[@]}"; do
    printf '%-12s %4d seeds\n' "$t" "$(find "$corpus/$t" -type f | wc -l)"
done

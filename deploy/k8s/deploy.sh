#!/usr/bin/env bash
# Deploy or update TeamMoa on Kubernetes, in the order that keeps it serving:
#   1. the namespace, the ConfigMap and the MySQL/Redis names (label teammoa/stage=prepare);
#   2. check that the Secret teammoa-secrets exists (created by hand: secret.example.yaml);
#   3. this release's migrations: the previous Job deleted, the new one applied alone, waited for;
#      a failed migration stops here, with nothing rolled out;
#   4. everything else: each Deployment replaces its pods one at a time (maxUnavailable 0);
#   5. wait until every rollout finished.
#
#   deploy/k8s/deploy.sh [OVERLAY]        (default: deploy/k8s/overlays/production)
#
# Environment: KUBECTL (kubectl), TEAMMOA_NAMESPACE (teammoa: the overlay's namespace),
# TEAMMOA_MIGRATE_TIMEOUT_S (900), TEAMMOA_ROLLOUT_TIMEOUT (10m), TEAMMOA_SKIP_MIGRATIONS (false;
# true when rolling back to a release older than the schema: its migrations would refuse the newer head).
set -euo pipefail

overlay=${1:-$(dirname "$0")/overlays/production}
kubectl=${KUBECTL:-kubectl}
ns=${TEAMMOA_NAMESPACE:-teammoa}
migrate_timeout_s=${TEAMMOA_MIGRATE_TIMEOUT_S:-900}
rollout_timeout=${TEAMMOA_ROLLOUT_TIMEOUT:-10m}
deployments=(auth teams schedule realtime gateway)

say() { echo "deploy.sh: $*" >&2; }

say "1/5 namespace, configuration, external services"
$kubectl apply -k "$overlay" -l teammoa/stage=prepare

say "2/5 secret"
if ! $kubectl -n "$ns" get secret teammoa-secrets >/dev/null; then
  say "the Secret teammoa-secrets is missing in namespace $ns: create it (deploy/k8s/secret.example.yaml)"
  exit 1
fi

migrate() {
  $kubectl -n "$ns" delete job teammoa-migrate --ignore-not-found --wait=true
  $kubectl apply -k "$overlay" -l teammoa/stage=migrate
  local deadline=$((SECONDS + migrate_timeout_s)) states
  while :; do
    # The types of the Job's conditions that hold: ... Complete once it succeeded, ... Failed once it gave up.
    states=" $($kubectl -n "$ns" get job teammoa-migrate -o 'jsonpath={.status.conditions[?(@.status=="True")].type}') "
    if [[ $states == *" Complete "* ]]; then
      return 0
    fi
    if [[ $states == *" Failed "* ]] || ((SECONDS >= deadline)); then
      $kubectl -n "$ns" logs job/teammoa-migrate --all-containers --prefix --tail=40 >&2 || true
      say "the migrations did not complete; nothing was rolled out"
      exit 1
    fi
    sleep 5
  done
}

if [[ ${TEAMMOA_SKIP_MIGRATIONS:-false} == true ]]; then
  say "3/5 migrations skipped (TEAMMOA_SKIP_MIGRATIONS=true)"
else
  say "3/5 migrations"
  migrate
fi

say "4/5 rollout"
$kubectl apply -k "$overlay" -l 'teammoa/stage!=migrate'

say "5/5 waiting for the rollouts"
for deployment in "${deployments[@]}"; do
  $kubectl -n "$ns" rollout status "deployment/$deployment" --timeout="$rollout_timeout"
done
say "done"

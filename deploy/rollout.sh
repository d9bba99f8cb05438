#!/usr/bin/env bash
# Run on a TeamMoa host by .github/workflows/deploy.yml (over ssh), from /srv/teammoa.
#
#   rollout.sh migrate TAG IMAGE...   apply the migrations of the new images, once per deploy
#   rollout.sh update  TAG IMAGE...   switch IMAGE... to TAG on this host, restart them, wait for
#                                     /health/ to answer 200; put the previous tags back otherwise
#
# IMAGE is auth, teams, schedule, realtime or gateway (gateway covers the health aggregator too).
# Image tags are kept in tags.env (TEAMMOA_<IMAGE>_TAG=...), which compose reads for interpolation;
# the services' own configuration is the env file named by TEAMMOA_ENV_FILE.
set -euo pipefail

HEALTH_URL=${TEAMMOA_HEALTH_URL:-http://127.0.0.1/health/}
HEALTH_WAIT_S=${TEAMMOA_HEALTH_WAIT_S:-120}
TAGS=tags.env

compose() {
    docker compose -f deploy/compose.prod.yml --env-file "$TAGS" "$@"
}

services_of() {  # the compose services an image runs as
    case "$1" in
        gateway) echo "health gateway" ;;
        auth|teams|schedule|realtime) echo "$1" ;;
        *) echo "unknown image: $1" >&2; exit 2 ;;
    esac
}

set_tag() {  # set_tag IMAGE TAG: rewrite one line of tags.env
    local name
    name="TEAMMOA_$(echo "$1" | tr '[:lower:]' '[:upper:]')_TAG"
    { grep -v "^${name}=" "$TAGS" || true; echo "${name}=$2"; } > "$TAGS.new"
    mv "$TAGS.new" "$TAGS"
}

reload_gateway() {  # nginx resolves upstream names at (re)load: recreated containers have new addresses
    if [[ " $* " != *" gateway "* ]]; then
        compose kill -s HUP gateway
    fi
}

healthy() {  # wait until this host's /health/ answers 200
    local deadline=$((SECONDS + HEALTH_WAIT_S))
    while ((SECONDS < deadline)); do
        if curl -fsS --max-time 5 -o /dev/null "$HEALTH_URL"; then
            return 0
        fi
        sleep 2
    done
    curl -sS --max-time 5 "$HEALTH_URL" || true
    return 1
}

migrate() {  # migrate TAG IMAGE...: only the images that own a database
    local tag=$1; shift
    for image in "$@"; do
        case "$image" in
            auth|teams|schedule)
                echo "migrating $image with $tag"
                env "TEAMMOA_$(echo "$image" | tr '[:lower:]' '[:upper:]')_TAG=$tag" \
                    docker compose -f deploy/compose.prod.yml --env-file "$TAGS" --profile migrate \
                    run --rm "migrate-$image"
                ;;
        esac
    done
}

update() {  # update TAG IMAGE...
    local tag=$1; shift
    local services=()
    touch "$TAGS"
    cp "$TAGS" "$TAGS.previous"
    for image in "$@"; do
        set_tag "$image" "$tag"
        read -r -a more <<< "$(services_of "$image")"
        services+=("${more[@]}")
    done
    compose pull "${services[@]}"
    compose up -d --no-deps "${services[@]}"
    reload_gateway "${services[@]}"
    if healthy; then
        echo "$(hostname): ${services[*]} now at $tag, healthy"
        return 0
    fi
    echo "$(hostname): not healthy after ${HEALTH_WAIT_S}s; putting the previous version back" >&2
    cp "$TAGS.previous" "$TAGS"
    compose up -d --no-deps "${services[@]}"
    reload_gateway "${services[@]}"
    return 1
}

cd "$(dirname "$0")/.."
command=${1:-}
if [[ $# -lt 3 || ( "$command" != migrate && "$command" != update ) ]]; then
    sed -n '2,12p' "$0"
    exit 2
fi
shift
"$command" "$@"

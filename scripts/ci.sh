#!/usr/bin/env bash
# The one copy of "install, test, plan every stack", shared by .ci/run and the PR workflow
# (.github/workflows/preview.yml). Runs in the current directory (a clone of this repository).
#
#   bash scripts/ci.sh install      # Debian packages the tests need (when missing), then npm ci --ignore-scripts
#                                   # (no dependency's install script is needed, CONTRIBUTING.md
#                                   # "Dependencies and install scripts"; npm 10 would run them, npm 11 reads allowScripts)
#   bash scripts/ci.sh test         # the README's test command
#   bash scripts/ci.sh plan-all [--out DIR] [--against-dir DIR] [--summary FILE] [--tolerant]
#                                   # the offline plan of every Pulumi.<stack>.yaml; with --against-dir,
#                                   # each against DIR/<stack>/plan.json where it exists (exit 2 = changed, fine)
#   bash scripts/ci.sh render-all   # render every stack's releases with real Helm (charts: npm run charts:pull)
#   bash scripts/ci.sh all          # install, test, plan-all, then npm run e2e (what .ci/run does)
set -euo pipefail

apt_install() {
  # Only what is missing, so a developer machine with the packages skips apt entirely.
  local missing=()
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)         # certificate chains in the tests
  command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-liberation) # the picture test (meshSvg.test.ts)
  command -v go >/dev/null 2>&1 || missing+=(golang-go)            # Go's crypto/x509 verdicts (goAgreement.test.ts)
  if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

plan_all() {
  local out="" against="" summary="" tolerant=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --out) out=$2; shift 2 ;;
      --against-dir) against=$2; shift 2 ;;
      --summary) summary=$2; shift 2 ;;
      --tolerant) tolerant=1; shift ;;
      *) echo "plan-all: unknown option $1" >&2; return 64 ;;
    esac
  done
  local status=0 f stack rc args
  for f in Pulumi.*.yaml; do
    stack=${f#Pulumi.}; stack=${stack%.yaml}
    args=(run --silent plan -- --stack "$stack")
    [ -n "$out" ] && args+=(--out "$out")
    if [ -n "$against" ]; then
      if [ -f "$against/$stack/plan.json" ]; then
        args+=(--against "$against/$stack/plan.json")
      else
        echo "::notice::no base plan for stack $stack (new stack, or the base branch predates plan.json)"
      fi
    fi
    set +e
    npm "${args[@]}"
    rc=$?
    set -e
    # 0: planned, no change; 2: planned and something changes (mesh diff or change plan: see the summary); anything else is an error.
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then
      if [ "$tolerant" -eq 1 ]; then echo "::notice::stack $stack does not plan here (exit $rc)"; else status=$rc; fi
    fi
    # A failed plan keeps the previous out/<stack>/ (offline/outDir.ts): only this run's summary is published.
    if [ -n "$summary" ] && { [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ]; } && [ -f "${out:-out}/$stack/summary.md" ]; then
      cat "${out:-out}/$stack/summary.md" >> "$summary"
    fi
  done
  return "$status"
}

charts_at_hand() {
  # The render tests of the shipped stacks need Istio's charts (test/render.test.ts skips each stack in
  # one line without them). The project's cache holds the charts the e2e suite uses (e2e/charts.ts,
  # <cache>/charts/istio-<version>); when it is there and ISTIO_CHARTS_DIR is not set, the tests use it.
  local dir="${MCM_CACHE:-$HOME/.cache/multicluster-mesh}/charts"
  if [ -z "${ISTIO_CHARTS_DIR:-}" ] && [ -d "$dir" ]; then
    export ISTIO_CHARTS_DIR="$dir"
    echo "charts: ISTIO_CHARTS_DIR=$dir ($(ls "$dir" | tr '\n' ' '))"
  fi
}

cmd=${1:-all}
[ $# -gt 0 ] && shift
case "$cmd" in
  install) apt_install; npm ci --ignore-scripts --no-audit --no-fund ;;
  test) charts_at_hand; npm test ;;
  plan-all) plan_all "$@" ;;
  render-all)
    status=0
    for f in Pulumi.*.yaml; do
      stack=${f#Pulumi.}; stack=${stack%.yaml}
      npm run --silent render -- --stack "$stack" --reuse-plan || status=$?
    done
    exit "$status"
    ;;
  all)
    apt_install
    npm ci --ignore-scripts --no-audit --no-fund
    # In a subshell: the e2e suite below finds its charts by itself (e2e/charts.ts).
    ( charts_at_hand; npm test )
    plan_all > /dev/null
    for f in Pulumi.*.yaml; do
      stack=${f#Pulumi.}; stack=${stack%.yaml}
      test -s "out/$stack/plan.json" && test -s "out/$stack/mesh.svg"
    done
    echo "offline plan OK on every shipped stack"
    # The real engine on real API servers (docs/real-engine.md): runs when the tools are cached
    # (npm run e2e:tools) and the charts are at hand; otherwise one line says what it skipped and why.
    npm run --silent e2e
    ;;
  *) echo "usage: scripts/ci.sh install|test|plan-all|all" >&2; exit 64 ;;
esac

#!/usr/bin/env bash
# Runs promtool on the Prometheus rule files in deploy/prometheus/ or on their unit tests.
#
# usage: promtool_rules_test.sh check FILE...   (promtool check rules)
#        promtool_rules_test.sh test FILE...    (promtool test rules)
# Exits 77 (skipped) where promtool is not installed; PROMTOOL names another binary.
set -euo pipefail

MODE=${1:?usage: promtool_rules_test.sh check|test FILE...}
shift
[ $# -gt 0 ] || { echo "usage: promtool_rules_test.sh check|test FILE..." >&2; exit 2; }

PROMTOOL=${PROMTOOL:-$(command -v promtool || true)}
[ -n "$PROMTOOL" ] && [ -x "$PROMTOOL" ] || { echo "SKIP: promtool is not installed"; exit 77; }

case "$MODE" in
  check | test) exec "$PROMTOOL" "$MODE" rules "$@" ;;
  *) echo "unknown mode $MODE (check or test)" >&2; exit 2 ;;
esac

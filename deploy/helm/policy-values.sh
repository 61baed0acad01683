#!/bin/sh
# policy-values.sh POLICY_DIR > policy-values.yaml
#
# Prints a Helm values file for the custos chart that ships the policy set in
# POLICY_DIR (the files Custos serves: .manifest, *.rego except *_test.rego,
# data.json/data.yaml) in the policies ConfigMap, byte for byte:
#
#   deploy/helm/policy-values.sh policies > policy-values.yaml
#   helm upgrade custos deploy/helm/custos -f values.yaml -f policy-values.yaml
#
# Custos watches the mounted directory and reloads the set without a restart.
set -eu

dir=${1:?usage: policy-values.sh POLICY_DIR > policy-values.yaml}
cd "$dir"
cr=$(printf '\r')

printf 'policies:\n  files:\n'
find . -type f \( -name .manifest -o -name '*.rego' -o -name data.json -o -name data.yaml -o -name data.yml \) \
  ! -name '*_test.rego' ! -path '*/.*/*' | sed 's|^\./||' | LC_ALL=C sort |
while IFS= read -r f; do
  case $f in
  *[!-._a-zA-Z0-9/]*)
    echo "policy-values.sh: $f: only letters, digits, '-', '_', '.' and '/' are supported in paths" >&2
    exit 1 ;;
  esac
  if grep -q "$cr" "$f"; then
    echo "policy-values.sh: $f: carriage returns are not supported (YAML would turn CRLF into LF)" >&2
    exit 1
  fi
  # Keep every trailing newline (|+), or none when the file has none (|-).
  if [ -s "$f" ] && [ -z "$(tail -c 1 "$f" | tr -d '\n')" ]; then chomp='+'; else chomp='-'; fi
  printf '    "%s": |2%s\n' "$f" "$chomp"
  sed 's/^/      /' "$f"
  if [ "$chomp" = '-' ]; then printf '\n'; fi
done

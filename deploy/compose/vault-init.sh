#!/bin/sh
# Prepares the Vault dev server of the compose example (example only).
set -eu

i=0
until vault status >/dev/null 2>&1; do
  i=$((i + 1))
  if [ "$i" -gt 60 ]; then echo "vault-init: Vault did not start" >&2; exit 1; fi
  sleep 1
done

# Checkpoints are signed by a Transit ed25519 key that never leaves Vault.
vault secrets list -format=json | grep -q '"transit/"' || vault secrets enable transit
vault read transit/keys/custos-audit >/dev/null 2>&1 || vault write transit/keys/custos-audit type=ed25519
# The provider key the replicas forward with, and the ledger password.
vault kv put secret/custos/provider-sim api_key="$PROVIDER_SIM_KEY"
vault kv put secret/custos/postgres password="$POSTGRES_PASSWORD"
echo "vault-init: transit key custos-audit, secret/custos/provider-sim and secret/custos/postgres are ready"

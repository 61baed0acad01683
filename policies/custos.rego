# METADATA
# title: Custos request decision
# description: |
#   The one document Custos reads for every request: data.custos.decision.
#   The input carries facts only (tenant, app, purpose, model, candidate
#   endpoints, data classes found and their counts), never request text.
package custos

# The decision is always defined: every field has a default, so a tenant or
# data file that is missing yields a deny, never an undefined document.
decision := {
	"allow": allow,
	"deny": sort_reasons(deny),
	"dry_run": dry_run,
	"allowed_jurisdictions": sort(permitted_jurisdictions),
	"allowed_regions": sort(allowed_regions),
	"allowed_providers": sort(allowed_providers),
	"allowed_endpoints": sort(allowed_endpoints),
	"allowed_models": sort(allowed_models),
	"actions": actions,
	"restore_pseudonyms": restore_pseudonyms,
	"max_estimated_tokens": max_estimated_tokens,
	"max_request_cost_micros": max_request_cost_micros,
	"min_available_micros": min_available_micros,
	"provider_storage": provider_storage,
	"date_scope": date_scope,
}

# Allow only when no deny rule fired. A deny rule never depends on anything
# that could make its reason undefined (see reason below).
default allow := false

allow if count(deny) == 0

tenant := data.tenants[input.tenant]

# A tenant in dry-run has its decisions recorded but not enforced.
default dry_run := false

dry_run if tenant.enforce == false

# The per-request token budget; Custos refuses a request estimated above it
# (code token_budget_exceeded). null sets no limit.
default max_estimated_tokens := null

max_estimated_tokens := tenant.max_estimated_tokens

# Spend limits on a metered request, enforced by Custos against the
# request's maximum cost and the account's available credit (input.cost),
# so that decisions stay memoized: a cap on one request's maximum cost (code
# request_cost_over_cap), and the prepaid balance a request for a model the
# price table labels premium needs left (code balance_below_floor), so that
# cheaper models keep serving while credit runs low. null sets none.
default max_request_cost_micros := null

max_request_cost_micros := tenant.max_request_cost_micros

default min_available_micros := null

min_available_micros := tenant.premium_balance_floor_micros if {
	data.pricing.models[input.model].labels.tier == "premium"
}

default restore_pseudonyms := false

restore_pseudonyms if tenant.restore_pseudonyms == true

# Whether providers may keep conversation state for the tenant (the
# Responses API's store, previous_response_id, conversation). Off unless
# the tenant's data says so: state kept by a provider is data kept there.
default provider_storage := false

provider_storage if tenant.provider_storage == true

# Which dates are redacted: "any" date (HIPAA Safe Harbor: every element
# of a date related to an individual, except the year), or only "person":
# dates tied to an individual by context.
default date_scope := "any"

date_scope := tenant.date_scope if tenant.date_scope in {"any", "person"}

default allowed_models := set()

allowed_models := {m | some m in tenant.models}

# reason builds a deny reason from the rule's METADATA. Every field has a
# fallback, so a rule whose METADATA an officer left out still denies (with
# code policy_rule_without_code) instead of silently disappearing.
reason(meta, message) := {
	"code": object.get(meta, ["custom", "code"], "policy_rule_without_code"),
	"control": object.get(meta, ["custom", "control"], "unspecified"),
	"rule": object.get(meta, "title", "untitled rule"),
	"message": message,
}

sort_reasons(reasons) := [r |
	some code in sort({r.code | some r in reasons})
	some r in reasons
	r.code == code
]

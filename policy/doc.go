// Package policy embeds OPA and decides every request before anything leaves
// Custos. It owns loading a policy set (the shipped, embedded policies/ or a
// directory), compiling it strictly as Rego v1, evaluating the decision
// query, hot reload by atomic swap, and the officer tooling (test, check,
// eval).
//
// # The decision document
//
// The gateway evaluates data.custos.decision with an Input that carries facts,
// never text:
//
//	{
//	  "request_id": "req_…", "tenant": "st-marys", "app": "clinical-assistant",
//	  "purpose": "treatment", "user": "u-123", "route": "chat.completions",
//	  "model": "gpt-4o", "stream": true, "estimated_tokens": 812,
//	  "candidates": [{"endpoint": "azure-openai-eu", "provider": "azure",
//	                  "region": "eu-west", "jurisdiction": "eu", "attributes": {"baa": true}}],
//	  "findings": {"PERSON": 2, "MEDICAL_RECORD_NUMBER": 1},
//	  "uninspectable": 0
//	}
//
// The policy answers a document whose every field is always present:
//
//	{
//	  "allow": false,
//	  "deny": [{"code": "model_not_allowed", "control": "HIPAA 45 CFR 164.308(a)(4) …",
//	            "rule": "Model allowlist", "message": "…"}],
//	  "dry_run": false,
//	  "allowed_jurisdictions": ["eu"], "allowed_regions": ["eu-west"],
//	  "allowed_providers": ["azure"], "allowed_endpoints": ["azure-openai-eu"],
//	  "allowed_models": ["gpt-4o"],
//	  "actions": {"PERSON": "pseudonymize", "MEDICAL_RECORD_NUMBER": "pseudonymize"},
//	  "restore_pseudonyms": true,
//	  "max_estimated_tokens": 64000
//	}
//
// max_estimated_tokens is a limit the policy sets (null: none) and Decide
// enforces per request with the deny code token_budget_exceeded, so that a
// memoized decision never hides a budget overrun.
//
// Every Decision carries the Revision of the policy set that made it: the
// bundle .manifest revision and a SHA-256 over the served files.
//
// # Prices
//
// A set's pricing/data.json is its price table (package pricing), also
// visible to Rego as data.pricing. It is validated with the set, hashed
// into the same Revision, and swapped in with it: a set whose Rego or whose
// price table is broken is refused whole, and Engine.Prices returns the
// table with the revision it belongs to.
//
// # Failing closed
//
// Decide never allows by default. No policy loaded, an undefined result, an
// evaluation error, a timeout, more than one result, a document of the wrong
// shape, an allow that carries deny reasons, a deny without one, or an action
// Custos does not know: each is an error wrapping one of this package's
// sentinels, with a stable Code. A deny from the rules is a *DeniedError.
//
// # Memoized decisions
//
// For a set that calls no nondeterministic builtin and reads the input only
// through fixed field names, decisions are memoized per revision, keyed by
// exactly the input fields the set references (see memo.go).
//
// The package must never see or log request text, and never speaks HTTP.
package policy

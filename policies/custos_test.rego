package custos_test

import data.custos

eu_azure := {"endpoint": "azure-openai-eu", "provider": "azure", "region": "eu-west", "jurisdiction": "eu", "attributes": {}}

uk_azure := {"endpoint": "azure-openai-uk", "provider": "azure", "region": "uk-south", "jurisdiction": "uk", "attributes": {}}

us_openai := {"endpoint": "openai-us", "provider": "openai", "region": "us-east", "jurisdiction": "us", "attributes": {}}

eu_anthropic := {"endpoint": "anthropic-eu", "provider": "anthropic", "region": "eu-central", "jurisdiction": "eu", "attributes": {}}

eu_mistral := {"endpoint": "mistral-eu", "provider": "mistral", "region": "eu-west", "jurisdiction": "eu", "attributes": {}}

hospital := {
	"request_id": "req_t", "tenant": "st-marys", "app": "clinical-assistant", "purpose": "treatment",
	"route": "chat.completions", "model": "gpt-4o", "stream": false, "estimated_tokens": 500,
	"candidates": [eu_azure, uk_azure, us_openai], "findings": {}, "uninspectable": 0,
}

codes(d) := {r.code | some r in d.deny}

test_hospital_plain_request_allowed if {
	d := custos.decision with input as hospital
	d.allow
	d.deny == []
	d.allowed_endpoints == ["azure-openai-eu", "azure-openai-uk"]
	d.allowed_jurisdictions == ["eu", "uk"]
	not d.dry_run
}

test_unknown_tenant_denied if {
	d := custos.decision with input as object.union(hospital, {"tenant": "nobody"})
	not d.allow
	codes(d) == {"tenant_unknown"}
	d.allowed_endpoints == []
}

test_purpose_limitation if {
	d := custos.decision with input as object.union(hospital, {"purpose": "marketing"})
	codes(d) == {"purpose_not_permitted"}
}

test_model_allowlist if {
	d := custos.decision with input as object.union(hospital, {"model": "gpt-3.5-turbo"})
	codes(d) == {"model_not_allowed"}
}

test_token_budget_is_a_limit_custos_enforces if {
	d := custos.decision with input as hospital
	d.max_estimated_tokens == 64000
	d2 := custos.decision with input as object.union(hospital, {"tenant": "nobody"})
	d2.max_estimated_tokens == null
}

test_health_data_stays_in_eu_with_baa if {
	d := custos.decision with input as object.union(hospital, {"findings": {"MEDICAL_RECORD_NUMBER": 1, "PERSON": 2}})
	d.allow
	d.allowed_jurisdictions == ["eu"]
	d.allowed_endpoints == ["azure-openai-eu"]
	d.actions == {"MEDICAL_RECORD_NUMBER": "pseudonymize", "PERSON": "pseudonymize"}
}

test_health_data_without_baa_endpoint_refused if {
	d := custos.decision with input as object.union(hospital, {
		"candidates": [eu_anthropic, us_openai],
		"findings": {"UK_NHS": 1},
	})
	codes(d) == {"no_compliant_endpoint"}
}

test_zero_counts_are_not_findings if {
	d := custos.decision with input as object.union(hospital, {"findings": {"MEDICAL_RECORD_NUMBER": 0}})
	d.allowed_jurisdictions == ["eu", "uk"]
	d.actions == {}
}

test_card_numbers_blocked if {
	d := custos.decision with input as object.union(hospital, {"findings": {"CREDIT_CARD": 1}})
	"pii_blocked" in codes(d)
	d.actions.CREDIT_CARD == "block"
}

test_emails_masked if {
	d := custos.decision with input as object.union(hospital, {"findings": {"EMAIL": 3}})
	d.allow
	d.actions == {"EMAIL": "mask"}
}

test_unlisted_class_gets_default_action if {
	d := custos.decision with input as object.union(hospital, {"findings": {"SOMETHING_NEW": 1}})
	d.allow
	d.actions == {"SOMETHING_NEW": "pseudonymize"}
}

test_tenant_override_of_class_action if {
	bank := object.union(hospital, {
		"tenant": "northbank", "purpose": "customer-support", "model": "gpt-4o-mini",
		"candidates": [eu_azure, eu_mistral], "findings": {"IBAN": 1},
	})
	d := custos.decision with input as bank
	d.allow
	d.actions == {"IBAN": "mask"}
	d.allowed_endpoints == ["azure-openai-eu", "mistral-eu"]
}

test_bank_provider_allowlist if {
	bank := object.union(hospital, {
		"tenant": "northbank", "purpose": "customer-support", "model": "gpt-4o-mini",
		"candidates": [eu_anthropic],
	})
	d := custos.decision with input as bank
	codes(d) == {"no_compliant_endpoint"}
}

test_financial_data_needs_zero_retention if {
	bank := object.union(hospital, {
		"tenant": "northbank", "purpose": "fraud-review", "model": "gpt-4o-mini",
		"candidates": [eu_azure, uk_azure], "findings": {"BANK_ACCOUNT": 1},
	})
	d := custos.decision with input as bank
	d.allowed_endpoints == ["azure-openai-eu"]
	d.allowed_jurisdictions == ["ch", "eu"]
}

test_secrets_blocked if {
	d := custos.decision with input as object.union(hospital, {"findings": {"SECRET": 1}})
	codes(d) == {"pii_blocked"}
}

test_uninspectable_content_refused if {
	d := custos.decision with input as object.union(hospital, {"uninspectable": 2})
	codes(d) == {"uninspectable_content"}
}

test_unknown_action_fails_closed if {
	d := custos.decision with input as object.union(hospital, {"findings": {"EMAIL": 1}})
		with data.pii.classes.EMAIL.action as "shred"
	codes(d) == {"pii_action_unknown"}
}

test_dry_run_tenant if {
	pilot := object.union(hospital, {"tenant": "pilot-clinic", "model": "gpt-4o"})
	d := custos.decision with input as pilot
	d.dry_run
	codes(d) == {"model_not_allowed"}
}

test_dev_tenant_echo if {
	dev := object.union(hospital, {
		"tenant": "dev", "app": "dev", "purpose": "development", "model": "echo",
		"candidates": [{"endpoint": "echo", "provider": "custos-echo", "region": "local", "jurisdiction": "local", "attributes": {}}],
		"findings": {"PERSON": 1, "EMAIL": 1, "MEDICAL_RECORD_NUMBER": 1},
	})
	d := custos.decision with input as dev
	d.allow
	d.allowed_endpoints == ["echo"]
	d.actions == {"PERSON": "pseudonymize", "EMAIL": "pseudonymize", "MEDICAL_RECORD_NUMBER": "pseudonymize"}
}

test_reasons_carry_code_control_and_message if {
	d := custos.decision with input as object.union(hospital, {"model": "gpt-3.5-turbo", "purpose": "marketing"})
	count(d.deny) == 2
	every r in d.deny {
		r.code != ""
		r.control != ""
		r.message != ""
		r.rule != ""
	}
	[r.code | some r in d.deny] == ["model_not_allowed", "purpose_not_permitted"]
}

# A reason built from a rule without METADATA still denies, with a fallback code.
test_reason_survives_missing_metadata if {
	r := custos.reason({}, "x")
	r.code == "policy_rule_without_code"
	r.control == "unspecified"
}

test_messages_do_not_name_the_model if {
	d := custos.decision with input as object.union(hospital, {"model": "secret-model-name"})
	every r in d.deny {
		not contains(r.message, "secret-model-name")
	}
}

test_provider_storage_is_off_unless_the_tenant_allows_it if {
	not custos.decision.provider_storage with input as hospital
	custos.decision.provider_storage with input as hospital with data.tenants["st-marys"].provider_storage as true
}

test_date_scope_is_any_unless_the_tenant_narrows_it if {
	custos.decision.date_scope == "any" with input as hospital
	custos.decision.date_scope == "person" with input as hospital with data.tenants["st-marys"].date_scope as "person"
	custos.decision.date_scope == "any" with input as hospital with data.tenants["st-marys"].date_scope as "sometimes"
}

test_spend_limits_for_premium_models if {
	premium := custos.decision with input as object.union(hospital, {"model": "o3"})
	premium.min_available_micros == 50000000
	premium.max_request_cost_micros == 5000000
	standard := custos.decision with input as hospital
	standard.min_available_micros == null
	other := custos.decision with input as object.union(hospital, {"tenant": "northbank"})
	other.max_request_cost_micros == null
}

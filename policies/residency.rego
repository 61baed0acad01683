package custos

# Data categories present in the request, from the data classes found.
present_categories := {cat |
	some class, n in input.findings
	n > 0
	cat := data.pii.classes[class].category
}

# Jurisdictions the data may be processed in: the tenant's list, narrowed by
# every stricter list that applies to a data category present.
default permitted_jurisdictions := set()

permitted_jurisdictions := {j |
	some j in tenant.jurisdictions
	not narrowed_out(j)
}

narrowed_out(j) if {
	some cat in present_categories
	not jurisdiction_ok(j, cat)
}

jurisdiction_ok(_, cat) if not tenant.category_jurisdictions[cat]

jurisdiction_ok(j, cat) if j in tenant.category_jurisdictions[cat]

# Attestations an endpoint needs for the categories present (e.g. a signed
# BAA for health data). Attestations are recorded by compliance in
# data.endpoints, not taken from the gateway's own configuration.
required_attestations := {a |
	some cat in present_categories
	some a in data.pii.categories[cat].endpoint_requires
}

provider_ok(_) if not tenant.providers

provider_ok(p) if p in tenant.providers

attested(endpoint, a) if data.endpoints[endpoint][a] == true

# The candidate endpoints the request may be sent to, evaluated once.
allowed_candidates := [c |
	some c in input.candidates
	c.jurisdiction in permitted_jurisdictions
	provider_ok(c.provider)
	not lacks_attestation(c.endpoint)
]

lacks_attestation(endpoint) if {
	some a in required_attestations
	not attested(endpoint, a)
}

allowed_endpoints := {c.endpoint | some c in allowed_candidates}

allowed_regions := {c.region | some c in allowed_candidates}

allowed_providers := {c.provider | some c in allowed_candidates}

# METADATA
# title: Data residency
# description: |
#   Refuse, rather than send data to an endpoint outside the permitted
#   jurisdictions or without the attestations its data categories require.
# custom:
#   code: no_compliant_endpoint
#   control: "GDPR Art. 44 transfers; HIPAA 45 CFR 164.502(e) business associate contracts"
deny contains r if {
	tenant
	input.model in tenant.models
	count(input.candidates) > 0
	count(allowed_endpoints) == 0
	r := reason(rego.metadata.rule(), sprintf(
		"No endpoint serving the model satisfies the constraints: jurisdictions %v, attestations %v.",
		[sort(permitted_jurisdictions), sort(required_attestations)],
	))
}

package custos

# Data categories present in the request, from the data classes found.
present_categories contains cat if {
	some cat, spec in data.pii.categories
	some class in spec.classes
	input.findings[class] > 0
}

# Jurisdictions the data may be processed in: the tenant's list, narrowed by
# every stricter list that applies to a data category present.
permitted_jurisdictions contains j if {
	some j in tenant.jurisdictions
	every cat in present_categories {
		jurisdiction_ok(j, cat)
	}
}

jurisdiction_ok(_, cat) if not tenant.category_jurisdictions[cat]

jurisdiction_ok(j, cat) if j in tenant.category_jurisdictions[cat]

# Attestations an endpoint needs for the categories present (e.g. a signed
# BAA for health data). Attestations are recorded by compliance in
# data.endpoints, not taken from the gateway's own configuration.
required_attestations contains a if {
	some cat in present_categories
	some a in data.pii.categories[cat].endpoint_requires
}

provider_ok(_) if not tenant.providers

provider_ok(p) if p in tenant.providers

attested(endpoint, a) if data.endpoints[endpoint][a] == true

allowed_endpoints contains c.endpoint if {
	some c in input.candidates
	c.jurisdiction in permitted_jurisdictions
	provider_ok(c.provider)
	every a in required_attestations {
		attested(c.endpoint, a)
	}
}

allowed_regions contains c.region if {
	some c in input.candidates
	c.endpoint in allowed_endpoints
}

allowed_providers contains c.provider if {
	some c in input.candidates
	c.endpoint in allowed_endpoints
}

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

package custos

# METADATA
# title: Unknown tenant
# description: Only tenants listed in data.tenants may send data anywhere.
# custom:
#   code: tenant_unknown
#   control: "HIPAA 45 CFR 164.312(a)(1) access control; GDPR Art. 32(1)(b)"
deny contains r if {
	not data.tenants[input.tenant]
	r := reason(rego.metadata.rule(), "This tenant has no policy; nothing may be sent on its behalf.")
}

# METADATA
# title: Purpose limitation
# description: An app may only send data for a purpose its tenant has declared.
# custom:
#   code: purpose_not_permitted
#   control: "GDPR Art. 5(1)(b) purpose limitation; HIPAA 45 CFR 164.506 permitted uses"
deny contains r if {
	tenant
	not input.purpose in tenant.purposes
	r := reason(rego.metadata.rule(), sprintf("The app's purpose %q is not among the purposes declared for this tenant.", [input.purpose]))
}

# METADATA
# title: Model allowlist
# description: Only models on the tenant's allowlist may be used.
# custom:
#   code: model_not_allowed
#   control: "HIPAA 45 CFR 164.308(a)(4) information access management; SOC 2 CC6.1"
deny contains r if {
	tenant
	not input.model in tenant.models
	r := reason(rego.metadata.rule(), "The requested model is not on this tenant's allowlist.")
}

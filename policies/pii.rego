package custos

known_actions := {"allow", "mask", "pseudonymize", "hash", "block"}

# The action for each data class found: the tenant's override, else the
# class's action in data.pii.classes, else the default action.
actions[class] := class_action(class) if {
	some class, n in input.findings
	n > 0
}

class_action(class) := a if {
	a := tenant.pii_actions[class]
} else := a if {
	a := data.pii.classes[class].action
} else := data.pii.default_action

blocked_classes contains class if {
	some class, action in actions
	action == "block"
}

# METADATA
# title: Blocked data classes
# description: Data classes whose action is block must never leave Custos.
# custom:
#   code: pii_blocked
#   control: "PCI DSS v4.0 Req. 3.3 and 3.4; HIPAA 45 CFR 164.502(b) minimum necessary"
deny contains r if {
	count(blocked_classes) > 0
	r := reason(rego.metadata.rule(), sprintf("The request contains data this tenant's policy blocks: %s.", [concat(", ", sort(blocked_classes))]))
}

# METADATA
# title: Unknown redaction action
# description: An action Custos cannot carry out fails closed.
# custom:
#   code: pii_action_unknown
#   control: "HIPAA 45 CFR 164.312(e)(1) transmission security"
deny contains r if {
	some class, action in actions
	not action in known_actions
	r := reason(rego.metadata.rule(), sprintf("The policy names an unknown action for data class %s.", [class]))
}

# METADATA
# title: Uninspectable content
# description: A field Custos could not inspect may hide personal data; refuse it.
# custom:
#   code: uninspectable_content
#   control: "HIPAA 45 CFR 164.312(e)(1) transmission security; GDPR Art. 25 data protection by design"
deny contains r if {
	input.uninspectable > 0
	r := reason(rego.metadata.rule(), sprintf("%d field(s) of the request could not be inspected.", [input.uninspectable]))
}

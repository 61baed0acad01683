# Test overlay: a deliberately broken policy file (see policy golden cases).
package custos

# METADATA
# title: Pathologically slow rule
# custom:
#   code: slow_rule
#   control: test only
deny contains r if {
	input.tenant == "st-marys"
	some i in numbers.range(1, 5000)
	some j in numbers.range(1, 5000)
	i * j == -1
	r := reason(rego.metadata.rule(), "never")
}

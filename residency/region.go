package residency

import "strings"

// Jurisdictions Custos knows by region prefix. A region code is
// "<jurisdiction>-<area>" (eu-west, us-east, uk-south, ch-north, cn-east);
// "local" is the gateway's own host.
var regionPrefixes = map[string]string{
	"eu": "eu", "us": "us", "uk": "uk", "ch": "ch", "cn": "cn", "ca": "ca", "au": "au", "jp": "jp",
	"in": "in", "br": "br", "sg": "sg", "kr": "kr",
}

// JurisdictionOf returns the jurisdiction of a region code, or "" when the
// region follows no known convention (the endpoint must then name one).
func JurisdictionOf(region string) string {
	if region == "local" {
		return "local"
	}
	prefix, _, _ := strings.Cut(region, "-")
	return regionPrefixes[prefix]
}

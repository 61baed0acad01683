package audit

// PairingFields exposes pairingFields to the external tests.
var PairingFields = pairingFields

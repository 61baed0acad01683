// Package redact finds personal and health data (PII/PHI) in text and hides
// it. Scanner makes one pass over a text: a single tokenizer finds
// candidate spans (words, digit groups, e-mail and URL shapes, secret
// prefixes) and validates each with the checks its type allows (checksums,
// issuer ranges, libphonenumber, context words, name lexicons). Overlaps are
// resolved deterministically: the longest validated match wins, and when two
// types claim the same span both are recorded.
//
// Operators, chosen per data class by policy: pseudonymize (typed
// placeholders such as [PERSON_1], the same value → the same placeholder
// within one Session), mask (keep the last four characters of a number),
// hash (keyed HMAC-SHA256 token), block (the caller refuses the request).
// A Restorer puts pseudonymized values back into an answer streamed in
// arbitrary chunks.
//
// HIPAA Safe Harbor identifiers (45 CFR 164.514(b)(2)) and their coverage:
//
//	(A) names                         PERSON (lexicons + context rules; English, German, French, Spanish)
//	(B) geographic subdivisions       ADDRESS, POSTAL_CODE (street addresses and postal codes with context);
//	                                  city and county names alone are not covered
//	(C) dates related to a person     DATE_OF_BIRTH, DATE (admission, discharge, death, visit: with context);
//	                                  ages over 89 are not covered
//	(D) telephone numbers             PHONE (libphonenumber validation)
//	(E) fax numbers                   PHONE
//	(F) e-mail addresses              EMAIL
//	(G) social security numbers       US_SSN (invalid areas/groups/serials rejected), US_ITIN
//	(H) medical record numbers        MEDICAL_RECORD_NUMBER (context)
//	(I) health plan beneficiary nos.  HEALTH_PLAN_ID (context)
//	(J) account numbers               BANK_ACCOUNT (context), IBAN, CREDIT_CARD, US_BANK_ROUTING
//	(K) certificate/license numbers   US_DRIVER_LICENSE, US_DEA, US_NPI (context for licenses)
//	(L) vehicle identifiers           not covered
//	(M) device identifiers            not covered
//	(N) URLs                          URL
//	(O) IP addresses                  IP_ADDRESS (v4 and v6)
//	(P) biometric identifiers         not covered (no text form)
//	(Q) full-face photographs         not covered (images are reported as uninspectable by the walker)
//	(R) other unique identifying nos. US_PASSPORT, UK_NHS, UK_NINO, DE_TAX_ID, FR_NIR, ES_DNI,
//	                                  IT_FISCAL_CODE, SWIFT_BIC, CRYPTO_WALLET; SECRET for credentials
//
// The package must never log, or put into an error, any text it scans or
// any value it finds: findings carry types, offsets and scores only.
package redact

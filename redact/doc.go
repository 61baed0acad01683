// Package redact finds personal and health data (PII/PHI) in text and hides
// it. It sees text only: the gateway turns every string, number and key of
// a request into Fields and calls Inspect; Scan is the same for one text.
//
// # How a text is read
//
// Normalization comes first and is mapped back: Unicode NFKC (full-width
// forms, compatibility spaces), format characters removed (zero-width space
// and joiners, soft hyphen, bidi controls), every Unicode space a plain
// space, digits of other scripts as ASCII digits, Cyrillic and Greek
// look-alike letters folded to Latin inside words that also hold Latin
// letters or digits, HTML entities and percent-escapes decoded. Findings
// carry byte offsets of the original text, so Session.Apply replaces the
// original bytes. Text that needs none of this is scanned as it is, with no
// offset map.
//
// One tokenizer splits at white space and at punctuation (| ^ ~ ; < > [ ]
// { } " ` \ always; : = , ( ) ' unless an IPv6 address, a time, an ISO
// timestamp, a phone number or a name like O'Brien needs them), so CSV rows,
// HL7 segments, JSON, XML, logs, key=value pairs and Markdown tables give up
// their values. Identifiers are validated by what their type allows
// (checksums, issuer ranges, libphonenumber, context words); a single space,
// newline or dot between digit groups is a separator. URLs are containers:
// their user name, password, host, path segments, query values and fragment
// are scanned, and the URL finding is cut around what they hold, so an
// allowed URL never carries the data inside it.
//
// HL7 v2 messages are read by their structure (see hl7.go): a line that
// starts with a known segment id and '|' (after a line break, a literal
// "\r", a space or a label) is split at the encoding characters of MSH-2
// into fields, repetitions, components and subcomponents, and a field's
// position says what it holds: PID-3 the patient's identifiers, typed by
// the identifier type code that follows each value (MR, SS, NPI, DL, PPN,
// MB...), PID-5 the name, PID-7 the date of birth, PID-11 the address,
// PID-13 and -14 the phones, PID-18 to -20 account, SSN and licence, and
// the names, addresses, phones and dates of NK1, PV1, ORC, OBR, OBX, IN1,
// GT1, MRG, PD1 and EVN. Each component is its own finding, so a redacted
// message keeps its separators. Coded fields (observation identifiers,
// units, ranges, numeric values) are nothing personal and what the text
// detectors would find there is dropped, unless the value shows what it
// is by itself (a card number, an e-mail address, a phone number with its
// country code); free text (OBX-5 of type ST, TX or FT, NTE-3) and
// segments the reader does not know are left to the text detectors. Only
// '|' is read as the field separator.
//
// Inspect scans each field with its key read as a label ("ssn: ..."),
// scans the adjacent parts of one message (a Group) joined as well as
// apart, and reports a value found with good evidence (a name with a title,
// a labeled number) at every other occurrence in any field and letter case.
//
// Memory stays bounded whatever the text's size: a text longer than a
// window (256 KiB) is scanned window by window with 8 KiB of context on
// each side (wider than any identifier, label or PEM block), long runs of
// parts are joined window by window, and Options.MaxFindings stops an
// Inspect call with ErrTooManyFindings as soon as a request holds more
// findings than it allows. The scanner must never hold a whole long text's
// words, sentences or candidates at once.
//
// # Names, places and organizations
//
// PERSON, LOCATION and ORGANIZATION come from an averaged perceptron that
// tags candidate tokens left to right (capitalized words, words the
// gazetteer knows as names or places, words after a cue); other tokens cost
// a Bloom-filter probe. Its features: the word, its affixes and shape, the
// gazetteer's given-name and surname log-frequency buckets, the ordinary-word
// flag (so Will, Hope and Rose need more evidence than Venkataraman), place
// and company flags, the neighbouring words, their shapes and classes, the
// punctuation around the word, the two previous tags, and cue words
// (titles, relations such as "my kid", labels such as Patient:, User:,
// Name:, greetings and signatures). Rules add titled and labeled names,
// names in CJK scripts (surname + given name, or an honorific), countries
// and multi-word places the gazetteer knows, and fix what the tagger
// confuses: a lone unknown capitalized word in German text or in front of a
// number is no name, an unfamiliar name tagged as a place is a PERSON when
// it is a person elsewhere in the text, a company's head word or a title
// alone is no organization or place, a nationality alone is no person.
//
// Organizations whose name shows what they are are found by their form
// (see orgs.go): a legal form after the name (Inc., Ltd, LLC, GmbH, AG,
// S.A., SpA, plc, B.V., Oy, AB...), partners joined by "&" (Brindle &
// Voss, Whitcombe, Farrant & Lowe), a head word after capitalized words
// (Bank, Hospital, Clinic, University, Foundation, Group, Partners,
// Insurance...) or before "of" (University of Tartu), the words after a
// cue (works at, employed by, account with, insured by) and after "my
// employer," or "our bank,", written in capitals or not. A list of surnames
// joined by "and" is people unless a legal form ends it or a cue leads to
// it, and an organization the tagger alone proposes whose words are all
// known names is a PERSON: organizations are allowed where people are
// hidden, so the doubt goes to the person.
//
// TITLE is a job title or an honorific said of a named person: the
// honorific or occupation right before a name (Dr., Ms, Frau, Nurse), the
// occupation set beside it by commas ("Ana Ruiz, the practice manager,"),
// the job line under a name in a signature block. AGE is a number with
// "years old", "aged", "at the age of", "turned", "when she was". NRP is a
// nationality, people or religion, singular or plural, said of a person
// or of people ("I am cambodian", "we are proud Saudis", "a Catholic
// patient"), not of things ("a Czech film").
//
// The tables are built by redact/internal/build from local copies of their
// sources and embedded (data/gazetteer.gz, 223,000 words, 0.8 MB; data/model.gz,
// 84,000 features with 4 tags in 16-bit weights hashed into 2^18 buckets,
// 0.56 MB). The gazetteer: @faker-js/faker 10.6.0 name, place, street,
// company and word lists of 77 locales (MIT), the 1990 US Census name
// frequencies (public domain), libpostal's per-language dictionaries (MIT)
// and the SCOWL word list of Debian's wamerican (permissive). The model was
// trained, six passes, on wikigold, WNUT-17, the Broad Twitter Corpus (CC BY
// 4.0) and the SEC filings NER set (CC BY 3.0), 18,000 sentences, plus
// 90,000 clinical, banking, support and chat sentences generated from
// templates written for Custos; for 15% of name tokens the gazetteer
// frequencies are hidden in training so that the model also learns names no
// list holds. See NOTICE.
//
// Addresses are read by a grammar over words with the street types, unit
// designators and post-box words of libpostal for every language it covers:
// house numbers before or after the street, types written first (rue, calle,
// ul.) or glued to the name (Hauptstraße, Strandvej), units, PO boxes and US
// military mail, intersections, and the lines that follow (postcode and
// city, region, country) merged into one ADDRESS.
//
// Dates are found in every common form: numeric with any separator, month
// names and abbreviations in English, German, French, Spanish, Italian,
// Portuguese and Dutch, ordinals in figures or words, ISO with a time,
// weekdays, a year after "in"/"since"/"of" or as a modifier, CJK and
// Japanese era forms. Every date is reported; Personal marks one tied to an
// individual (birth, admission, discharge, death, a visit, a patient or a
// person named in the same sentence), for a policy that redacts only those.
//
// # What it misses
//
// Measured on the public presidio-research synthetic set (see the shared
// benchmarks): about 6% of person names (single unfamiliar surnames in
// prose, names inside band or company names), 9% of street addresses
// (Greek or lower-case street names, abbreviations such as "u."), 20% of
// postal codes standing alone in prose, about 60% of organizations (a brand
// word alone with no cue, a firm named by a list of surnames, which is read
// as people), three quarters of nationality words (those said of things,
// "Slovenian food", are not reported) and a third of job titles (those
// with no name beside them). Lower-case names and organizations are found
// only when the gazetteer knows them or a cue precedes them. Names in
// scripts other than Latin, Cyrillic, Greek, Arabic and CJK rely on the
// gazetteer alone.
//
// # Operators
//
// Chosen per data class by policy: pseudonymize (typed placeholders such as
// [PERSON_1], the same value → the same placeholder within one Session),
// mask (keep the last four characters of a number), hash (keyed
// HMAC-SHA256 token), block (the caller refuses the request). A Restorer
// puts pseudonymized values back into an answer streamed in arbitrary
// chunks.
//
// # HIPAA Safe Harbor (45 CFR 164.514(b)(2))
//
//	(A) names                         PERSON (tagger, gazetteer, title/label rules; Latin, Cyrillic, Greek, Arabic, CJK)
//	(B) geographic subdivisions       ADDRESS (street to country), POSTAL_CODE (with a label), LOCATION (cities,
//	                                  regions, countries); a state alone is reported as LOCATION too
//	(C) dates related to a person     DATE and DATE_OF_BIRTH: every date, Personal when tied to a person;
//	                                  AGE (an age in years with its context, those over 89 included)
//	(D) telephone numbers             PHONE (libphonenumber; extensions, trunk prefixes, labeled numbers)
//	(E) fax numbers                   PHONE
//	(F) e-mail addresses              EMAIL
//	(G) social security numbers       US_SSN (invalid areas/groups/serials rejected), US_ITIN
//	(H) medical record numbers        MEDICAL_RECORD_NUMBER (labels, weak ones such as "MR#" included)
//	(I) health plan beneficiary nos.  HEALTH_PLAN_ID (context)
//	(J) account numbers               BANK_ACCOUNT (context), IBAN, CREDIT_CARD (issuer ranges, or a card cue), US_BANK_ROUTING
//	(K) certificate/license numbers   US_DRIVER_LICENSE, US_DEA, US_NPI (context for licenses)
//	(L) vehicle identifiers           not covered
//	(M) device identifiers            not covered
//	(N) URLs                          URL (and what its parts hold)
//	(O) IP addresses                  IP_ADDRESS (v4 and v6, CIDR ranges, with ports)
//	(P) biometric identifiers         not covered (no text form)
//	(Q) full-face photographs         not covered (images are reported as uninspectable by the walker)
//	(R) other unique identifying nos. US_PASSPORT, UK_NHS, UK_NINO, DE_TAX_ID, FR_NIR, ES_DNI,
//	                                  IT_FISCAL_CODE, SWIFT_BIC, CRYPTO_WALLET; SECRET for credentials
//
// Beyond Safe Harbor: ORGANIZATION (companies, hospitals, banks), NRP (a
// nationality, religion or political group said of a person, GDPR special
// categories) and TITLE (a job title or honorific beside a name, which
// with an employer can single a person out).
//
// The package must never log, or put into an error, any text it scans or
// any value it finds: findings carry types, offsets and scores only.
package redact

package redact

import "sort"

// Type is a stable data class name, as policies name it.
type Type string

// The data classes the scanner detects.
const (
	Email           Type = "EMAIL"
	Phone           Type = "PHONE"
	IPAddress       Type = "IP_ADDRESS"
	URL             Type = "URL"
	CreditCard      Type = "CREDIT_CARD"
	IBAN            Type = "IBAN"
	SwiftBIC        Type = "SWIFT_BIC"
	USBankRouting   Type = "US_BANK_ROUTING"
	BankAccount     Type = "BANK_ACCOUNT"
	CryptoWallet    Type = "CRYPTO_WALLET"
	USSSN           Type = "US_SSN"
	USITIN          Type = "US_ITIN"
	USNPI           Type = "US_NPI"
	USDEA           Type = "US_DEA"
	MedicalRecord   Type = "MEDICAL_RECORD_NUMBER"
	HealthPlanID    Type = "HEALTH_PLAN_ID"
	UKNHS           Type = "UK_NHS"
	UKNINO          Type = "UK_NINO"
	USPassport      Type = "US_PASSPORT"
	USDriverLicense Type = "US_DRIVER_LICENSE"
	DETaxID         Type = "DE_TAX_ID"
	FRNIR           Type = "FR_NIR"
	ESDNI           Type = "ES_DNI"
	ITFiscalCode    Type = "IT_FISCAL_CODE"
	DateOfBirth     Type = "DATE_OF_BIRTH"
	Date            Type = "DATE"
	Person          Type = "PERSON"
	Address         Type = "ADDRESS"
	PostalCode      Type = "POSTAL_CODE"
	Secret          Type = "SECRET"
	Location        Type = "LOCATION"
	Organization    Type = "ORGANIZATION"
	Age             Type = "AGE"   // an age in years, with context ("aged 54", "54-year-old")
	NRP             Type = "NRP"   // a nationality, religious or political group (GDPR special categories)
	Title           Type = "TITLE" // a job title or honorific said of a named person ("Dr.", "practice manager")
)

// AllTypes lists every type the scanner can report.
var AllTypes = []Type{
	Email, Phone, IPAddress, URL, CreditCard, IBAN, SwiftBIC, USBankRouting, BankAccount, CryptoWallet,
	USSSN, USITIN, USNPI, USDEA, MedicalRecord, HealthPlanID, UKNHS, UKNINO, USPassport, USDriverLicense,
	DETaxID, FRNIR, ESDNI, ITFiscalCode, DateOfBirth, Date, Person, Address, PostalCode, Secret, Location, Organization, Age, NRP, Title,
}

// Finding is one detected span: byte offsets into the scanned text. It never
// holds the value itself.
type Finding struct {
	Type  Type    `json:"type"`
	Start int     `json:"start"`
	End   int     `json:"end"`
	Score float64 `json:"score"`
	// Also records a second type that claimed exactly the same span.
	Also Type `json:"also,omitempty"`
	// Personal marks a date tied to an individual by its context (birth,
	// admission, discharge, death, a name or patient nearby); a policy that
	// redacts only such dates keeps the others.
	Personal bool `json:"personal,omitempty"`
}

// resolve orders findings by position and removes overlaps: the longest
// span wins; on equal spans the higher score wins and the other type is
// kept in Also; remaining ties go to the type that sorts first.
func resolve(fs []Finding) []Finding {
	if len(fs) < 2 {
		return fs
	}
	sort.Slice(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if la, lb := a.End-a.Start, b.End-b.Start; la != lb {
			return la > lb
		}
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if a.Start != b.Start {
			return a.Start < b.Start
		}
		return a.Type < b.Type
	})
	var kept []Finding
	if len(fs) <= 32 {
		kept = resolveSmall(fs)
	} else {
		kept = resolveLarge(fs)
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].Start < kept[j].Start })
	return kept
}

// resolveSmall keeps findings in priority order that clash with none kept.
func resolveSmall(fs []Finding) []Finding {
	kept := fs[:0:0]
	for _, f := range fs {
		clash := false
		for i := range kept {
			k := &kept[i]
			if f.Start < k.End && k.Start < f.End {
				clash = true
				if f.Start == k.Start && f.End == k.End && f.Type != k.Type && k.Also == "" {
					k.Also = f.Type
				}
				break
			}
		}
		if !clash {
			kept = append(kept, f)
		}
	}
	return kept
}

// resolveLarge does the same in time linear in the covered bytes: a bitset
// of the bytes claimed so far, and the kept findings by exact span.
func resolveLarge(fs []Finding) []Finding {
	end := 0
	for _, f := range fs {
		end = max(end, f.End)
	}
	claimed := make([]uint64, end/64+1)
	bySpan := make(map[[2]int]int, len(fs))
	kept := make([]Finding, 0, len(fs))
	for _, f := range fs {
		if f.Start < 0 || f.End <= f.Start {
			continue
		}
		if k, ok := bySpan[[2]int{f.Start, f.End}]; ok {
			if kept[k].Type != f.Type && kept[k].Also == "" {
				kept[k].Also = f.Type
			}
			continue
		}
		clash := false
		for p := f.Start; p < f.End; p++ {
			if claimed[p/64]&(1<<(p%64)) != 0 {
				clash = true
				break
			}
		}
		if clash {
			continue
		}
		for p := f.Start; p < f.End; p++ {
			claimed[p/64] |= 1 << (p % 64)
		}
		bySpan[[2]int{f.Start, f.End}] = len(kept)
		kept = append(kept, f)
	}
	return kept
}

package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Sentences of ordinary prose, written for this package, without personal data.
var proseSentences = []string{
	"Please summarise the notes below for the handover meeting.",
	"The patient reported mild discomfort after the procedure and was given the usual advice.",
	"Blood pressure was stable throughout the afternoon and no further tests were requested.",
	"The follow-up appointment should be booked within the next two weeks.",
	"Medication was reviewed and the dose left unchanged pending the next results.",
	"The customer asked why the last statement showed a fee that had not been agreed.",
	"Our records show that the transfer was completed on the same business day.",
	"A replacement card was requested and the old one has been cancelled.",
	"The team agreed to revisit the plan once the imaging report is available.",
	"Physiotherapy twice a week was recommended, with exercises to continue at home.",
	"The complaint was acknowledged and a reply is due within eight working days.",
	"Draft a short, friendly reply that explains the next steps in plain language.",
	"Allergies were checked again before the change of treatment was discussed.",
	"The account remains open and no further action is needed from the customer.",
	"Nursing staff noted good progress and the discharge plan is on track.",
	"List any open questions so that they can be raised with the consultant.",
}

var (
	firstNames = []string{"Amelia", "Oliver", "Isla", "Jack", "Sofia", "Noah", "Maja", "Lukas", "Chloe", "Mateo",
		"Hannah", "Theo", "Ines", "Jonas", "Elena", "Samuel"}
	lastNames = []string{"Whitfield", "Okafor", "Lindqvist", "Moreau", "Brennan", "Kowalski", "Haddad", "Fischer",
		"Rossi", "Nakamura", "Delgado", "Murphy", "Novak", "Jansen", "Costa", "Byrne"}
)

// piiValue returns one invented personal data value with the words that
// introduce it, cycling through the kinds a gateway looks for.
func piiValue(rng *rand.Rand) string {
	first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
	switch rng.IntN(6) {
	case 0:
		return fmt.Sprintf("Patient: %s %s.", first, last)
	case 1:
		return fmt.Sprintf("Contact %s.%s@example.org for the records.", strings.ToLower(first), strings.ToLower(last))
	case 2: // Ofcom's range for drama, 020 7946 0000-0999
		return fmt.Sprintf("Call back on 020 7946 0%03d.", rng.IntN(1000))
	case 3:
		return fmt.Sprintf("Date of birth %02d/%02d/%d.", 1+rng.IntN(28), 1+rng.IntN(12), 1940+rng.IntN(60))
	case 4: // a well-known test card number
		return "The card on file is 4111 1111 1111 1111."
	default:
		return fmt.Sprintf("Seen by Dr. %s on the ward.", last)
	}
}

// synthText returns about size bytes of prose (never less than one
// sentence, cut at a space) with personal data values at piiPerKB.
func synthText(rng *rand.Rand, size int, piiPerKB float64) string {
	var b strings.Builder
	b.Grow(size + 128)
	// Place values at evenly spread byte offsets so the density holds for
	// small and large prompts alike.
	want := int(piiPerKB*float64(size)/1024 + 0.5)
	next, step := size+1, 0
	if want > 0 {
		step = size / want
		next = step / 2
	}
	for placed := 0; b.Len() < size; {
		if placed < want && b.Len() >= next {
			b.WriteString(piiValue(rng))
			placed++
			next += step
		} else {
			b.WriteString(proseSentences[rng.IntN(len(proseSentences))])
		}
		b.WriteByte(' ')
	}
	s := b.String()
	if len(s) > size {
		if i := strings.LastIndexByte(s[:size], ' '); i > size/2 {
			return s[:i]
		}
		return strings.TrimSpace(s[:size])
	}
	return strings.TrimSpace(s)
}

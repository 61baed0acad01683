package redact

import (
	_ "embed"
	"strings"
	"sync"
)

var (
	//go:embed lexicon/first_names.txt
	firstNamesTxt string
	//go:embed lexicon/last_names.txt
	lastNamesTxt string
	//go:embed lexicon/ambiguous.txt
	ambiguousTxt string
)

// Name classes in the lexicon, as bits.
const (
	nameFirst uint8 = 1 << iota
	nameLast
	nameAmbiguous
)

var (
	lexOnce sync.Once
	lexicon map[string]uint8
)

func names() map[string]uint8 {
	lexOnce.Do(func() {
		lexicon = make(map[string]uint8, 30000)
		add := func(txt string, bit uint8) {
			for _, w := range strings.Split(txt, "\n") {
				if w != "" {
					lexicon[w] |= bit
					if f := foldAccents(w); f != w && bit != nameAmbiguous {
						lexicon[f] |= bit // Hernández → Hernandez as people type it
					}
				}
			}
		}
		add(firstNamesTxt, nameFirst)
		add(lastNamesTxt, nameLast)
		add(ambiguousTxt, nameAmbiguous)
	})
	return lexicon
}

// Words that introduce a person's name.
var nameTitles = setOf(
	"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "herr", "frau", "fr", "hr", "m", "mme", "mlle",
	"monsieur", "madame", "sr", "sra", "srta", "don", "doña", "señor", "señora", "dott", "sig", "patient", "patientin",
	"paciente", "nurse", "pt")

// Labels after which a name follows ("Name: ...").
var nameLabels = []string{
	"name:", "name :", "patient:", "patient name:", "full name:", "customer:", "client:", "account holder:",
	"cardholder:", "contact:", "signed:", "nombre:", "nom:", "prénom:", "vorname:", "nachname:", "patientenname:",
	"my name is", "i am", "i'm", "this is", "je m'appelle", "je suis", "me llamo", "mi nombre es", "soy",
	"ich heiße", "ich bin", "mein name ist", "dear", "hi", "hello", "hallo", "bonjour", "hola", "estimado",
	"estimada", "sehr geehrte", "sehr geehrter", "liebe", "lieber", "cher", "chère", "regards,", "best,",
	"thanks,", "sincerely,", "cordialement,", "saludos,", "grüße,", "gruß,", "referred by", "seen by", "attending:",
	"physician:", "provider:", "emergency contact:", "wife", "husband", "daughter", "son", "mother", "father",
}

var accentFolds = strings.NewReplacer(
	"á", "a", "à", "a", "â", "a", "ä", "a", "ã", "a", "å", "a", "é", "e", "è", "e", "ê", "e", "ë", "e",
	"í", "i", "ì", "i", "î", "i", "ï", "i", "ó", "o", "ò", "o", "ô", "o", "ö", "o", "õ", "o", "ú", "u",
	"ù", "u", "û", "u", "ü", "u", "ñ", "n", "ç", "c", "Á", "A", "É", "E", "Í", "I", "Ó", "O", "Ú", "U",
	"Ü", "U", "Ö", "O", "Ä", "A", "Ñ", "N", "Ç", "C",
)

func foldAccents(s string) string { return accentFolds.Replace(s) }

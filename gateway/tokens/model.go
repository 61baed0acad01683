package tokens

import "strings"

// nativeO200k and nativeCl100k are the OpenAI model families by encoding,
// as name prefixes.
var (
	nativeO200k  = []string{"gpt-4o", "chatgpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "gpt-oss", "codex"}
	nativeCl100k = []string{"gpt-4", "gpt-3.5", "gpt-35", "text-embedding-3", "text-embedding-ada-002"}
)

// EncodingFor chooses the encoding for a model: o200k_base for gpt-4o,
// gpt-4.1, gpt-4.5, gpt-5 and the o-series, cl100k_base for gpt-4,
// gpt-3.5-turbo and the OpenAI embedding models (Native); o200k_base for
// every other model, whose own tokenizer is not embedded (Proxy). A
// provider prefix ("openai/gpt-4o") and a fine-tune prefix ("ft:") are
// ignored; case does not matter.
func EncodingFor(model string) (Encoding, Basis) {
	m := strings.ToLower(model)
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	m = strings.TrimPrefix(m, "ft:")
	for _, p := range nativeO200k {
		if family(m, p) {
			return O200kBase, Native
		}
	}
	for _, p := range nativeCl100k {
		if family(m, p) {
			return Cl100kBase, Native
		}
	}
	return O200kBase, Proxy
}

// family reports m is p or p followed by a separator ("gpt-4o-mini",
// "o3-2025-04-16", "gpt-4o:ft"); "o1x" is not o1.
func family(m, p string) bool {
	if !strings.HasPrefix(m, p) {
		return false
	}
	rest := m[len(p):]
	return rest == "" || rest[0] == '-' || rest[0] == ':' || rest[0] == '.' || rest[0] == '_'
}

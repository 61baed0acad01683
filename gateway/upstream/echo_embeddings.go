package upstream

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
)

// echoDimensions is the length of an echo embedding unless the request
// asks for another (dimensions).
const echoDimensions = 8

// echoEmbeddings answers an embeddings request with a deterministic unit
// vector per input, derived from the text the provider received: the same
// (redacted) text always gives the same vector, so a newcomer can see that
// two inputs differing only in a redacted value embed the same.
func echoEmbeddings(w http.ResponseWriter, body []byte) {
	var req struct {
		Model          string          `json:"model"`
		Input          json.RawMessage `json:"input"`
		Dimensions     int             `json:"dimensions"`
		EncodingFormat string          `json:"encoding_format"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeEchoError(w, http.StatusBadRequest, "request body is not an embeddings request")
		return
	}
	var inputs []string
	var one string
	if json.Unmarshal(req.Input, &one) == nil {
		inputs = []string{one}
	} else if err := json.Unmarshal(req.Input, &inputs); err != nil {
		writeEchoError(w, http.StatusBadRequest, "input must be a string or an array of strings")
		return
	}
	dims := req.Dimensions
	if dims <= 0 || dims > 4096 {
		dims = echoDimensions
	}
	data := make([]any, len(inputs))
	promptBytes := 0
	for i, in := range inputs {
		promptBytes += len(in)
		var vec any = echoVector(in, dims)
		if req.EncodingFormat == "base64" {
			vec = base64Floats(echoVector(in, dims))
		}
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": vec}
	}
	tokens := estimateTokens(promptBytes)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model,
		"usage": map[string]any{"prompt_tokens": tokens, "total_tokens": tokens}})
}

// echoVector is a unit vector of dims components drawn from SHA-256 of s.
func echoVector(s string, dims int) []float64 {
	v := make([]float64, dims)
	var norm float64
	seed := sha256.Sum256([]byte(s))
	for i := range v {
		block := sha256.Sum256(append(seed[:], byte(i), byte(i>>8)))
		x := float64(binary.BigEndian.Uint64(block[:8]))/math.MaxUint64*2 - 1
		v[i] = x
		norm += x * x
	}
	norm = math.Sqrt(norm)
	for i := range v {
		v[i] = math.Round(v[i]/norm*1e6) / 1e6
	}
	return v
}

// base64Floats encodes a vector as the API's base64 form: little-endian
// float32s.
func base64Floats(v []float64) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(x)))
	}
	return base64.StdEncoding.EncodeToString(b)
}

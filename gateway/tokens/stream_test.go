package tokens

import (
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// A completion streamed in deltas of any size, runes split across deltas
// included, counts exactly as the whole text does, holding only a few
// kilobytes at a time.
func TestStreamCountsAsTheWholeText(t *testing.T) {
	c := counter(t)
	rng := rand.New(rand.NewPCG(4, 2))
	long := strings.Repeat(strings.Join(corpus(rng)[:15], " "), 40)
	for _, text := range []string{"", "Hi", long, strings.Repeat("word ", 5000), strings.Repeat("x\n\n  y", 3000)} {
		for _, model := range []string{"gpt-4o", "gpt-3.5-turbo"} {
			want := c.Text(model, text)
			s := c.Stream(model)
			maxHeld := 0
			for rest := text; rest != ""; {
				n := min(1+rng.IntN(40), len(rest))
				s.Write(rest[:n])
				rest = rest[n:]
				maxHeld = max(maxHeld, len(s.buf))
			}
			got := s.Close()
			if got.Tokens != want.Tokens || got.Sampled || !got.Estimated || got.Encoding != want.Encoding {
				t.Errorf("%s, %d bytes: stream %+v, whole %+v", model, len(text), got, want)
			}
			if maxHeld > flushAt+64 {
				t.Errorf("%s: the stream held %d bytes", model, maxHeld)
			}
			if len(s.buf) != 0 {
				t.Error("Close left text in the buffer")
			}
		}
	}
}

// Text with no cut point (unbroken CJK) is cut at a rune boundary once the
// buffer is full: bounded memory, a count marked Sampled and close to the
// whole text's.
func TestStreamWithoutCutPoints(t *testing.T) {
	c := counter(t)
	text := strings.Repeat("東京都渋谷区会議明日晴", 20000) // 660 KB, no spaces, no punctuation
	want := c.enc[O200kBase].exact(text)
	s := c.Stream("gpt-4o")
	for i := 0; i < len(text); i += 7 {
		s.Write(text[i:min(i+7, len(text))])
		if len(s.buf) > forceAt+8 {
			t.Fatalf("held %d bytes", len(s.buf))
		}
	}
	got := s.Close()
	if !got.Sampled {
		t.Error("a forced cut was not reported")
	}
	if diff := got.Tokens - int64(want); diff < -int64(len(text)/forceAt+1) || diff > int64(len(text)/forceAt+1) {
		t.Errorf("stream %d tokens, whole text %d", got.Tokens, want)
	}
}

// Large prompts take the cheap path: evenly spread exact samples,
// extrapolated; within a few percent on text of one kind, and marked.
func TestSampledCountsAreClose(t *testing.T) {
	small, err := New(Options{ExactBytes: 32 << 10})
	if err != nil {
		t.Fatal(err)
	}
	full, err := New(Options{ExactBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, 8))
	texts := corpus(rng)
	var code, prose, jsonText strings.Builder
	for code.Len() < 300<<10 {
		code.WriteString("func f" + strings.Repeat("x", rng.IntN(6)) + "(a int) error {\n\tif a > 3 {\n\t\treturn nil\n\t}\n\treturn fmt.Errorf(\"bad %d\", a)\n}\n\n")
	}
	for prose.Len() < 300<<10 {
		prose.WriteString(texts[rng.IntN(12)] + " The committee reviewed the findings and agreed to proceed.\n")
	}
	for jsonText.Len() < 300<<10 {
		jsonText.WriteString(`{"id":` + strings.Repeat("7", 1+rng.IntN(8)) + `,"name":"item","tags":["a","bc"],"ok":true},` + "\n")
	}
	for name, text := range map[string]string{"code": code.String(), "prose": prose.String(), "json": jsonText.String(),
		"cjk": strings.Repeat("東京都渋谷区で会議があります。", 8000)} {
		exact := full.Text("gpt-4o", text)
		est := small.Text("gpt-4o", text)
		if exact.Sampled || !est.Sampled {
			t.Errorf("%s: Sampled flags %v / %v", name, exact.Sampled, est.Sampled)
		}
		if d := est.Tokens - exact.Tokens; d*20 > exact.Tokens || -d*20 > exact.Tokens {
			t.Errorf("%s: sampled %d, exact %d (more than 5%% off)", name, est.Tokens, exact.Tokens)
		}
		// Many small fields past the budget are counted at the call's ratio.
		fields := strings.SplitAfter(text[:200<<10], "\n")
		p := Prompt{Texts: fields}
		if got, want := small.Prompt("gpt-4o", p), full.Prompt("gpt-4o", p); !got.Sampled ||
			(got.Tokens-want.Tokens)*10 > want.Tokens || (want.Tokens-got.Tokens)*10 > want.Tokens {
			t.Errorf("%s in %d fields: sampled %+v, exact %+v", name, len(fields), got, want)
		}
	}
}

func TestConcurrentCounting(t *testing.T) {
	c := counter(t)
	want := c.Text("gpt-4o", "The quick brown fox jumps over the lazy dog.")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if got := c.Text("gpt-4o", "The quick brown fox jumps over the lazy dog."); got != want {
					t.Errorf("concurrent count %+v, want %+v", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	if want.Tokens != 10 {
		t.Errorf("pangram: %d tokens, want 10", want.Tokens)
	}
}

// FuzzCount: any text, in any deltas, counts the same whole, cut at any cut
// point, or streamed.
func FuzzCount(f *testing.F) {
	for _, s := range []string{"Hello, world", "x\n\n  y", "東京。東京", "a'b 'll", "\xff\xe4\xb8 z"} {
		f.Add(s, uint8(3))
	}
	c := counter(f)
	f.Fuzz(func(t *testing.T, s string, step uint8) {
		e := c.enc[O200kBase]
		v := validText(s)
		whole := e.exact(v)
		for j := 1; j < len(v); j++ {
			if isCut(v, j) && e.exact(v[:j])+e.exact(v[j:]) != whole {
				t.Fatalf("cut at %d changes the count", j)
			}
		}
		st := c.Stream("gpt-4o")
		n := int(step%64) + 1
		for i := 0; i < len(s); i += n {
			st.Write(s[i:min(i+n, len(s))])
		}
		if got := st.Close(); !got.Sampled && got.Tokens != int64(whole) {
			t.Fatalf("stream %d, whole %d", got.Tokens, whole)
		}
	})
}

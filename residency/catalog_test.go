package residency_test

import (
	"errors"
	"testing"

	"github.com/custos-gateway/custos/residency"
)

func TestCandidates(t *testing.T) {
	cat, err := residency.NewCatalog([]residency.Endpoint{
		{Name: "us-1", Provider: "openai", Region: "us-east", Models: []string{"gpt"}, Priority: 1},
		{Name: "eu-2", Provider: "azure", Region: "eu-west", Models: []string{"gpt"}, Priority: 2},
		{Name: "eu-1", Provider: "openai", Region: "eu-west", Models: []string{"gpt", "small"}, Priority: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	names := func(eps []*residency.Endpoint) (out []string) {
		for _, e := range eps {
			out = append(out, e.Name)
		}
		return out
	}
	cases := []struct {
		name  string
		model string
		con   residency.Constraint
		want  []string
		err   error
	}{
		{"unconstrained, by priority then config order", "gpt", residency.Constraint{}, []string{"us-1", "eu-1", "eu-2"}, nil},
		{"EU only", "gpt", residency.Constraint{Regions: []string{"eu-west"}}, []string{"eu-1", "eu-2"}, nil},
		{"EU and azure", "gpt", residency.Constraint{Regions: []string{"eu-west"}, Providers: []string{"azure"}}, []string{"eu-2"}, nil},
		{"no allowed region serves it", "small", residency.Constraint{Regions: []string{"us-east"}}, nil, residency.ErrNoCompliantEndpoint},
		{"empty allowed set is not 'any'", "gpt", residency.Constraint{Regions: []string{}}, nil, residency.ErrNoCompliantEndpoint},
		{"unknown model", "nope", residency.Constraint{}, nil, residency.ErrUnknownModel},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := cat.Candidates(tc.model, tc.con)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if g := names(got); len(g) != len(tc.want) || (len(g) > 0 && !equal(g, tc.want)) {
				t.Errorf("candidates = %v, want %v", g, tc.want)
			}
		})
	}
	if _, err := residency.NewCatalog([]residency.Endpoint{{Name: "a"}, {Name: "a"}}); err == nil {
		t.Error("duplicate endpoint names accepted")
	}
}

func equal(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

func BenchmarkCandidates(b *testing.B) {
	cat, _ := residency.NewCatalog([]residency.Endpoint{
		{Name: "us-1", Provider: "openai", Region: "us-east", Models: []string{"gpt"}},
		{Name: "eu-1", Provider: "openai", Region: "eu-west", Models: []string{"gpt"}},
		{Name: "eu-2", Provider: "azure", Region: "eu-west", Models: []string{"gpt"}},
	})
	con := residency.Constraint{Regions: []string{"eu-west"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cat.Candidates("gpt", con); err != nil {
			b.Fatal(err)
		}
	}
}

package migrate

import (
	"errors"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	file := func(names ...string) fstest.MapFS {
		fs := fstest.MapFS{}
		for _, n := range names {
			fs["m/"+n] = &fstest.MapFile{Data: []byte("SELECT 1; -- " + n)}
		}
		return fs
	}
	cases := []struct {
		name     string
		fs       fstest.MapFS
		versions []int
		err      error
	}{
		{"in order", file("0002_more.sql", "0001_first.sql", "README"), []int{1, 2}, nil},
		{"none", file(), nil, nil},
		{"a gap", file("0001_a.sql", "0003_c.sql"), nil, ErrFiles},
		{"not starting at one", file("0002_b.sql"), nil, ErrFiles},
		{"a misnamed file", file("0001_a.sql", "second.sql"), nil, ErrFiles},
		{"a version twice", file("0001_a.sql", "0001_b.sql"), nil, ErrFiles},
	}
	for _, c := range cases {
		files, err := Load(c.fs, "m")
		if !errors.Is(err, c.err) || (c.err == nil && err != nil) {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
			continue
		}
		if len(files) != len(c.versions) {
			t.Errorf("%s: %d files, want %d", c.name, len(files), len(c.versions))
			continue
		}
		for i, f := range files {
			if f.Version != c.versions[i] || f.Sum == [32]byte{} || f.SQL == "" {
				t.Errorf("%s: file %d is %+v", c.name, i, f)
			}
		}
	}
}

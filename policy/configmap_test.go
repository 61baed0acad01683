package policy_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/custos-gateway/custos/policy"
)

// mountConfigMap lays out dir the way the kubelet mounts a ConfigMap: the
// files in a hidden timestamped folder, a "..data" symlink to it, and one
// symlink per top-level entry through "..data". It returns a function that
// swaps in a new version, as the kubelet does on update.
func mountConfigMap(t *testing.T, src string) (dir string, swap func(newSrc string)) {
	t.Helper()
	dir = t.TempDir()
	version := 0
	publish := func(from string) {
		version++
		ts := filepath.Join(dir, "..2026_12_01_00_00_0"+string(rune('0'+version)))
		if err := os.Rename(from, ts); err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
		entries, _ := os.ReadDir(ts)
		for _, e := range entries {
			link := filepath.Join(dir, e.Name())
			if _, err := os.Lstat(link); err == nil {
				continue
			}
			if err := os.Symlink(filepath.Join("..data", e.Name()), link); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish(src)
	return dir, publish
}

// A policy ConfigMap mounted in a pod loads, with the same revision as the
// plain folder, and an update (the "..data" swap) is picked up by the watch.
func TestConfigMapMountLoadsAndReloads(t *testing.T) {
	plain := copyShipped(t)
	want, err := policy.New(context.Background(), policy.FromDir(plain), policy.Options{Timeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	dir, swap := mountConfigMap(t, copyShipped(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watching := make(chan struct{})
	reloads := make(chan policy.Revision, 4)
	e, err := policy.New(ctx, policy.FromDir(dir), policy.Options{Timeout: testTimeout,
		OnWatching: func() { close(watching) },
		OnReload: func(rev policy.Revision, changed bool, err error) {
			if changed && err == nil {
				reloads <- rev
			}
		}})
	if err != nil {
		t.Fatalf("loading a ConfigMap mount: %v", err)
	}
	if e.Revision() != want.Revision() {
		t.Errorf("revision %s, want the folder's %s", e.Revision(), want.Revision())
	}
	go func() { _ = e.Watch(ctx, 50*time.Millisecond) }()
	<-watching
	next := copyShipped(t)
	addModel(t, next, "gpt-4.1")
	swap(next)
	select {
	case rev := <-reloads:
		if rev == want.Revision() {
			t.Error("the swap did not change the revision")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the ConfigMap update was not picked up")
	}
	if _, err := e.Decide(ctx, hospitalInput); err != nil {
		t.Errorf("after the update: %v", err)
	}
}

package policy

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long Watch waits for a burst of edits to settle.
const DefaultDebounce = 250 * time.Millisecond

// Watch reloads the set whenever a file in its directory (or a
// sub-directory) changes, after debounce of quiet, until ctx ends. It watches
// directories, not files, so that editors that save by rename and Kubernetes
// ConfigMaps that swap a symlink are both seen. A broken edit is refused by
// Reload and logged; the previous set keeps serving.
func (e *Engine) Watch(ctx context.Context, debounce time.Duration) error {
	root := e.src.Dir()
	if root == "" {
		return errNotDir
	}
	if debounce <= 0 {
		debounce = DefaultDebounce
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	addTree := func() {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() {
				if p != root && strings.HasPrefix(d.Name(), ".") && d.Name() != "..data" {
					return fs.SkipDir
				}
				_ = w.Add(p)
			}
			return nil
		})
	}
	addTree()
	if e.opts.OnWatching != nil {
		e.opts.OnWatching()
	}

	timer := time.NewTimer(debounce)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Has(fsnotify.Create) {
				addTree() // a new sub-directory, or a swapped symlink target
			}
			timer.Reset(debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			e.log.Warn("policy watcher error", "source", e.src.String(), "error", err.Error())
		case <-timer.C:
			_, _ = e.Reload(ctx)
		}
	}
}

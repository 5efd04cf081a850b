package content

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watcher reports what changes in a content folder, in settled batches.
// Its exported fields are its configuration.
type Watcher struct {
	Dir     string
	Quiet   time.Duration // read after this long without events; 0 means 100ms
	MaxWait time.Duration // but no later than this after the first event; 0 means 1s
	Settle  time.Duration // a file must keep its size and mtime this long; 0 means 25ms
	Logger  *slog.Logger  // nil means slog.Default()

	fw        *fsnotify.Watcher
	closeOnce sync.Once
}

// Batch is one set of changed paths, relative to the folder and
// slash-separated. Rescan says events were lost and the whole folder must be
// scanned again.
type Batch struct {
	Paths  []string
	Rescan bool
}

// pending is the set of paths events have named and not yet been applied.
// The fsnotify goroutine only adds to it; the debounce loop drains it.
type pending struct {
	mu     sync.Mutex
	paths  map[string]bool
	rescan bool
	notify chan struct{}
}

func (p *pending) add(rel string) {
	p.mu.Lock()
	p.paths[rel] = true
	p.mu.Unlock()
	p.signal()
}

func (p *pending) requeue(rels []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, rel := range rels {
		p.paths[rel] = true
	}
}

func (p *pending) lost() {
	p.mu.Lock()
	p.rescan = true
	p.mu.Unlock()
	p.signal()
}

func (p *pending) signal() {
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

func (p *pending) take() Batch {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := Batch{Rescan: p.rescan, Paths: make([]string, 0, len(p.paths))}
	for rel := range p.paths {
		b.Paths = append(b.Paths, rel)
	}
	slices.Sort(b.Paths)
	p.paths = map[string]bool{}
	p.rescan = false
	return b
}

// Open starts watching the folder and every subfolder, so that nothing
// written after Open returns is missed. Run then reports the changes.
func (w *Watcher) Open() error {
	fw, err := fsnotify.NewBufferedWatcher(4096)
	if err != nil {
		return fmt.Errorf("watch %s: %w", w.Dir, err)
	}
	if err := w.addTree(fw, w.Dir, nil); err != nil {
		fw.Close()
		return fmt.Errorf("watch %s: %w", w.Dir, err)
	}
	w.fw = fw
	return nil
}

// Close stops watching. Run returns soon after.
func (w *Watcher) Close() error {
	var err error
	w.closeOnce.Do(func() {
		if w.fw != nil {
			err = w.fw.Close()
		}
	})
	return err
}

// Run reports changes until ctx is done or the Watcher is closed, calling
// apply with each batch once its files have settled. apply runs on Run's
// goroutine, never concurrently with itself; events keep being collected
// meanwhile, so a slow apply cannot make the kernel's event queue overflow.
// Run opens the Watcher if Open was not called, and closes it on return.
func (w *Watcher) Run(ctx context.Context, apply func(context.Context, Batch)) error {
	quiet, maxWait, settle := w.Quiet, w.MaxWait, w.Settle
	if quiet <= 0 {
		quiet = 100 * time.Millisecond
	}
	if maxWait <= 0 {
		maxWait = time.Second
	}
	if settle <= 0 {
		settle = 25 * time.Millisecond
	}
	log := w.Logger
	if log == nil {
		log = slog.Default()
	}
	if w.fw == nil {
		if err := w.Open(); err != nil {
			return err
		}
	}
	fw := w.fw
	pend := &pending{paths: map[string]bool{}, notify: make(chan struct{}, 1)}

	var wg sync.WaitGroup
	stopped := make(chan struct{})
	wg.Go(func() {
		defer close(stopped)
		w.collect(ctx, fw, pend, log)
	})
	defer func() {
		w.Close() // closes the channels collect reads, so it returns
		wg.Wait()
	}()

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var first, last time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-stopped: // closed
			return nil
		case <-pend.notify:
			now := time.Now()
			if first.IsZero() {
				first = now
			}
			last = now
			timer.Reset(min(quiet, maxWait-now.Sub(first)))
		case <-timer.C:
			now := time.Now()
			if wait := min(quiet-now.Sub(last), maxWait-now.Sub(first)); wait > 0 {
				timer.Reset(wait)
				continue
			}
			b := pend.take()
			ready, busy := settled(w.Dir, b.Paths, settle)
			pend.requeue(busy)
			first = time.Time{}
			if len(busy) > 0 {
				first, last = now, now
				timer.Reset(quiet)
			}
			if len(ready) > 0 || b.Rescan {
				apply(ctx, Batch{Paths: ready, Rescan: b.Rescan})
			}
		}
	}
}

// collect turns fsnotify events into pending paths. A new folder is watched
// and walked at once, so files created in it before its watch existed are
// not missed.
func (w *Watcher) collect(ctx context.Context, fw *fsnotify.Watcher, pend *pending, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-fw.Events:
			if !ok {
				return
			}
			rel, ok := w.relative(ev.Name)
			if !ok || hiddenPath(rel) {
				continue
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
					if err := w.addTree(fw, ev.Name, pend); err != nil {
						log.Warn("cannot watch new folder", "dir", rel, "reason", err)
					}
				}
			}
			pend.add(rel)
		case err, ok := <-fw.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				log.Warn("file events were lost; rescanning the folder", "dir", w.Dir)
				pend.lost()
				continue
			}
			log.Error("watching failed", "dir", w.Dir, "reason", err)
		}
	}
}

// addTree watches root and every non-hidden folder under it. With pend set it
// also reports every file found, for folders that appear after start.
func (w *Watcher) addTree(fw *fsnotify.Watcher, root string, pend *pending) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			return nil
		}
		if p != w.Dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			if pend != nil {
				if rel, ok := w.relative(p); ok {
					pend.add(rel)
				}
			}
			return nil
		}
		if err := fw.Add(p); err != nil {
			if p == root {
				return err
			}
			return fmt.Errorf("watch %s: %w", p, err)
		}
		return nil
	})
}

func (w *Watcher) relative(abs string) (string, bool) {
	rel, err := filepath.Rel(w.Dir, abs)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// settled splits paths into those whose size and mtime (or absence) held
// still over the settle interval, and those still being written.
func settled(dir string, paths []string, settle time.Duration) (ready, busy []string) {
	type snap struct {
		size   int64
		mod    time.Time
		exists bool
	}
	look := func(rel string) snap {
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return snap{}
		}
		if fi.IsDir() {
			return snap{exists: true}
		}
		return snap{fi.Size(), fi.ModTime(), true}
	}
	before := make([]snap, len(paths))
	for i, rel := range paths {
		before[i] = look(rel)
	}
	time.Sleep(settle)
	for i, rel := range paths {
		after := look(rel)
		if after.exists == before[i].exists && after.size == before[i].size && after.mod.Equal(before[i].mod) {
			ready = append(ready, rel)
		} else {
			busy = append(busy, rel)
		}
	}
	return ready, busy
}

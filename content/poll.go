package content

import (
	"context"
	"io/fs"
	"time"
)

// poller is the source for folders inotify cannot watch: network and FUSE
// mounts send no events, and inotify's limits may be reached. It walks the
// folder every interval, exactly that often, and compares each article
// file's size, mtime and inode with the walk before. A path gone from one
// walk whose inode shows up at a new path in the same walk was renamed; the
// batch says so, and the article keeps its identity even if it was edited
// too. A file replaced by another of the same size and mtime (rsync -t) has
// a new inode, so it is read again.
type poller struct {
	w        *Watcher
	interval time.Duration
	prev     map[string]polled // run's goroutine only, after newPoller
	missing  bool
}

// polled is what one walk saw of one file.
type polled struct {
	size int64
	mod  int64 // UnixNano
	key  fileKey
}

// newPoller takes the first walk now, so that changes made after it
// returns are seen by the first poll.
func (w *Watcher) newPoller(interval time.Duration) (*poller, error) {
	p := &poller{w: w, interval: interval}
	snap, err := p.snapshot()
	if err != nil {
		return nil, err
	}
	p.prev = snap
	return p, nil
}

func (p *poller) close() error { return nil }

// rewatch has nothing to do: every walk sees every folder.
func (p *poller) rewatch() {}

func (p *poller) run(ctx context.Context) {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.poll()
		}
	}
}

// poll walks the folder once and reports what changed since the last walk.
func (p *poller) poll() {
	log := p.w.log
	cur, err := p.snapshot()
	switch {
	case err != nil:
		if !p.missing {
			p.missing = true
			log.Warn("content folder is missing; its articles are withdrawn until it is back", "dir", p.w.root, "reason", err)
		}
		cur = map[string]polled{}
	case p.missing:
		p.missing = false
		log.Info("content folder is back", "dir", p.w.root)
	}
	var changed []string
	gone := map[fileKey]string{}
	for rel, old := range p.prev {
		if _, ok := cur[rel]; !ok {
			changed = append(changed, rel)
			if old.key != (fileKey{}) {
				gone[old.key] = rel
			}
		}
	}
	renamed := map[string]string{}
	for rel, now := range cur {
		old, ok := p.prev[rel]
		if ok && old == now {
			continue
		}
		changed = append(changed, rel)
		if from, ok := gone[now.key]; ok && now.key != (fileKey{}) {
			renamed[rel] = from
		}
	}
	p.prev = cur
	if len(changed) > 0 {
		p.w.pend.addAll(changed, renamed)
	}
}

// snapshot walks the folder, as the Library does, and records every article file.
func (p *poller) snapshot() (map[string]polled, error) {
	w := p.w
	out := map[string]polled{}
	err := w.walk.walk(w.root, func(abs string, fi fs.FileInfo) error {
		if fi.IsDir() {
			return nil
		}
		if rel, ok := w.relative(abs); ok {
			out[rel] = polled{fi.Size(), fi.ModTime().UnixNano(), keyOf(fi)}
		}
		return nil
	})
	return out, err
}

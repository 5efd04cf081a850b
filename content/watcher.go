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
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

const (
	// fallbackPoll is the polling interval used when inotify cannot be.
	fallbackPoll = 2 * time.Second
	// missingRetry is how often a vanished content folder is looked for.
	missingRetry = 500 * time.Millisecond
	// writerGrace bounds how long a file held open for writing, unchanged,
	// is waited for before it is read as it is (a program that never closes it).
	writerGrace = 10 * time.Second
)

// Watcher reports what changes in a content folder, in settled batches.
// Its exported fields are its configuration.
//
// Changes come from inotify (through fsnotify), or from walking the folder
// every Poll interval where inotify sees nothing (NFS, SMB, FUSE, Docker
// Desktop mounts) or cannot be set up (its limits reached). Either way the
// collecting goroutine only records paths; Run reads nothing itself, and the
// caller's apply does the parsing, so a slow parse cannot make the kernel's
// event queue overflow.
type Watcher struct {
	Dir            string
	Quiet          time.Duration // read after this long without events; 0 means 100ms
	MaxWait        time.Duration // but no later than this after the first event; 0 means 1s
	Settle         time.Duration // a file must keep its size and mtime this long; 0 means 25ms
	Poll           time.Duration // walk the folder this often instead of using inotify; 0 means inotify
	Rescan         time.Duration // ask for a full rescan this often, repairing anything missed; 0 never
	FollowSymlinks bool          // watch folders reached through symlinks
	Logger         *slog.Logger  // nil means slog.Default()

	setupOnce sync.Once
	root      string // Dir, absolute and clean
	log       *slog.Logger
	walk      *walker
	pend      *pending
	closed    chan struct{}
	closeOnce sync.Once
	degrade   chan error // the notifier hit a watch limit after start: switch to polling
	limitOnce sync.Once  // the watch-limit advice is logged once

	mu  sync.Mutex
	src source

	hold chan struct{} // tests only: the notifier reads no event until this is closed
}

// Batch is one set of changed paths, relative to the folder and
// slash-separated. Rescan says events were lost, or a periodic
// reconciliation is due, and the whole folder must be scanned again.
// Renamed maps a new path to the old one for renames the watcher saw as
// such (the poller, by inode).
type Batch struct {
	Paths   []string
	Rescan  bool
	Renamed map[string]string
}

// source is where changes come from: inotify or a poller. run records
// changed paths until ctx is done; rewatch makes sure every folder is
// watched again after events were lost.
type source interface {
	run(ctx context.Context)
	rewatch()
	close() error
}

// pending is the set of paths events have named and not yet been applied.
// The collecting goroutine only adds to it; Run's loop drains it.
type pending struct {
	mu      sync.Mutex
	paths   map[string]bool
	renamed map[string]string
	rescan  bool
	notify  chan struct{}
}

func newPending() *pending {
	return &pending{paths: map[string]bool{}, renamed: map[string]string{}, notify: make(chan struct{}, 1)}
}

func (p *pending) add(rel string) {
	p.mu.Lock()
	p.paths[rel] = true
	p.mu.Unlock()
	p.signal()
}

// addAll adds paths and the renames among them at once, so that both
// halves of a rename land in the same batch.
func (p *pending) addAll(rels []string, renamed map[string]string) {
	p.mu.Lock()
	for _, rel := range rels {
		p.paths[rel] = true
	}
	for to, from := range renamed {
		p.renamed[to] = from
	}
	p.mu.Unlock()
	p.signal()
}

func (p *pending) requeue(rels []string, renamed map[string]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, rel := range rels {
		p.paths[rel] = true
		if from, ok := renamed[rel]; ok {
			p.renamed[rel] = from
		}
	}
}

func (p *pending) rescanAll() {
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
	if len(p.renamed) > 0 {
		b.Renamed = p.renamed
		p.renamed = map[string]string{}
	}
	p.paths = map[string]bool{}
	p.rescan = false
	return b
}

func (w *Watcher) setup() {
	w.setupOnce.Do(func() {
		w.log = w.Logger
		if w.log == nil {
			w.log = slog.Default()
		}
		w.root = filepath.Clean(w.Dir)
		if abs, err := filepath.Abs(w.root); err == nil {
			w.root = abs
		}
		w.walk = newWalker(w.root, w.FollowSymlinks, w.log)
		w.pend = newPending()
		w.closed = make(chan struct{})
		w.degrade = make(chan error, 1)
	})
}

// Open starts watching the folder and every subfolder, so that nothing
// written after Open returns is missed. Run then reports the changes. If
// inotify cannot be set up because a system limit is reached, Open says so
// once in the log, with the setting to raise, and polls instead.
func (w *Watcher) Open() error {
	w.setup()
	w.mu.Lock()
	opened := w.src != nil
	w.mu.Unlock()
	if opened {
		return nil
	}
	if w.Poll > 0 {
		p, err := w.newPoller(w.Poll)
		if err != nil {
			return fmt.Errorf("watch %s: %w", w.root, err)
		}
		w.log.Info("polling the folder for changes", "dir", w.root, "every", w.Poll)
		return w.setSource(p)
	}
	n, err := w.newNotifier()
	if err == nil {
		return w.setSource(n)
	}
	if !watchLimit(err) {
		return fmt.Errorf("watch %s: %w", w.root, err)
	}
	w.warnLimit(err)
	p, perr := w.newPoller(fallbackPoll)
	if perr != nil {
		return fmt.Errorf("watch %s: %w", w.root, perr)
	}
	return w.setSource(p)
}

func (w *Watcher) setSource(src source) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-w.closed:
		src.close()
		return errors.New("watcher closed")
	default:
	}
	w.src = src
	return nil
}

func (w *Watcher) source() source {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.src
}

// watchLimit reports whether err means a system limit on inotify was hit:
// ENOSPC for watches, EMFILE for instances (or open files).
func watchLimit(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EMFILE)
}

// warnLimit says, once, that inotify's limit was reached and how to raise it.
func (w *Watcher) warnLimit(err error) {
	w.limitOnce.Do(func() {
		fix := "sysctl -w fs.inotify.max_user_watches=524288"
		if errors.Is(err, syscall.EMFILE) {
			fix = "sysctl -w fs.inotify.max_user_instances=1024 (or raise the open file limit, ulimit -n)"
		}
		w.log.Warn("inotify limit reached: cannot watch every folder; polling for changes instead",
			"dir", w.root, "every", fallbackPoll, "reason", err,
			"fix", fix+", and add it to /etc/sysctl.d/ to keep it")
	})
}

// Close stops watching. Run returns soon after.
func (w *Watcher) Close() error {
	w.setup()
	var err error
	w.closeOnce.Do(func() {
		close(w.closed)
		if src := w.source(); src != nil {
			err = src.close()
		}
	})
	return err
}

// Recheck reports paths (relative, slash-separated) as changed, as if
// events had named them: for files a scan found still being written. It is
// safe to call from any goroutine, apply included.
func (w *Watcher) Recheck(paths ...string) {
	w.setup()
	if len(paths) > 0 {
		w.pend.addAll(paths, nil)
	}
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
	if err := w.Open(); err != nil {
		return err
	}
	defer w.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	start := func(src source) (stop func()) {
		sctx, scancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			src.run(sctx)
		}()
		return func() {
			scancel()
			<-done
		}
	}
	stopSource := start(w.source())
	defer func() { stopSource() }()

	var rescan <-chan time.Time
	if w.Rescan > 0 {
		t := time.NewTicker(w.Rescan)
		defer t.Stop()
		rescan = t.C
	}
	st := &settler{dir: w.root, settle: settle, log: w.log, held: map[string]heldFile{}}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var first, last time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.closed:
			return nil
		case err := <-w.degrade:
			w.warnLimit(err)
			stopSource()
			w.source().close()
			p, perr := w.newPoller(fallbackPoll)
			if perr != nil {
				return fmt.Errorf("watch %s: cannot poll either: %w", w.root, perr)
			}
			if err := w.setSource(p); err != nil {
				return nil // closed meanwhile
			}
			stopSource = start(p)
			w.pend.rescanAll() // what changed before the poller's first walk
		case <-rescan:
			w.pend.rescanAll()
		case <-w.pend.notify:
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
			b := w.pend.take()
			if b.Rescan {
				// Folders made while events were lost are watched from now on.
				w.source().rewatch()
			}
			ready, busy := st.split(b.Paths, now)
			w.pend.requeue(busy, b.Renamed)
			first = time.Time{}
			if len(busy) > 0 {
				first, last = now, now
				timer.Reset(quiet)
			}
			if len(ready) > 0 || b.Rescan {
				apply(ctx, Batch{Paths: ready, Rescan: b.Rescan, Renamed: renamesAmong(b.Renamed, ready)})
			}
		}
	}
}

// renamesAmong keeps the renames whose new path is in paths.
func renamesAmong(renamed map[string]string, paths []string) map[string]string {
	if len(renamed) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, p := range paths {
		if from, ok := renamed[p]; ok {
			out[p] = from
		}
	}
	return out
}

// relative returns abs relative to the folder, slash-separated, and false
// for the folder itself and anything outside it.
func (w *Watcher) relative(abs string) (string, bool) {
	rel, err := filepath.Rel(w.root, abs)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// notifier is the inotify source. Only new folders need work here: each is
// watched and walked at once, so files made in it before its watch existed
// are not missed.
type notifier struct {
	w  *Watcher
	fw *fsnotify.Watcher

	mu   sync.Mutex
	dirs map[string]bool // folders watched, by absolute path

	missing bool // the content folder is gone; run's goroutine only
}

func (w *Watcher) newNotifier() (*notifier, error) {
	fw, err := fsnotify.NewBufferedWatcher(4096)
	if err != nil {
		return nil, err
	}
	n := &notifier{w: w, fw: fw, dirs: map[string]bool{}}
	if err := n.addTree(w.root, false); err != nil {
		fw.Close()
		return nil, err
	}
	return n, nil
}

func (n *notifier) close() error { return n.fw.Close() }

func (n *notifier) rewatch() {
	if err := n.addTree(n.w.root, false); err != nil && !errors.Is(err, fs.ErrNotExist) {
		n.failed(err)
	}
}

// run turns fsnotify events into pending paths, and always drains the
// Errors channel: fsnotify blocks on an unread error.
func (n *notifier) run(ctx context.Context) {
	w := n.w
	if w.hold != nil {
		select {
		case <-w.hold:
		case <-ctx.Done():
			return
		}
	}
	var retry <-chan time.Time // ticks while the content folder is missing
	var ticker *time.Ticker
	defer func() {
		if ticker != nil {
			ticker.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-retry:
			if n.back() {
				ticker.Stop()
				ticker, retry = nil, nil
			}
		case ev, ok := <-n.fw.Events:
			if !ok {
				return
			}
			if n.event(ev) && ticker == nil {
				ticker = time.NewTicker(missingRetry)
				retry = ticker.C
			}
		case err, ok := <-n.fw.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.log.Warn("file events were lost (the kernel's queue overflowed); rescanning the folder", "dir", w.root)
				w.pend.rescanAll()
				continue
			}
			w.log.Error("watching failed", "dir", w.root, "reason", err)
		}
	}
}

// event records one fsnotify event. It reports whether the content folder
// itself has just gone missing.
func (n *notifier) event(ev fsnotify.Event) (missing bool) {
	w := n.w
	if ev.Name == w.root {
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			return n.rootGone()
		}
		return false
	}
	rel, ok := w.relative(ev.Name)
	if !ok || hiddenPath(rel) {
		return false
	}
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		// A folder moved away keeps its inotify watches, under its old name:
		// drop them, or a folder moved back in would be reported under stale paths.
		n.unwatch(ev.Name)
	}
	if ev.Has(fsnotify.Create) {
		if fi, err := w.walk.stat(ev.Name); err == nil && fi.IsDir() {
			if err := n.addTree(ev.Name, true); err != nil {
				n.failed(err)
			}
		}
	}
	w.pend.add(rel)
	return false
}

// rootGone handles the content folder being removed or moved away: its
// articles are withdrawn, and run looks for it until it is back.
func (n *notifier) rootGone() bool {
	w := n.w
	n.unwatch(w.root)
	if fi, err := os.Stat(w.root); err == nil && fi.IsDir() {
		// Another folder took its place at once.
		n.rewatch()
		w.pend.rescanAll()
		return false
	}
	if !n.missing {
		n.missing = true
		w.log.Warn("content folder is missing; its articles are withdrawn until it is back", "dir", w.root)
	}
	w.pend.add(".")
	return true
}

// back watches the content folder again if it exists, reporting whether it does.
func (n *notifier) back() bool {
	w := n.w
	fi, err := os.Stat(w.root)
	if err != nil || !fi.IsDir() {
		return false
	}
	if err := n.addTree(w.root, false); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			n.failed(err)
		}
		return false
	}
	n.missing = false
	w.log.Info("content folder is back; watching it again", "dir", w.root)
	w.pend.rescanAll()
	return true
}

// failed handles an error adding a watch after start: at a system limit the
// Watcher switches to polling rather than silently missing the folder.
func (n *notifier) failed(err error) {
	if watchLimit(err) {
		select {
		case n.w.degrade <- err:
		default:
		}
		return
	}
	n.w.log.Warn("cannot watch folder", "reason", err)
}

// addTree watches root and every folder under it. With report set it also
// reports every article file found, for folders that appear after start.
func (n *notifier) addTree(root string, report bool) error {
	w := n.w
	walk := w.walk.walkFolders // at start, without a stat of every file
	if report {
		walk = w.walk.walk
	}
	return walk(root, func(p string, fi fs.FileInfo) error {
		if !fi.IsDir() {
			if rel, ok := w.relative(p); ok && report {
				w.pend.add(rel)
			}
			return nil
		}
		if err := n.fw.Add(p); err != nil {
			if p == root || watchLimit(err) {
				return fmt.Errorf("watch %s: %w", p, err)
			}
			w.log.Warn("cannot watch folder", "dir", p, "reason", err)
			return filepath.SkipDir
		}
		n.mu.Lock()
		n.dirs[p] = true
		n.mu.Unlock()
		return nil
	})
}

// unwatch drops the watches on dir and every folder under it, if any.
func (n *notifier) unwatch(dir string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.dirs[dir] {
		return
	}
	for d := range n.dirs {
		if d == dir || strings.HasPrefix(d, dir+string(filepath.Separator)) {
			delete(n.dirs, d)
			_ = n.fw.Remove(d) // inotify may have dropped it already
		}
	}
}

// settler decides which changed paths can be read now.
//
// A file is ready when its size, mtime and inode hold still over the settle
// interval and no process has it open for writing. The second test is what
// keeps a slow writer (scp, a browser download, a program writing in chunks
// with pauses longer than Quiet) from being published half-written: no
// timing rule can tell a writer's pause from the end of a copy without
// making every copy wait as long as the longest pause, but the kernel knows
// whether the file is still open for writing (see openForWriting). Where it
// cannot tell (network file systems, files of another user), timing alone
// decides, and a writer pausing longer than Quiet may be seen in between
// (published, then updated under the same id). A file held open but
// unchanged for writerGrace is read anyway, so one that is never closed
// still appears.
type settler struct {
	dir    string
	settle time.Duration
	log    *slog.Logger
	held   map[string]heldFile // files found open for writing; Run's goroutine only
}

type heldFile struct {
	look  look
	since time.Time
}

// look is what a stat says of a path, enough to see it change.
type look struct {
	exists, dir bool
	size        int64
	mod         time.Time
	key         fileKey
}

func (s *settler) look(rel string) look {
	fi, err := os.Stat(filepath.Join(s.dir, filepath.FromSlash(rel)))
	if err != nil {
		return look{}
	}
	if fi.IsDir() {
		return look{exists: true, dir: true}
	}
	return look{exists: true, size: fi.Size(), mod: fi.ModTime(), key: keyOf(fi)}
}

// split divides paths into those ready to read and those still changing.
func (s *settler) split(paths []string, now time.Time) (ready, busy []string) {
	before := make([]look, len(paths))
	for i, rel := range paths {
		before[i] = s.look(rel)
	}
	time.Sleep(s.settle)
	for i, rel := range paths {
		after := s.look(rel)
		if after != before[i] {
			delete(s.held, rel)
			busy = append(busy, rel)
			continue
		}
		if after.exists && !after.dir && IsArticleFile(rel) && s.writing(rel, after, now) {
			busy = append(busy, rel)
			continue
		}
		delete(s.held, rel)
		ready = append(ready, rel)
	}
	return ready, busy
}

// writing reports whether the file at rel should be waited for because a
// process still has it open for writing.
func (s *settler) writing(rel string, l look, now time.Time) bool {
	writing, _ := openForWriting(filepath.Join(s.dir, filepath.FromSlash(rel)))
	if !writing {
		return false
	}
	h, ok := s.held[rel]
	if !ok || h.look != l {
		// Any change restarts the grace period.
		h = heldFile{look: l, since: now}
		s.held[rel] = h
	}
	if now.Sub(h.since) < writerGrace {
		return true
	}
	s.log.Warn("file is still open for writing but has not changed for a while; reading it as it is",
		"file", rel, "waited", writerGrace)
	return false
}

package content

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
)

// DefaultMaxFileSize is the largest article file read unless configured otherwise.
const DefaultMaxFileSize = 10 << 20

const (
	// A path that disappears and comes back within this window (an editor's
	// delete-and-rewrite, a sync tool's replace) keeps its identity.
	recreateWindow = 10 * time.Minute
	// Tombstones are forgotten after this long.
	tombstoneTTL = 30 * 24 * time.Hour
)

// ErrTooLarge is reported for files over the configured maximum size.
var ErrTooLarge = errors.New("file too large")

// Identity is what a Library remembers of one path across restarts.
type Identity struct {
	ID        string    `json:"id"`
	Slug      string    `json:"slug"`
	FirstSeen time.Time `json:"first_seen"`
	Hash      string    `json:"hash"`
	Changed   time.Time `json:"changed,omitzero"` // last time the hash changed after first sight
	Deleted   time.Time `json:"deleted,omitzero"` // set while the file is gone
}

// IdentityStore keeps identities across restarts. package store implements it.
type IdentityStore interface {
	LoadIdentities() (map[string]Identity, error)
	SaveIdentities(put map[string]Identity, del []string) error
}

// LibraryOptions configures a Library.
type LibraryOptions struct {
	MaxFileSize    int64            // 0 means DefaultMaxFileSize
	Logger         *slog.Logger     // nil means slog.Default()
	Now            func() time.Time // nil means time.Now
	FollowSymlinks bool             // enter symlinked folders, and follow symlinks out of the folder
	BodyDir        string           // where article bodies are kept, out of memory; empty means os.TempDir()
	// KeepBodies, when set and the IdentityStore is a ParsedStore too, keeps
	// the bodies in files named KeepBodies.<random> (BodyDir is then unused)
	// and what every file parsed to in the store, so that a restart parses
	// only what changed meanwhile (parsecache.go).
	KeepBodies string
	// DeferMarkdown leaves the body of a Markdown article whose front
	// matter gives its title unrendered until it is first read (LoadHTML,
	// or LoadSummary without a summary in the front matter): most of a
	// first start's work at large folders, where a feed shows few of
	// them. For a server; an export that writes every article's page
	// renders every body anyway, and faster on every core while reading.
	DeferMarkdown bool
}

// Library is the in-memory index of a content folder: the last good parse of
// every article file, with identities kept stable through an IdentityStore.
// It is safe for concurrent use.
type Library struct {
	dir     string
	store   IdentityStore
	log     *slog.Logger
	maxSize int64
	now     func() time.Time
	walk    *walker

	mu        sync.Mutex
	ids       map[string]Identity // by path, tombstones included
	tombs     map[string][]string // tombstoned paths by content hash, to find renames without a look at every path
	slugs     map[string]string   // slug -> path, live identities only
	articles  articleSet          // by path, and in feed order for Articles (articleset.go)
	problems  map[string]string   // by path: why the file's current bytes were not used
	stats     map[string]fileStat // by path: size, mtime and inode when last read
	unsettled []string            // files Scan found still open for writing, not read
	workers   int                 // goroutines that load files in a scan; 0 means GOMAXPROCS
	flushAt   int                 // writes a scan holds before saving them; 0 means scanFlush
	learned   *learning           // boilerplate learned from plain-text files (boilerplate.go)
	bodies    *bodyFile           // the articles' body HTML (bodies.go)
	bodyDir   string              // where body files are made
	bodyWaste int64               // replaced bodies' bytes that make the body file worth compacting
	kept      *keptCache          // the parse cache, if kept (parsecache.go)
	deferMD   bool                // LibraryOptions.DeferMarkdown
}

// fileStat is what tells, without reading, that a file has not changed.
type fileStat struct {
	size int64
	mod  int64   // UnixNano
	key  fileKey // a same-size, same-mtime file renamed over it (rsync -t) is new
}

func statOf(fi fs.FileInfo) fileStat {
	return fileStat{fi.Size(), fi.ModTime().UnixNano(), keyOf(fi)}
}

// OpenLibrary prepares a Library for the folder dir. Call Scan to read it.
func OpenLibrary(dir string, store IdentityStore, opts LibraryOptions) (*Library, error) {
	// The store's three kinds of record are read, and the boilerplate
	// learned, at once: at 100,000 articles each takes a good part of a
	// second.
	var (
		ids                map[string]Identity
		learned            = NewLearned(nil)
		bodyFileName       string
		renderedIndex      []byte
		idErr, fpErr, rErr error
		wg                 sync.WaitGroup
	)
	wg.Go(func() { ids, idErr = store.LoadIdentities() })
	bs, learns := store.(BoilerplateStore)
	if learns {
		wg.Go(func() {
			var files map[string][]Fingerprint
			if files, fpErr = bs.LoadFingerprints(); fpErr == nil {
				learned = NewLearned(files)
			}
		})
	}
	ps, caches := store.(ParsedStore)
	caches = caches && opts.KeepBodies != ""
	if caches {
		wg.Go(func() {
			rErr = ps.ViewParsed(func(get func(string) []byte) error {
				bodyFileName = string(get(bodyFileKey))
				renderedIndex = bytes.Clone(get(renderedKey))
				return nil
			})
		})
	}
	wg.Wait()
	if fpErr != nil {
		fpErr = fmt.Errorf("load learned boilerplate: %w", fpErr)
	}
	if rErr != nil {
		rErr = fmt.Errorf("load parse cache: %w", rErr)
	}
	if err := errors.Join(idErr, fpErr, rErr); err != nil {
		return nil, err
	}
	l := &Library{
		dir:      dir,
		store:    store,
		log:      opts.Logger,
		maxSize:  opts.MaxFileSize,
		now:      opts.Now,
		ids:      ids,
		slugs:    make(map[string]string, len(ids)),
		articles: newArticleSet(),
		problems: map[string]string{},
		stats:    map[string]fileStat{},
		deferMD:  opts.DeferMarkdown,
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	if l.maxSize <= 0 {
		l.maxSize = DefaultMaxFileSize
	}
	if l.now == nil {
		l.now = time.Now
	}
	l.walk = newWalker(dir, opts.FollowSymlinks, l.log)
	l.learned = openLearning(bs, learned, ids)
	l.bodyDir, l.bodyWaste = opts.BodyDir, defaultBodyWaste
	var err error
	if caches {
		l.kept, l.bodies, err = openKeptCache(ps, opts.KeepBodies, bodyFileName, l.log)
		if err == nil && l.kept.usable {
			l.bodies.loadRenderedIndex(renderedIndex)
		}
	} else {
		l.bodies, err = newBodyFile(l.bodyDir)
	}
	if err != nil {
		return nil, err
	}
	l.tombs = map[string][]string{}
	for p, id := range ids {
		if id.Deleted.IsZero() {
			l.slugs[id.Slug] = p
		} else {
			l.tombs[id.Hash] = append(l.tombs[id.Hash], p)
		}
	}
	return l, nil
}

// Dir returns the content folder.
func (l *Library) Dir() string { return l.dir }

// Close saves the parse cache records still queued and releases the file
// that holds the articles' bodies. Articles returned before cannot load
// their HTML afterwards.
func (l *Library) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.kept != nil {
		l.kept.saveRendered(l.bodies)
		l.kept.close() // the queued parse cache records are saved first
		l.kept = nil
	}
	return l.bodies.close()
}

// Scan walks the whole folder and brings the index in line with it: new and
// changed files are read (unchanged size, mtime and inode are not re-read),
// vanished ones removed. A changed file still open for writing is left as it
// was and listed by Unsettled, for the caller to apply once it settles.
// It reports whether any article changed.
func (l *Library) Scan(ctx context.Context) (bool, error) {
	// Sized for what the state knew, so that a first scan after a restart
	// does not grow the maps step by step; each file's stat as the Library
	// keeps it (a FileInfo is some 200 bytes more, about 20 MB at 100,000
	// files, held through the scan).
	present := make(map[string]fileStat, len(l.ids))
	err := l.walk.walk(l.dir, func(p string, fi fs.FileInfo) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !fi.IsDir() {
			present[l.rel(p)] = statOf(fi)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("scan %s: %w", l.dir, err)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.stats) == 0 {
		l.stats = make(map[string]fileStat, len(present))
		l.articles.reserve(len(present))
	}
	tx := l.begin()
	for p := range l.articles.byPath {
		if _, ok := present[p]; !ok {
			tx.remove(p)
		}
	}
	for p, id := range l.ids {
		if _, ok := present[p]; !ok && id.Deleted.IsZero() {
			tx.remove(p)
		}
	}
	for p := range l.problems {
		if _, ok := present[p]; !ok {
			delete(l.problems, p)
			delete(l.stats, p)
		}
	}
	files := make([]scanFile, 0, len(present))
	for p, st := range present {
		files = append(files, scanFile{p, st, true})
	}
	// In path order, the store's keys: each save of a first scan then adds
	// to the end of its trees rather than rewriting pages all over them
	// (and mapping them all in), and a restart reads the records in order.
	slices.SortFunc(files, func(a, b scanFile) int { return strings.Compare(a.rel, b.rel) })
	tx.quiet = len(l.ids) == 0 && len(files) >= quietScan
	if err := tx.upsertAll(ctx, files); err != nil {
		// What was stored so far is kept, as when a scan meets a bad file.
		return tx.changed, errors.Join(fmt.Errorf("scan %s: %w", l.dir, err), tx.commit())
	}
	for p, id := range l.ids {
		if !id.Deleted.IsZero() && tx.now.Sub(id.Deleted) > tombstoneTTL {
			l.forget(p)
			tx.del = append(tx.del, p)
		}
	}
	if tx.restored > 0 {
		l.log.Info("articles taken from the parse cache, unchanged since the last run", "count", tx.restored)
	}
	if tx.added > 0 {
		l.log.Info("articles added by a first scan (each logged at level debug)", "count", tx.added)
	}
	return tx.changed, tx.commit()
}

// Unsettled returns, and forgets, the files the last scans found still open
// for writing and so did not read.
func (l *Library) Unsettled() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.unsettled
	l.unsettled = nil
	return out
}

// ApplyBatch applies one Watcher batch: a full Scan when the watcher lost
// events or asks for reconciliation, else Apply of its paths, with each
// rename the watcher saw carrying its article's identity to the new path.
func (l *Library) ApplyBatch(ctx context.Context, b Batch) (bool, error) {
	if b.Rescan {
		return l.Scan(ctx)
	}
	return l.apply(ctx, b.Paths, b.Renamed)
}

// Apply re-reads the given paths (relative to the folder, slash-separated):
// files are read or removed, folders walked or, when gone, everything under
// them removed; "." is the whole folder. It reports whether any article
// changed. Work is proportional to the paths given.
func (l *Library) Apply(ctx context.Context, paths []string) (bool, error) {
	return l.apply(ctx, paths, nil)
}

func (l *Library) apply(ctx context.Context, paths []string, renamed map[string]string) (bool, error) {
	var gone []string
	var files []scanFile // checked for writers when found by walking a folder: not settled by the watcher
	for _, rel := range paths {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if hiddenPath(rel) {
			continue
		}
		abs := filepath.Join(l.dir, filepath.FromSlash(rel))
		fi, err := l.walk.stat(abs)
		switch {
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, errSkipLink):
			gone = append(gone, rel)
		case err != nil:
			l.log.Warn("cannot read", "file", rel, "reason", err)
		case fi.IsDir():
			gone = append(gone, rel) // files under it that vanished
			err := l.walk.walk(abs, func(p string, fi fs.FileInfo) error {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if !fi.IsDir() {
					files = append(files, scanFile{l.rel(p), statOf(fi), true})
				}
				return nil
			})
			if err != nil && ctx.Err() != nil {
				return false, ctx.Err()
			}
		case fi.Mode().IsRegular() && IsArticleFile(rel):
			files = append(files, scanFile{rel, statOf(fi), false})
		}
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	tx := l.begin()
	tx.renamed = renamed
	// Each file once, as first named: a folder's walk may name a file the
	// watcher named too.
	keep := map[string]bool{}
	upserts := make([]scanFile, 0, len(files))
	for _, f := range files {
		if !keep[f.rel] {
			keep[f.rel] = true
			upserts = append(upserts, f)
		}
	}
	// Removals first, so that a rename's new path can take over the old identity.
	for _, g := range gone {
		for p := range l.livePaths(g) {
			if !keep[p] {
				tx.remove(p)
			}
		}
	}
	// As a scan: a folder copied in whole is read on every core.
	if err := tx.upsertAll(ctx, upserts); err != nil {
		return tx.changed, errors.Join(err, tx.commit())
	}
	return tx.changed, tx.commit()
}

// livePaths returns the known paths equal to p or under the folder p.
func (l *Library) livePaths(p string) map[string]bool {
	out := map[string]bool{}
	// A known file cannot also be a folder: no need to look through every path.
	_, article := l.articles.byPath[p]
	_, problem := l.problems[p]
	if id, ok := l.ids[p]; article || problem || ok && id.Deleted.IsZero() {
		out[p] = true
		return out
	}
	match := func(q string) bool { return q == p || strings.HasPrefix(q, p+"/") || p == "." }
	for q := range l.articles.byPath {
		if match(q) {
			out[q] = true
		}
	}
	for q, id := range l.ids {
		if id.Deleted.IsZero() && match(q) {
			out[q] = true
		}
	}
	for q := range l.problems {
		if match(q) {
			out[q] = true
		}
	}
	return out
}

// Articles returns every article read, drafts included, in FeedOrder
// (newest first). Ids are unique: a front matter id used by two files is
// honoured for one of them only. The slice is shared with other callers
// until the next change, which makes a new one, and so are the Articles
// it points at (a change stores new ones): neither may be changed.
func (l *Library) Articles() []*Article {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.articles.list()
	if l.articles.dups == 0 {
		return out
	}
	out = slices.Clone(out)
	seen := make(map[string]bool, len(out))
	for i, a := range out {
		if seen[a.ID] {
			own := l.ids[a.Path].ID
			c := *a // the stored one is shared, and stays as it is
			c.Warnings = append(c.Warnings[:len(c.Warnings):len(c.Warnings)],
				fmt.Sprintf("id %q is already used by another file; using %s", a.ID, own))
			c.ID = own
			out[i] = &c
		}
		seen[out[i].ID] = true
	}
	return out
}

// Problems returns, by path, why a file's current bytes are not published.
func (l *Library) Problems() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]string, len(l.problems))
	for p, r := range l.problems {
		out[p] = r
	}
	return out
}

func (l *Library) rel(abs string) string {
	r, err := filepath.Rel(l.dir, abs)
	if err != nil {
		return filepath.ToSlash(abs)
	}
	// Rel slices abs: a copy, or each path kept would keep the folder's
	// absolute path too (at 100,000 articles, 9 MB of a restart's heap).
	return strings.Clone(filepath.ToSlash(r))
}

// hiddenPath reports whether a relative, slash-separated path has a part
// starting with a dot ("." itself, the folder, aside): such files and
// folders are never articles.
func hiddenPath(rel string) bool {
	if rel == "." {
		return false
	}
	for _, part := range strings.Split(rel, "/") {
		if strings.HasPrefix(part, ".") {
			return true
		}
	}
	return false
}

// change collects one batch of identity writes so they reach the store in a
// single transaction.
type change struct {
	l       *Library
	now     time.Time
	put     map[string]Identity
	del     []string
	changed bool

	renamed map[string]string // new path -> old path, as the watcher saw it

	kept     map[string]cacheEntry // parse cache records to save (parsecache.go)
	unkept   []string              // and to remove
	restored int                   // articles a scan took from the parse cache
	batched  []string              // articles whose bodies wait for flushBodies

	// quiet: a first scan of a large folder, whose articles are logged
	// at level Debug, and how many it added at Info (added counts them).
	quiet bool
	added int
}

// quietScan is how many files a first scan must find to log its articles
// at level Debug: a line each, 100,000 lines for a large folder, drowned
// what a start has to say, and cost a first start 4% of its time.
const quietScan = 100

func (l *Library) begin() *change {
	return &change{l: l, now: l.now().UTC().Truncate(time.Second), put: map[string]Identity{}}
}

func (c *change) commit() error {
	saved, err := c.save()
	if saved && c.l.bodies.wasteful(c.l.bodyWaste) {
		c.l.compactBodies()
	}
	return err
}

// save writes what the change has collected so far to the store and
// starts collecting afresh; what fails to be written stays collected.
// saved reports whether the identities were written, the rest following.
func (c *change) save() (saved bool, err error) {
	c.flushBodies(false) // before the parse cache records pointing at them are queued
	if err := c.l.store.SaveIdentities(c.put, c.del); err != nil {
		return false, err
	}
	clear(c.put)
	c.del = nil
	err = c.settleBoilerplate()
	c.saveKept()
	clear(c.kept)
	c.unkept = nil
	return true, err
}

// saveIfFull saves what a scan has collected once it holds scanFlush writes.
func (c *change) saveIfFull() {
	if c.pending() < cmp.Or(c.l.flushAt, scanFlush) {
		return
	}
	if _, err := c.save(); err != nil {
		// Kept for the commit that ends the scan, which reports it.
		c.l.log.Warn("cannot save the scan's progress; trying again at its end", "reason", err)
	}
}

// pending is how many writes the change holds for the store.
func (c *change) pending() int {
	return len(c.put) + len(c.del) + len(c.kept) + len(c.unkept)
}

func (c *change) setID(p string, id Identity) {
	if old, ok := c.l.ids[p]; ok && old == id {
		return // a restart's scan meets every identity again
	}
	c.l.unindex(p)
	c.l.ids[p] = id
	if !id.Deleted.IsZero() {
		c.l.tombs[id.Hash] = append(c.l.tombs[id.Hash], p)
	}
	c.put[p] = id
}

// forget drops p's identity altogether.
func (l *Library) forget(p string) {
	l.unindex(p)
	delete(l.ids, p)
}

// unindex takes p out of the tombstone index, if it is there.
func (l *Library) unindex(p string) {
	old, ok := l.ids[p]
	if !ok || old.Deleted.IsZero() {
		return
	}
	paths := slices.DeleteFunc(l.tombs[old.Hash], func(q string) bool { return q == p })
	if len(paths) == 0 {
		delete(l.tombs, old.Hash)
	} else {
		l.tombs[old.Hash] = paths
	}
}

// remove turns p's identity into a tombstone and drops its article.
func (c *change) remove(p string) {
	l := c.l
	if old, ok := l.articles.del(p); ok {
		old.body.release()
		c.changed = true
		l.log.Info("article removed", "file", p)
	}
	delete(l.problems, p)
	delete(l.stats, p)
	c.unkeep(p)
	c.unlearn(p)
	if id, ok := l.ids[p]; ok && id.Deleted.IsZero() {
		id.Deleted = c.now
		if l.slugs[id.Slug] == p {
			delete(l.slugs, id.Slug)
		}
		c.setID(p, id)
	}
}

// upsert reads the file at p, unless its size, mtime and inode say it is
// unchanged. With checkWriting, for files no watcher has settled, a file
// still open for writing is left for later and listed by Unsettled.
func (c *change) upsert(p string, st fileStat, checkWriting bool) {
	if c.l.unchanged(p, st) {
		return
	}
	c.store(p, st, c.l.load(p, st, checkWriting, false))
}

// unchanged reports whether p's size, mtime and inode are those it had
// when last read.
func (l *Library) unchanged(p string, st fileStat) bool {
	old, ok := l.stats[p]
	return ok && old == st
}

// loaded is a file read, hashed and, when its bytes are new, parsed: the
// part of an upsert that only reads the Library, so that a scan can do it
// for many files at once.
type loaded struct {
	writing  bool  // still open for writing: not read
	err      error // why it could not be read
	hash     string
	same     bool   // the bytes of the article already held
	data     []byte // kept, for plain text only, to parse again if the folder's boilerplate moves
	parsed   Parsed
	parseErr error
	applied  []Fingerprint // the boilerplate the parse removed
	draft    *draft        // to finish once its chunk's paragraphs are recorded (prelearn)
}

// parsedNew reports whether ld holds a parse of new bytes: what store
// goes on to keep.
func (ld *loaded) parsedNew() bool {
	return ld.err == nil && !ld.writing && !ld.same && ld.parseErr == nil
}

// load does the reading part of an upsert of p; l.mu is held and nothing
// changes the Library meanwhile. With drafting, the file is read only as
// far as a draft (ld.draft), for prelearn to finish, and load reads
// nothing the Library holds, so that a scan stores one chunk while it
// loads the next: then store finds a file whose bytes it already holds.
func (l *Library) load(p string, st fileStat, checkWriting, drafting bool) loaded {
	// One open for both the writers' check and the read: at 100,000 files
	// a second open cost a second of the first scan.
	f, err := openRead(filepath.Join(l.dir, filepath.FromSlash(p)))
	if err != nil {
		return loaded{err: err}
	}
	defer f.Close()
	if checkWriting {
		if writing, _ := writingNow(f); writing {
			return loaded{writing: true}
		}
	}
	data, err := l.readFrom(f, st.size)
	if err != nil {
		return loaded{err: err}
	}
	sum := sha256.Sum256(data)
	ld := loaded{hash: hex.EncodeToString(sum[:])}
	if !drafting && l.holds(p, ld.hash) {
		ld.same = true
		return ld
	}
	d, err := draftOf(p, data, l.deferMD, true)
	if err != nil {
		ld.parseErr = err
		return ld
	}
	// Only a file with paragraph fingerprints can meet a change of its
	// folder's boilerplate before it is stored, and need parsing again.
	if d.text != nil {
		ld.data = data
	}
	if drafting {
		ld.draft = &d
		return ld
	}
	ld.finish(&d, l.learned, path.Dir(p))
	return ld
}

// holds reports whether the article of p was read from bytes of the
// given hash.
func (l *Library) holds(p, hash string) bool {
	id, known := l.ids[p]
	_, have := l.articles.byPath[p]
	return have && known && id.Deleted.IsZero() && id.Hash == hash
}

// finish completes the parse of d, a draft of a file of dir, with what
// lr has learned, and notes the boilerplate it removed.
func (ld *loaded) finish(d *draft, lr *learning, dir string) {
	ld.parsed = d.finish(lr.set.Folder(dir))
	ld.applied = lr.boilerplateIn(dir, ld.parsed.fingerprints)
	if len(ld.parsed.fingerprints) == 0 {
		ld.data = nil
	}
}

// store does the rest of an upsert of p with what load found.
func (c *change) store(p string, st fileStat, ld loaded) {
	l := c.l
	if ld.writing {
		l.unsettled = append(l.unsettled, p)
		return
	}
	if errors.Is(ld.err, ErrTooLarge) {
		l.stats[p] = st // not worth reading again until it changes
	}
	if ld.err != nil {
		c.fail(p, ld.err)
		return
	}
	l.stats[p] = st
	if ld.same || l.holds(p, ld.hash) {
		return
	}
	parsed, err := c.parse(p, ld)
	if err != nil {
		c.fail(p, err)
		return
	}
	delete(l.problems, p)
	id := c.identity(p, ld.hash)
	a := c.keepBody(build(p, id, parsed), &parsed)
	old, existed := l.articles.byPath[p]
	if existed {
		old.body.release()
	}
	l.articles.set(p, &a)
	c.keep(p, st, ld.hash, parsed, &a)
	c.flushBodies(true)
	c.changed = true
	switch {
	case existed:
		l.log.Info("article updated", "file", p, "title", a.Title)
	case c.quiet:
		c.added++
		l.log.Debug("article added", "file", p, "title", a.Title, "id", a.ID)
	default:
		l.log.Info("article added", "file", p, "title", a.Title, "id", a.ID)
	}
	for _, w := range parsed.Warnings {
		l.log.Warn("article read with a warning", "file", p, "warning", w)
	}
}

// scanChunk is how many files a scan loads at once before storing them:
// enough to keep every core busy, few enough that their bytes held
// meanwhile stay small.
const scanChunk = 256

// scanFlush is how many writes a scan holds before saving them to the
// store, as a commit does: a first scan of 100,000 files otherwise holds
// every identity and parse cache record to the end (60 MB, and twice that
// while they are encoded), and a crash before it ends loses them all.
const scanFlush = 8192

// scanFile is a file a scan or a change found.
type scanFile struct {
	rel   string
	st    fileStat
	check bool // not read while still open for writing
}

// upsertAll upserts files, loading them on every core a chunk at a time;
// l.mu is held.
func (c *change) upsertAll(ctx context.Context, files []scanFile) error {
	l := c.l
	files = slices.DeleteFunc(files, func(f scanFile) bool { return l.unchanged(f.rel, f.st) })
	if l.kept != nil && l.kept.usable {
		files = c.restoreAll(files)
		// Only the first scan can use them: the records are as old as the start.
		l.kept.usable = false
	}
	workers := l.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers == 1 {
		// One at a time, each file loaded with what the files before it taught.
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return err
			}
			c.upsert(f.rel, f.st, f.check)
			c.saveIfFull()
		}
		return nil
	}
	// Chunks load one after another on every core while the ones before
	// are stored, on one, in order: loading reads nothing the Library
	// holds (load with drafting). The loader runs up to two chunks ahead,
	// one loaded and waiting, one loading: one ahead, it waited for
	// every store slower than its load, and a first start at 100,000 kept
	// the two cores 1.6 busy over its second half.
	chunks := slices.Collect(slices.Chunk(files, scanChunk))
	ctx, cancel := context.WithCancel(ctx)
	ready := make(chan []loaded, 1)
	var loader sync.WaitGroup
	loader.Go(func() {
		defer close(ready)
		for _, chunk := range chunks {
			out := make([]loaded, len(chunk))
			parallel(workers, len(chunk), func(i int) {
				if ctx.Err() == nil {
					out[i] = l.load(chunk[i].rel, chunk[i].st, chunk[i].check, true)
				}
			})
			select {
			case ready <- out:
			case <-ctx.Done():
				return
			}
		}
	})
	defer func() {
		cancel()
		loader.Wait()
	}()
	for _, chunk := range chunks {
		out, ok := <-ready
		if err := ctx.Err(); err != nil || !ok {
			return err
		}
		c.prelearn(chunk, out, workers)
		for i, f := range chunk {
			c.store(f.rel, f.st, out[i])
		}
		c.saveIfFull()
	}
	return nil
}

// prelearn records the paragraphs of a chunk's loaded plain-text files
// in what their folders learned, then finishes every draft of the chunk on
// every core: each file is read with what its whole chunk teaches. (Parsed before
// recording, a quarter of the plain-text files of a first start at
// 100,000 were parsed again: their chunk changed their boilerplate.)
func (c *change) prelearn(chunk []scanFile, out []loaded, workers int) {
	lr := c.l.learned
	for i := range out {
		if ld := &out[i]; ld.draft != nil && ld.draft.text != nil && ld.parsedNew() {
			lr.record(chunk[i].rel, ld.draft.fingerprints())
		}
	}
	parallel(workers, len(out), func(i int) {
		if ld := &out[i]; ld.draft != nil {
			ld.finish(ld.draft, lr, path.Dir(chunk[i].rel))
			ld.draft = nil
		}
	})
}

func (l *Library) read(p string, size int64) ([]byte, error) {
	if size > l.maxSize {
		return nil, l.tooLarge(size)
	}
	f, err := openRead(filepath.Join(l.dir, filepath.FromSlash(p)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return l.readFrom(f, size)
}

func (l *Library) tooLarge(size int64) error {
	return fmt.Errorf("%w: %d bytes, over the limit of %d (--max-file-size)", ErrTooLarge, size, l.maxSize)
}

// readFrom reads the open file f, whose stat gave size, up to the size limit.
func (l *Library) readFrom(f io.Reader, size int64) ([]byte, error) {
	if size > l.maxSize {
		return nil, l.tooLarge(size)
	}
	// Sized from the stat, one byte over: one allocation (io.ReadAll's
	// growing from 512 bytes allocated about twice a file's size), and a
	// read that stops short at the stat's size is at the end of the file,
	// so that a file takes one read rather than a second one for io.EOF.
	// The file may grow between stat and read: never read past the limit.
	data := make([]byte, 0, size+1)
	for {
		if len(data) == cap(data) {
			data = slices.Grow(data, min(len(data), 1<<20))
		}
		n, err := f.Read(data[len(data):min(int64(cap(data)), l.maxSize+1)])
		data = data[:len(data)+n]
		switch {
		case int64(len(data)) > l.maxSize:
			return nil, fmt.Errorf("%w: over the limit of %d bytes (--max-file-size)", ErrTooLarge, l.maxSize)
		case err == io.EOF:
			return data, nil
		case err != nil:
			return nil, err
		case n > 0 && int64(len(data)) == size && len(data) < cap(data):
			return data, nil
		}
	}
}

// fail records why p could not be read. Its last good article, if any,
// stays published.
func (c *change) fail(p string, err error) {
	l := c.l
	reason := err.Error()
	if l.problems[p] == reason {
		return
	}
	l.problems[p] = reason
	if _, ok := l.articles.byPath[p]; ok {
		l.log.Error("cannot read article; keeping its last good version", "file", p, "reason", reason)
	} else {
		l.log.Error("cannot read article; skipped", "file", p, "reason", reason)
	}
}

// identity settles p's identity for content with the given hash: the same
// path keeps its id; a path that vanished a moment ago and came back, or a
// new path whose content matches a recently removed one (a rename), takes
// the old identity over; anything else is a new article.
func (c *change) identity(p, hash string) Identity {
	l := c.l
	id, ok := l.ids[p]
	switch {
	case ok && id.Deleted.IsZero():
		if id.Hash != hash {
			id.Hash, id.Changed = hash, c.now
		}
	case ok && (id.Hash == hash || c.now.Sub(id.Deleted) < recreateWindow):
		if id.Hash != hash {
			id.Hash, id.Changed = hash, c.now
		}
		id.Deleted = time.Time{}
		id.Slug = l.freeSlug(p, id.Slug)
	default:
		if from, old, found := c.renamedFrom(p, hash); found {
			id = old
			id.Deleted = time.Time{}
			id.Slug = l.freeSlug(p, slugFor(p))
			l.forget(from)
			c.del = append(c.del, from)
			delete(c.put, from)
			l.log.Info("article renamed", "from", from, "to", p)
		} else {
			id = Identity{ID: NewID(), FirstSeen: c.now, Hash: hash, Slug: l.freeSlug(p, slugFor(p))}
		}
	}
	l.slugs[id.Slug] = p
	c.setID(p, id)
	return id
}

// renamedFrom finds the identity the new path p takes over: that of the path
// the watcher saw renamed to p, if it was just removed; else a tombstone
// with the same content removed within the recreate window.
func (c *change) renamedFrom(p, hash string) (string, Identity, bool) {
	if from, ok := c.renamed[p]; ok {
		if id, ok := c.l.ids[from]; ok && !id.Deleted.IsZero() && c.now.Sub(id.Deleted) <= recreateWindow {
			return from, id, true
		}
	}
	var best string
	var bestID Identity
	for _, p := range c.l.tombs[hash] {
		id := c.l.ids[p]
		if id.Deleted.IsZero() || id.Hash != hash || c.now.Sub(id.Deleted) > recreateWindow {
			continue
		}
		if best == "" || id.Deleted.After(bestID.Deleted) || id.Deleted.Equal(bestID.Deleted) && p < best {
			best, bestID = p, id
		}
	}
	return best, bestID, best != ""
}

// freeSlug returns want if no other live path holds it, else want-2, want-3…
func (l *Library) freeSlug(p, want string) string {
	if want == "" {
		want = slugFor(p)
	}
	s := want
	for n := 2; ; n++ {
		if owner, ok := l.slugs[s]; !ok || owner == p {
			return s
		}
		s = want + "-" + strconv.Itoa(n)
	}
}

// slugFor turns a relative path into a URL path: the extension dropped,
// letters lowercased, anything but letters, digits, '-', '_' and '/' folded to '-'.
func slugFor(p string) string {
	p = strings.TrimSuffix(p, path.Ext(p))
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(p) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '/':
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-/")
	if s == "" {
		return "article"
	}
	return s
}

// build combines what the file says with what the store remembers.
func build(p string, id Identity, parsed Parsed) Article {
	a := Article{
		ID:       id.ID,
		Path:     p,
		Slug:     id.Slug,
		Title:    parsed.Title,
		Summary:  parsed.Summary,
		HTML:     parsed.HTML,
		Author:   parsed.Author,
		Tags:     parsed.Tags,
		Language: parsed.Language,
		Draft:    parsed.Draft,
		Hash:     id.Hash,
		Warnings: parsed.Warnings,
		Dropped:  parsed.Dropped,
	}
	if parsed.ID != "" {
		a.ID = parsed.ID
	}
	a.Published = PublishedDate(p, parsed, id.FirstSeen)
	a.Updated = parsed.Updated
	if a.Updated.IsZero() {
		a.Updated = a.Published
		if id.Changed.After(a.Updated) {
			a.Updated = id.Changed
		}
	}
	if a.Updated.Before(a.Published) {
		a.Updated = a.Published
	}
	return a
}

// PublishedDate is the date a file is published under: its own date (front
// matter or text), else a YYYY-MM-DD- file-name prefix, else firstSeen.
func PublishedDate(p string, parsed Parsed, firstSeen time.Time) time.Time {
	if !parsed.Date.IsZero() {
		return parsed.Date.UTC()
	}
	if t, _, ok := datePrefix(path.Base(p)); ok {
		return t
	}
	return firstSeen
}

// NewID returns a new random article id, a urn:uuid (RFC 9562 version 4).
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	// Written in place: fmt.Sprintf took 2 µs an id, on the core that
	// stores a first scan's articles in order.
	const prefix = "urn:uuid:"
	var out [len(prefix) + 36]byte
	at := copy(out[:], prefix)
	for i, group := range [][]byte{b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]} {
		if i > 0 {
			out[at] = '-'
			at++
		}
		at += hex.Encode(out[at:], group)
	}
	return string(out[:])
}

// keepBody moves a's body HTML, or the Markdown source of a body parsed
// deferred, to the body file, to be written with the change's others
// (flushBodies).
func (c *change) keepBody(a Article, parsed *Parsed) Article {
	var ref bodyRef
	if parsed.deferred {
		ref = c.l.bodies.putBatched(a.Summary, parsed.source, true)
	} else {
		ref = c.l.bodies.putBatched(a.Summary, a.HTML, false)
	}
	c.batched = append(c.batched, a.Path)
	a.Summary, a.HTML, a.body = "", "", ref
	return a
}

// flushBodies writes the bodies kept since the last flush, or with full
// only once they are maxPending bytes. Bodies it cannot write (a full
// disk) stay in memory and still publish; their parse cache records are
// dropped, as they would point at nothing.
func (c *change) flushBodies(full bool) {
	l := c.l
	if full && l.bodies.pendingSize() < maxPending {
		return
	}
	if err := l.bodies.flush(); err != nil {
		for _, p := range c.batched {
			l.log.Warn("cannot store article body on disk; keeping it in memory", "file", p, "reason", err)
			c.unkeep(p)
		}
	}
	c.batched = c.batched[:0]
}

// compactBodies copies the bodies still in use to a new body file when
// most of the old one is bodies since replaced. Articles handed out before
// keep reading the old file, which closes when the last of them is gone.
func (l *Library) compactBodies() {
	var fresh *bodyFile
	var err error
	if l.kept != nil {
		fresh, err = createKeptBodyFile(l.kept.prefix)
	} else {
		fresh, err = newBodyFile(l.bodyDir)
	}
	if err != nil {
		l.log.Warn("cannot compact the article bodies", "reason", err)
		return
	}
	moved := make(map[string]*Article, len(l.articles.byPath))
	was := make(map[string]bodyRef, len(l.articles.byPath))
	for p, old := range l.articles.byPath {
		if old.body.file == nil {
			continue
		}
		was[p] = old.body
		a := *old // stored articles are shared: the moved one is new
		data, err := old.body.readRange(0, old.body.n)
		if err == nil {
			a.body, err = fresh.putRaw(data, old.body.sum)
			a.body.markdown = old.body.markdown // rendered again when next read
		}
		if err != nil {
			l.log.Warn("cannot compact the article bodies", "reason", err)
			_ = fresh.close()
			if fresh.kept {
				_ = os.Remove(fresh.f.Name())
			}
			return
		}
		moved[p] = &a
	}
	if l.kept != nil {
		l.moveKept(l.bodies, fresh, was, moved)
	}
	for p, a := range moved {
		l.articles.set(p, a)
	}
	l.bodies = fresh
}

// parallel calls fn(i) for every i in [0, n) on workers goroutines
// (GOMAXPROCS when workers <= 0), and returns when all calls have.
func parallel(workers, n int, fn func(i int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers == 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				fn(i)
			}
		})
	}
	wg.Wait()
}

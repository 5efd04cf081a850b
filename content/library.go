package content

import (
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
	"slices"
	"strconv"
	"strings"
	"sync"
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
	MaxFileSize int64            // 0 means DefaultMaxFileSize
	Logger      *slog.Logger     // nil means slog.Default()
	Now         func() time.Time // nil means time.Now
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

	mu       sync.Mutex
	ids      map[string]Identity // by path, tombstones included
	slugs    map[string]string   // slug -> path, live identities only
	articles map[string]Article  // by path
	problems map[string]string   // by path: why the file's current bytes were not used
	stats    map[string]fileStat // by path: size and mtime when last read
}

type fileStat struct {
	size int64
	mod  int64 // UnixNano
}

// OpenLibrary prepares a Library for the folder dir. Call Scan to read it.
func OpenLibrary(dir string, store IdentityStore, opts LibraryOptions) (*Library, error) {
	ids, err := store.LoadIdentities()
	if err != nil {
		return nil, err
	}
	l := &Library{
		dir:      dir,
		store:    store,
		log:      opts.Logger,
		maxSize:  opts.MaxFileSize,
		now:      opts.Now,
		ids:      ids,
		slugs:    map[string]string{},
		articles: map[string]Article{},
		problems: map[string]string{},
		stats:    map[string]fileStat{},
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
	for p, id := range ids {
		if id.Deleted.IsZero() {
			l.slugs[id.Slug] = p
		}
	}
	return l, nil
}

// Dir returns the content folder.
func (l *Library) Dir() string { return l.dir }

// Scan walks the whole folder and brings the index in line with it: new and
// changed files are read (unchanged size and mtime are not re-read), vanished
// ones removed. It reports whether any article changed.
func (l *Library) Scan(ctx context.Context) (bool, error) {
	present := map[string]fs.FileInfo{}
	err := filepath.WalkDir(l.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == l.dir {
				return err
			}
			l.log.Warn("cannot read", "file", p, "reason", err)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() {
			if p != l.dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !IsArticleFile(d.Name()) {
			return nil
		}
		fi, err := os.Stat(p) // follows a symlinked file
		if err != nil || !fi.Mode().IsRegular() {
			return nil
		}
		present[l.rel(p)] = fi
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("scan %s: %w", l.dir, err)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	tx := l.begin()
	for p := range l.articles {
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
	for p, fi := range present {
		tx.upsert(p, fi)
	}
	for p, id := range l.ids {
		if !id.Deleted.IsZero() && tx.now.Sub(id.Deleted) > tombstoneTTL {
			delete(l.ids, p)
			tx.del = append(tx.del, p)
		}
	}
	return tx.changed, tx.commit()
}

// Apply re-reads the given paths (relative to the folder, slash-separated):
// files are read or removed, folders walked or, when gone, everything under
// them removed. It reports whether any article changed.
func (l *Library) Apply(ctx context.Context, paths []string) (bool, error) {
	type found struct {
		rel string
		fi  fs.FileInfo
	}
	var gone []string
	var files []found
	for _, rel := range paths {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if hiddenPath(rel) {
			continue
		}
		abs := filepath.Join(l.dir, filepath.FromSlash(rel))
		fi, err := os.Stat(abs)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			gone = append(gone, rel)
		case err != nil:
			l.log.Warn("cannot read", "file", rel, "reason", err)
		case fi.IsDir():
			gone = append(gone, rel) // files under it that vanished
			_ = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return nil
				}
				if d.IsDir() && p != abs && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				if !d.IsDir() && IsArticleFile(d.Name()) {
					if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
						files = append(files, found{l.rel(p), fi})
					}
				}
				return nil
			})
		case fi.Mode().IsRegular() && IsArticleFile(rel):
			files = append(files, found{rel, fi})
		}
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	tx := l.begin()
	keep := map[string]bool{}
	for _, f := range files {
		keep[f.rel] = true
	}
	// Removals first, so that a rename's new path can take over the old identity.
	for _, g := range gone {
		for p := range l.livePaths(g) {
			if !keep[p] {
				tx.remove(p)
			}
		}
	}
	for _, f := range files {
		tx.upsert(f.rel, f.fi)
	}
	return tx.changed, tx.commit()
}

// livePaths returns the known paths equal to p or under the folder p.
func (l *Library) livePaths(p string) map[string]bool {
	out := map[string]bool{}
	match := func(q string) bool { return q == p || strings.HasPrefix(q, p+"/") || p == "." }
	for q := range l.articles {
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

// Articles returns a copy of every article read, drafts included, in no
// particular order. Ids are unique: a front matter id used by two files
// is honoured for one of them only.
func (l *Library) Articles() []Article {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Article, 0, len(l.articles))
	for _, a := range l.articles {
		out = append(out, a)
	}
	seen := make(map[string]bool, len(out))
	slices.SortFunc(out, func(a, b Article) int { return strings.Compare(a.Path, b.Path) })
	for i := range out {
		if seen[out[i].ID] {
			own := l.ids[out[i].Path].ID
			out[i].Warnings = append(out[i].Warnings[:len(out[i].Warnings):len(out[i].Warnings)],
				fmt.Sprintf("id %q is already used by another file; using %s", out[i].ID, own))
			out[i].ID = own
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
	return filepath.ToSlash(r)
}

func hiddenPath(rel string) bool {
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
}

func (l *Library) begin() *change {
	return &change{l: l, now: l.now().UTC().Truncate(time.Second), put: map[string]Identity{}}
}

func (c *change) commit() error {
	if err := c.l.store.SaveIdentities(c.put, c.del); err != nil {
		return err
	}
	return nil
}

func (c *change) setID(p string, id Identity) {
	c.l.ids[p] = id
	c.put[p] = id
}

// remove turns p's identity into a tombstone and drops its article.
func (c *change) remove(p string) {
	l := c.l
	if _, ok := l.articles[p]; ok {
		delete(l.articles, p)
		c.changed = true
		l.log.Info("article removed", "file", p)
	}
	delete(l.problems, p)
	delete(l.stats, p)
	if id, ok := l.ids[p]; ok && id.Deleted.IsZero() {
		id.Deleted = c.now
		if l.slugs[id.Slug] == p {
			delete(l.slugs, id.Slug)
		}
		c.setID(p, id)
	}
}

// upsert reads the file at p, unless its size and mtime say it is unchanged.
func (c *change) upsert(p string, fi fs.FileInfo) {
	l := c.l
	st := fileStat{fi.Size(), fi.ModTime().UnixNano()}
	if old, ok := l.stats[p]; ok && old == st {
		return
	}
	data, err := l.read(p, fi)
	if errors.Is(err, ErrTooLarge) {
		l.stats[p] = st // not worth reading again until it changes
	}
	if err != nil {
		c.fail(p, err)
		return
	}
	l.stats[p] = st
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	id, known := l.ids[p]
	if _, have := l.articles[p]; have && known && id.Deleted.IsZero() && id.Hash == hash {
		return
	}
	parsed, err := Parse(p, data)
	if err != nil {
		c.fail(p, err)
		return
	}
	delete(l.problems, p)
	id = c.identity(p, hash)
	a := build(p, id, parsed)
	_, existed := l.articles[p]
	l.articles[p] = a
	c.changed = true
	if existed {
		l.log.Info("article updated", "file", p, "title", a.Title)
	} else {
		l.log.Info("article added", "file", p, "title", a.Title, "id", a.ID)
	}
	for _, w := range parsed.Warnings {
		l.log.Warn("article read with a warning", "file", p, "warning", w)
	}
}

func (l *Library) read(p string, fi fs.FileInfo) ([]byte, error) {
	if fi.Size() > l.maxSize {
		return nil, fmt.Errorf("%w: %d bytes, over the limit of %d (--max-file-size)", ErrTooLarge, fi.Size(), l.maxSize)
	}
	f, err := os.Open(filepath.Join(l.dir, filepath.FromSlash(p)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The file may grow between stat and read: never read past the limit.
	data, err := io.ReadAll(io.LimitReader(f, l.maxSize+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > l.maxSize {
		return nil, fmt.Errorf("%w: over the limit of %d bytes (--max-file-size)", ErrTooLarge, l.maxSize)
	}
	return data, nil
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
	if _, ok := l.articles[p]; ok {
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
		if from, old, found := c.renamedFrom(hash); found {
			id = old
			id.Deleted = time.Time{}
			id.Slug = l.freeSlug(p, slugFor(p))
			delete(l.ids, from)
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

// renamedFrom finds a tombstone with the same content removed within the
// recreate window.
func (c *change) renamedFrom(hash string) (string, Identity, bool) {
	var best string
	var bestID Identity
	for p, id := range c.l.ids {
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
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

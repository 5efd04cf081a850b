package content

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"unicode"
	"unicode/utf8"
)

// Boilerplate learned from a folder: a paragraph of a plain-text file that
// recurs in enough other plain-text files of the same folder is the site's
// furniture (its name above every headline, its newsletter footer, its
// donation appeal), whatever it says. Each file contributes the fingerprints
// of its paragraphs once; counts are kept per folder, updated as files come
// and go, and persisted through a BoilerplateStore.

// Fingerprint identifies a paragraph up to case, white space, punctuation
// and digits, so that "© 2024 Valley Courier" and "© 2025 VALLEY COURIER!"
// are the same paragraph.
type Fingerprint uint64

// Boilerplate tells a parser which paragraphs the article's folder repeats.
type Boilerplate interface {
	// Repeats returns in how many files of the folder the paragraph with
	// fingerprint fp occurs, or 0 when it is not boilerplate there.
	Repeats(fp Fingerprint) int
}

// BoilerplateStore keeps the paragraph fingerprints of each plain-text file
// across restarts, so that the learned boilerplate is known before the
// folder is read again and a file deleted while dropfeed was stopped still
// takes its contributions away. package store implements it; a Library
// uses it when its IdentityStore implements it too.
type BoilerplateStore interface {
	LoadFingerprints() (map[string][]Fingerprint, error)
	SaveFingerprints(put map[string][]Fingerprint, del []string) error
}

const (
	// A paragraph is boilerplate when at least this many files of its folder
	// hold it...
	minRepeats = 3
	// ...and at least one in repeatShare of the folder's plain-text files
	// does, so that a stock sentence ("X did not respond to a request for
	// comment.") in a folder of thousands of stories is not taken for one.
	repeatShare = 20
	// Paragraphs with fewer letters are too common to learn from ("Yes.").
	minFingerprintLetters = 4
)

// repeatedReason is the Dropped reason for learned boilerplate.
func repeatedReason(n int) string {
	return fmt.Sprintf("repeated in %d files of this folder", n)
}

// fingerprintFold maps each ASCII byte to what fingerprintOf hashes for
// it: a letter lower-cased, a digit '0', anything else 0 (a gap).
var fingerprintFold = func() (t [utf8.RuneSelf]byte) {
	for c := range t {
		switch {
		case 'a' <= c && c <= 'z':
			t[c] = byte(c)
		case 'A' <= c && c <= 'Z':
			t[c] = byte(c) + 'a' - 'A'
		case '0' <= c && c <= '9':
			t[c] = '0'
		}
	}
	return t
}()

// fingerprintOf returns the fingerprint of a paragraph: FNV-1a over its
// letters case-folded, digits folded to 0 and every other run of
// characters turned into one space. It is 0, never learned, for a
// paragraph with too few letters.
func fingerprintOf(s string) Fingerprint {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	letters := 0
	gap := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			// One look-up where a switch of ranges took four compares.
			c = fingerprintFold[c]
			if c == 0 {
				gap = letters > 0
				continue
			}
			if c >= 'a' {
				letters++
			}
			if gap {
				h = (h ^ ' ') * prime
				gap = false
			}
			h = (h ^ uint64(c)) * prime
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case unicode.IsLetter(r):
			r = unicode.ToLower(r)
			letters++
		case unicode.IsDigit(r):
			r = '0'
		default:
			gap = letters > 0
			continue
		}
		if gap {
			h = (h ^ ' ') * prime
			gap = false
		}
		var buf [utf8.UTFMax]byte
		for _, b := range buf[:utf8.EncodeRune(buf[:], r)] {
			h = (h ^ uint64(b)) * prime
		}
	}
	if letters < minFingerprintLetters {
		return 0
	}
	if h == 0 {
		h = 1
	}
	return Fingerprint(h)
}

// Learned is the boilerplate learned from the plain-text files of one
// content folder, kept per folder (path.Dir of a file's path). It is not
// safe for concurrent use: a Library guards its own.
type Learned struct {
	files   map[string][]Fingerprint // by file path: its distinct paragraph fingerprints
	folders map[string]*folderCounts // by folder path
}

// folderCounts is how many files of one folder hold each fingerprint.
type folderCounts struct {
	files int
	paths map[string]bool // the files, so that relearning one folder need not look at every file
	// A fingerprint's count is how often it occurs in sorted plus its
	// delta. sorted holds each file's fingerprints, in order, and is
	// rebuilt when delta, the changes since, grows past an eighth of it: at
	// 100,000 articles, a map of every paragraph's count (almost all of
	// them 1) took 32 MB of a restart's 180 MB of heap.
	sorted []Fingerprint
	delta  map[Fingerprint]int
	// hot holds the fingerprints held by at least minRepeats files: the only
	// ones that may be boilerplate, and so the only ones to look at when
	// the folder's threshold moves.
	hot map[Fingerprint]bool
}

// NewLearned builds the learned boilerplate from the fingerprints of each
// plain-text file, by slash-separated path relative to the content folder
// (as BoilerplateStore.LoadFingerprints returns them).
func NewLearned(files map[string][]Fingerprint) *Learned {
	l := &Learned{files: make(map[string][]Fingerprint, len(files)), folders: map[string]*folderCounts{}}
	sizes := map[string]int{}
	for p, fps := range files {
		if len(fps) > 0 { // set keeps no folder for a file without
			sizes[path.Dir(p)] += len(fps)
		}
	}
	for dir, n := range sizes {
		f := newFolderCounts()
		f.sorted = make([]Fingerprint, 0, n)
		l.folders[dir] = f
	}
	for p, fps := range files {
		if len(fps) == 0 {
			continue
		}
		f := l.folders[path.Dir(p)]
		f.files++
		f.paths[p] = true
		f.sorted = append(f.sorted, fps...)
		l.files[p] = fps
	}
	// Sorted once for all, not merged file by file.
	for _, f := range l.folders {
		slices.Sort(f.sorted)
		for i := 0; i < len(f.sorted); {
			j := i + 1
			for j < len(f.sorted) && f.sorted[j] == f.sorted[i] {
				j++
			}
			if j-i >= minRepeats {
				f.hot[f.sorted[i]] = true
			}
			i = j
		}
	}
	return l
}

// Folder returns the boilerplate of the folder dir ("." for the top),
// for ParseIn. The view follows later changes to l.
func (l *Learned) Folder(dir string) Boilerplate {
	if f := l.folders[dir]; f != nil {
		return f
	}
	return noBoilerplate{}
}

// noBoilerplate is a folder with nothing learned.
type noBoilerplate struct{}

func (noBoilerplate) Repeats(Fingerprint) int { return 0 }

// set records fps as the fingerprints of the file p, replacing what it held.
func (l *Learned) set(p string, fps []Fingerprint) {
	l.remove(p)
	if len(fps) == 0 {
		return
	}
	dir := path.Dir(p)
	f := l.folders[dir]
	if f == nil {
		f = newFolderCounts()
		l.folders[dir] = f
	}
	f.files++
	f.paths[p] = true
	for _, fp := range fps {
		if f.add(fp, 1) >= minRepeats {
			f.hot[fp] = true
		}
	}
	f.settle()
	l.files[p] = fps
}

// remove takes the contributions of the file p away.
func (l *Learned) remove(p string) {
	fps, ok := l.files[p]
	if !ok {
		return
	}
	delete(l.files, p)
	dir := path.Dir(p)
	f := l.folders[dir]
	f.files--
	delete(f.paths, p)
	for _, fp := range fps {
		if f.add(fp, -1) < minRepeats {
			delete(f.hot, fp)
		}
	}
	if f.files == 0 {
		delete(l.folders, dir)
		return
	}
	f.settle()
}

func newFolderCounts() *folderCounts {
	return &folderCounts{paths: map[string]bool{}, delta: map[Fingerprint]int{}, hot: map[Fingerprint]bool{}}
}

// count returns how many files of the folder hold fp.
func (f *folderCounts) count(fp Fingerprint) int {
	return f.occurrences(fp) + f.delta[fp]
}

// occurrences returns how often fp occurs in f.sorted.
func (f *folderCounts) occurrences(fp Fingerprint) int {
	i, found := slices.BinarySearch(f.sorted, fp)
	if !found {
		return 0
	}
	return sort.Search(len(f.sorted)-i, func(j int) bool { return f.sorted[i+j] != fp })
}

// add changes fp's count by d and returns the new count.
func (f *folderCounts) add(fp Fingerprint, d int) int {
	n := f.delta[fp] + d
	if n == 0 {
		delete(f.delta, fp)
	} else {
		f.delta[fp] = n
	}
	return f.occurrences(fp) + n
}

// settle merges the changes into f.sorted once they are many enough to pay
// for copying it: a copy for every eighth of its size that changed.
func (f *folderCounts) settle() {
	if len(f.delta) <= max(minDelta, len(f.sorted)/8) {
		return
	}
	changed := slices.Sorted(maps.Keys(f.delta))
	size := len(f.sorted)
	for _, d := range f.delta {
		size += d
	}
	out := make([]Fingerprint, 0, size)
	rest := f.sorted
	for _, fp := range changed {
		i, _ := slices.BinarySearch(rest, fp)
		out = append(out, rest[:i]...)
		rest = rest[i:]
		n := sort.Search(len(rest), func(j int) bool { return rest[j] != fp })
		rest = rest[n:]
		for range n + f.delta[fp] {
			out = append(out, fp)
		}
	}
	f.sorted = append(out, rest...)
	// A new map: a cleared one keeps its room.
	f.delta = map[Fingerprint]int{}
}

// minDelta is how many changed fingerprints a folder holds before merging
// them, however small it is.
const minDelta = 256

// need is how many files must hold a paragraph for it to be boilerplate.
func (f *folderCounts) need() int {
	return max(minRepeats, (f.files+repeatShare-1)/repeatShare)
}

// Repeats implements Boilerplate.
func (f *folderCounts) Repeats(fp Fingerprint) int {
	if n := f.count(fp); n >= minRepeats && n >= f.need() {
		return n
	}
	return 0
}

// boilerplateSet returns the fingerprints that are boilerplate in dir now.
func (l *Learned) boilerplateSet(dir string) map[Fingerprint]bool {
	out := map[Fingerprint]bool{}
	f := l.folders[dir]
	if f == nil {
		return out
	}
	for fp := range f.hot {
		if f.Repeats(fp) > 0 {
			out[fp] = true
		}
	}
	return out
}

// learning is a Library's learned boilerplate with its bookkeeping: what
// the folders touched by the change under way had learned before it, and
// what the batch is to write to the store when it commits.
type learning struct {
	set   *Learned
	store BoilerplateStore // nil: learned in memory only
	// applied holds, by path, the fingerprints that were boilerplate when
	// the file's article was last derived.
	applied map[string][]Fingerprint

	before map[string]map[Fingerprint]bool // by folder touched since the last relearn
	put    map[string][]Fingerprint
	del    map[string]bool
}

// openLearning takes what set learned from the fingerprints bs (nil for
// none) kept, less those of paths that no longer have a live identity (a
// crash between the two writes of a batch can leave them behind).
func openLearning(bs BoilerplateStore, set *Learned, ids map[string]Identity) *learning {
	lr := &learning{applied: make(map[string][]Fingerprint, len(set.files)), store: bs, set: set}
	lr.reset()
	for p := range set.files {
		if id, ok := ids[p]; !ok || !id.Deleted.IsZero() {
			set.remove(p)
			lr.del[p] = true
		}
	}
	return lr
}

// apply sets the fingerprints that were boilerplate when the file p's
// article was derived. Most files have none, and keep no entry: at 100,000
// articles the entries cost 9 MB of a restart's heap.
func (lr *learning) apply(p string, fps []Fingerprint) {
	if len(fps) == 0 {
		delete(lr.applied, p)
		return
	}
	lr.applied[p] = fps
}

func (lr *learning) reset() {
	lr.before = map[string]map[Fingerprint]bool{}
	lr.put = map[string][]Fingerprint{}
	lr.del = map[string]bool{}
}

// touch remembers what the folder of p had learned before this batch
// changed it.
func (lr *learning) touch(p string) {
	dir := path.Dir(p)
	if _, ok := lr.before[dir]; !ok {
		lr.before[dir] = lr.set.boilerplateSet(dir)
	}
}

// record sets the fingerprints of the file p.
func (lr *learning) record(p string, fps []Fingerprint) {
	old, had := lr.set.files[p]
	if !had && len(fps) == 0 || had && slices.Equal(old, fps) {
		return
	}
	lr.touch(p)
	lr.set.set(p, fps)
	if len(fps) == 0 {
		delete(lr.put, p)
		lr.del[p] = true
		return
	}
	lr.put[p] = fps
	delete(lr.del, p)
}

// forget takes the file p's contributions away.
func (lr *learning) forget(p string) {
	if _, had := lr.set.files[p]; !had {
		return
	}
	lr.touch(p)
	lr.set.remove(p)
	delete(lr.applied, p)
	delete(lr.put, p)
	lr.del[p] = true
}

// boilerplateIn returns those of fps that are boilerplate in dir now.
func (lr *learning) boilerplateIn(dir string, fps []Fingerprint) []Fingerprint {
	var out []Fingerprint
	known := lr.set.Folder(dir)
	for _, fp := range fps {
		if known.Repeats(fp) > 0 {
			out = append(out, fp)
		}
	}
	return out
}

// crossed returns the fingerprints, by folder, that became boilerplate or
// stopped being boilerplate during this batch.
func (lr *learning) crossed() map[string]map[Fingerprint]bool {
	out := map[string]map[Fingerprint]bool{}
	for dir, before := range lr.before {
		after := lr.set.boilerplateSet(dir)
		diff := map[Fingerprint]bool{}
		for fp := range before {
			if !after[fp] {
				diff[fp] = true
			}
		}
		for fp := range after {
			if !before[fp] {
				diff[fp] = true
			}
		}
		if len(diff) > 0 {
			out[dir] = diff
		}
	}
	return out
}

// parse reads the file p with what its folder has learned, records the
// fingerprints of its paragraphs and re-derives the articles whose
// boilerplate that changed. Called by upsert, under l.mu.
func (c *change) parse(p string, ld loaded) (Parsed, error) {
	lr := c.l.learned
	dir := path.Dir(p)
	// No parse error depends on what the folder has learned.
	if ld.parseErr != nil {
		return Parsed{}, ld.parseErr
	}
	parsed, applied := ld.parsed, ld.applied
	lr.record(p, parsed.fingerprints)
	// The file's own paragraphs, or those of files stored since it was
	// loaded, may have made or unmade boilerplate that it holds: then it is
	// parsed again, as it would be had it been read now. A parse depends
	// only on which of its paragraphs are boilerplate.
	if now := lr.boilerplateIn(dir, parsed.fingerprints); !slices.Equal(now, applied) {
		var err error
		if parsed, err = ParseIn(p, ld.data, lr.set.Folder(dir)); err != nil {
			return parsed, err
		}
		applied = now
	}
	lr.apply(p, applied)
	c.relearn(p)
	return parsed, nil
}

// unlearn takes the removed file p's contributions away and re-derives the
// articles whose boilerplate that changed. Called by remove, under l.mu.
func (c *change) unlearn(p string) {
	c.l.learned.forget(p)
	c.relearn(p)
}

// relearn re-derives the articles, but that of the file being read
// (except), holding a paragraph that became, or stopped being, boilerplate
// since the last call: only those.
func (c *change) relearn(except string) {
	lr := c.l.learned
	crossed := lr.crossed()
	clear(lr.before)
	for dir, fps := range crossed {
		f := lr.set.folders[dir]
		if f == nil {
			continue // its last file went
		}
		for p := range f.paths {
			held := lr.set.files[p]
			if p == except || !slices.ContainsFunc(held, func(fp Fingerprint) bool { return fps[fp] }) {
				continue
			}
			if now := lr.boilerplateIn(dir, held); !slices.Equal(now, lr.applied[p]) {
				lr.apply(p, now)
				c.rederive(p)
			}
		}
	}
}

// settleBoilerplate saves the batch's fingerprints; what fails to be saved
// is tried again with the next batch. Called by commit, under l.mu.
func (c *change) settleBoilerplate() error {
	lr := c.l.learned
	if lr.store == nil || len(lr.put) == 0 && len(lr.del) == 0 {
		lr.reset()
		return nil
	}
	del := make([]string, 0, len(lr.del))
	for p := range lr.del {
		del = append(del, p)
	}
	if err := lr.store.SaveFingerprints(lr.put, del); err != nil {
		return fmt.Errorf("save learned boilerplate: %w", err)
	}
	lr.reset()
	return nil
}

// rederive parses the published file p again with what its folder has
// learned now. A file whose bytes changed since it was read is left alone:
// its own change is on its way.
func (c *change) rederive(p string) {
	l := c.l
	old, ok := l.articles.byPath[p]
	id, known := l.ids[p]
	if !ok || !known {
		return
	}
	fi, err := os.Stat(filepath.Join(l.dir, filepath.FromSlash(p)))
	if err != nil {
		return
	}
	data, err := l.read(p, fi.Size())
	if err != nil {
		return
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != id.Hash {
		return
	}
	parsed, err := ParseIn(p, data, l.learned.set.Folder(path.Dir(p)))
	if err != nil {
		return
	}
	a := build(p, id, parsed)
	oldHTML, err := old.LoadHTML()
	oldSummary, sumErr := old.LoadSummary()
	if err == nil && sumErr == nil && a.Title == old.Title && a.Summary == oldSummary && a.HTML == oldHTML && slices.Equal(a.Dropped, old.Dropped) {
		// The article stands, but its parse cache record must carry the
		// boilerplate it now has, or the next start takes it for a miss.
		c.keep(p, l.stats[p], id.Hash, parsed, old)
		return
	}
	old.body.release()
	a = c.keepBody(a, &parsed)
	l.articles.set(p, &a)
	c.keep(p, l.stats[p], id.Hash, parsed, &a)
	c.flushBodies(true)
	c.changed = true
	l.log.Info("article re-read: the folder's boilerplate changed", "file", p, "title", a.Title)
}

package content

import (
	"encoding/binary"
	"errors"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
	"unique"
)

// The parse cache: what each file parsed to, kept in the state beside a
// body file that is kept too, so that a restart reads and parses only the
// files that changed while dropfeed was stopped. At 100,000 articles
// parsing is most of a start (about 0.4 ms of CPU a file); a record is
// read back in microseconds.
//
// A record is used only while everything it was derived from is as it
// was: the file's size, mtime and inode (the test a running Library makes
// before reading a file again), the identity's content hash, the
// boilerplate the folder has learned, and a body inside the body file.
// Bodies are appended and made durable before the records that point at
// them, so a crash leaves records that are either usable or misses.
//
// Records are saved by one goroutine, in the order changes made them, off
// the path from a change to the feed: the first scan's 100,000 records
// take seconds to commit, and a record saved late is only a slower start.

// ParsedStore keeps parse cache records by path across restarts. package
// store implements it; a Library uses it when its IdentityStore implements
// it too and LibraryOptions.KeepBodies names where the bodies go.
type ParsedStore interface {
	LoadParsed() (map[string][]byte, error)
	// ViewParsed calls fn with a lookup of one record by key (nil when
	// there is none). The lookup and the bytes it returns are good until
	// fn returns, and the lookup is for one goroutine.
	ViewParsed(fn func(get func(key string) []byte) error) error
	// SaveParsed writes put and removes del in one transaction; with
	// clear, every record not in put goes too.
	SaveParsed(put map[string][]byte, del []string, clear bool) error
}

// bodyFileKey is the record that names the body file the others point
// into. No path holds a NUL.
const bodyFileKey = "\x00body-file"

// renderedKey is the record that lists where the Markdown bodies rendered
// on their first read lie rendered (bodyFile.rendered), saved when the
// Library closes: a restart renders again only what was rendered since
// it last stopped cleanly, or nothing.
const renderedKey = "\x00rendered"

// recordVersion is the first byte of a record; a record of another version
// is a miss, so a change of the format only costs one slow restart. 2: the
// summary is in the body file, in front of the body. 3: the body may be
// Markdown source, rendered when first read.
const recordVersion = 3

// cacheEntry is one file's record: the parse, without its body, and what
// it is valid for.
type cacheEntry struct {
	stat    fileStat
	hash    string
	body    bodyRef
	parsed  Parsed // no summary, HTML or fingerprints: the body file and the learned set hold them
	applied []Fingerprint
}

// keptCache is a Library's side of the parse cache.
type keptCache struct {
	store  ParsedStore
	prefix string // body files are prefix.<random>
	usable bool   // the stored records point into the open body file: the first scan may use them
	log    *slog.Logger

	chunk        int               // records saved per transaction (saveChunk)
	restoreChunk int               // records a restart decodes at once (restoreChunk)
	saves        chan func() error // run in order by the saver goroutine
	done         chan struct{}     // closed when the saver has run every save
	// stale, owned by the saver: records in the store point into another
	// body file, so the next save clears them.
	stale bool
}

// saveQueue is how many changes' records may wait for the saver before a
// change waits for it.
const saveQueue = 64

// saver runs the queued saves; a failure costs a slower start, so it is
// logged, not returned.
func (kc *keptCache) saver() {
	defer close(kc.done)
	for save := range kc.saves {
		if err := save(); err != nil {
			kc.log.Warn("cannot save the parse cache; the next start reads the files it leaves out", "reason", err)
		}
	}
}

// saveRendered queues the save of where bodies's Markdown bodies lie
// rendered, once what it points at is durable.
func (kc *keptCache) saveRendered(bodies *bodyFile) {
	index := bodies.renderedIndex()
	kc.saves <- func() error {
		if err := bodies.sync(); err != nil {
			return err
		}
		return kc.store.SaveParsed(map[string][]byte{renderedKey: index}, nil, false)
	}
}

// close waits for the queued saves.
func (kc *keptCache) close() {
	close(kc.saves)
	<-kc.done
}

// openKeptCache opens the body file the parse cache records of ps point
// into, named by the record under bodyFileKey, or starts a new one. Records
// it cannot use are misses, never errors.
func openKeptCache(ps ParsedStore, prefix, name string, log *slog.Logger) (*keptCache, *bodyFile, error) {
	kc := &keptCache{store: ps, prefix: prefix, log: log, chunk: saveChunk, restoreChunk: restoreChunk, saves: make(chan func() error, saveQueue), done: make(chan struct{})}
	var err error
	var bodies *bodyFile
	if name != "" && name == filepath.Base(name) && strings.HasPrefix(name, filepath.Base(prefix)+".") {
		bodies, err = openKeptBodyFile(filepath.Join(filepath.Dir(prefix), name))
	}
	if bodies == nil || err != nil {
		if bodies, err = createKeptBodyFile(prefix); err != nil {
			return nil, nil, err
		}
		kc.stale = true
	}
	kc.usable = !kc.stale
	removeOtherBodyFiles(prefix, bodies.f.Name())
	go kc.saver()
	return kc, bodies, nil
}

// removeOtherBodyFiles removes body files of prefix but keep: those a
// compaction or a start interrupted by a crash left behind. The state file
// is locked by one process, so no other process uses them.
func removeOtherBodyFiles(prefix, keep string) {
	names, _ := filepath.Glob(globEscape(prefix) + ".*")
	for _, n := range names {
		if n != keep {
			_ = os.Remove(n)
		}
	}
}

// globEscape quotes the characters filepath.Match treats specially.
func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	if filepath.Separator == '\\' {
		r = strings.NewReplacer(`*`, `[*]`, `?`, `[?]`, `[`, `[[]`)
	}
	return r.Replace(s)
}

// restoreAll takes the articles of files from the parse cache instead of
// reading them, where their records are still valid, and returns the
// files left to read. The records are decoded and checked on every core,
// then stored in order; a Scan calls it, under l.mu.
func (c *change) restoreAll(files []scanFile) []scanFile {
	l := c.l
	// Each folder's boilerplate now: cheaper to look in than its counts of
	// every paragraph, and restoring changes no fingerprint.
	sets := make(map[string]map[Fingerprint]bool, len(l.learned.set.folders))
	for dir := range l.learned.set.folders {
		sets[dir] = l.learned.set.boilerplateSet(dir)
	}
	// A chunk at a time, so that the decoded records held at once stay few
	// (at 100,000 files, all at once was 30 MB more heap at the start's peak).
	size := l.kept.restoreChunk
	n := min(len(files), size)
	entries := make([]cacheEntry, n)
	valid := make([]bool, n)
	workers := runtime.GOMAXPROCS(0)
	rest := files[:0]
	for chunk := range slices.Chunk(files, size) {
		// The articles of valid records, built by the workers: storing
		// them is the part done on one core. They stay, as stored.
		articles := make([]Article, len(chunk))
		// Each worker looks its share of the records up in the store in a
		// read transaction of its own, decoding them straight from it.
		share := (len(chunk) + workers - 1) / workers
		parallel(workers, workers, func(w int) {
			lo, hi := min(w*share, len(chunk)), min((w+1)*share, len(chunk))
			_ = l.kept.store.ViewParsed(func(get func(string) []byte) error {
				for i := lo; i < hi; i++ {
					p := chunk[i].rel
					if entries[i], valid[i] = c.usable(chunk[i], get(p), sets); valid[i] {
						articles[i] = build(p, l.ids[p], entries[i].parsed)
					}
				}
				return nil
			}) // a store that cannot be read is all misses
		})
		for i, f := range chunk {
			if !valid[i] || !c.restore(f.rel, &entries[i], &articles[i]) {
				// rest never overtakes the chunk it is read from.
				rest = append(rest, f)
			}
		}
		clear(entries)
	}
	l.bodies.forgetRenderedBefore()
	clear(files[len(rest):])
	return rest
}

// restoreChunk is how many parse cache records a restart decodes at once.
const restoreChunk = 8192

// usable decodes f's record raw (nil for none) and reports whether it is still valid: the
// file, its identity and its folder's boilerplate are as they were. It
// only reads the Library, so that many can run at once.
func (c *change) usable(f scanFile, raw []byte, sets map[string]map[Fingerprint]bool) (cacheEntry, bool) {
	l := c.l
	if raw == nil {
		return cacheEntry{}, false
	}
	e, err := decodeEntry(raw)
	if err != nil || e.stat != f.st {
		return cacheEntry{}, false
	}
	if e.body.markdown && !l.deferMD {
		// A body a server left unrendered: a Library that does not defer
		// (an export, which renders every page) parses it on every core.
		return cacheEntry{}, false
	}
	id, known := l.ids[f.rel]
	if !known || !id.Deleted.IsZero() || id.Hash != e.hash {
		return cacheEntry{}, false
	}
	var now []Fingerprint // the file's paragraphs that are boilerplate now
	set := sets[path.Dir(f.rel)]
	for _, fp := range l.learned.set.files[f.rel] {
		if set[fp] {
			now = append(now, fp)
		}
	}
	return e, slices.Equal(e.applied, now)
}

// restore stores a, p's article built from its valid record e, unless its
// body is not in the body file. usable found p's identity known, live and
// of e's hash, which the identity settled for p would keep as it is.
func (c *change) restore(p string, e *cacheEntry, a *Article) bool {
	l := c.l
	ref, ok := l.bodies.adopt(e.body.off, e.body.n, e.body.sum)
	if !ok {
		return false
	}
	if ref.markdown = e.body.markdown; ref.markdown {
		l.bodies.adoptRendered(ref)
	}
	l.stats[p] = e.stat
	a.body = ref
	l.articles.set(p, a)
	l.learned.apply(p, e.applied)
	c.changed = true
	c.restored++
	return true
}

// keep queues the record of the article just stored for p; commit saves
// it. An article whose body stayed in memory has no record.
func (c *change) keep(p string, st fileStat, hash string, parsed Parsed, a *Article) {
	if c.l.kept == nil {
		return
	}
	if a.body.file == nil {
		c.unkeep(p)
		return
	}
	parsed.Summary, parsed.HTML, parsed.fingerprints, parsed.source = "", "", nil, ""
	if c.kept == nil {
		c.kept = map[string]cacheEntry{}
	}
	c.kept[p] = cacheEntry{stat: st, hash: hash, body: a.body, parsed: parsed}
}

// unkeep queues the removal of p's record.
func (c *change) unkeep(p string) {
	if c.l.kept == nil {
		return
	}
	delete(c.kept, p)
	c.unkept = append(c.unkept, p)
}

// saveKept queues the change's records for the saver, which makes the
// bodies durable and then saves them. A record that fails to be saved is
// a miss at the next start.
func (c *change) saveKept() {
	l := c.l
	kc := l.kept
	if kc == nil || len(c.kept) == 0 && len(c.unkept) == 0 {
		return
	}
	records := make([]keptRecord, 0, len(c.kept))
	for p, e := range c.kept {
		e.applied = l.learned.applied[p]
		records = append(records, keptRecord{p, e})
	}
	bodies, del := l.bodies, c.unkept
	bodyName := filepath.Base(bodies.f.Name())
	kc.saves <- func() error {
		if err := bodies.sync(); err != nil {
			return err
		}
		return kc.saveRecords(records, del, bodyName)
	}
}

// keptRecord is one path's record, not yet encoded.
type keptRecord struct {
	path  string
	entry cacheEntry
}

// saveChunk is how many records one transaction saves. A first scan's
// 100,000 records saved at once held all their encodings and all of
// bbolt's new pages in memory together, some 200 MB.
const saveChunk = 5000

// saveRecords encodes and saves records, removes del and names the body
// file bodyName, in transactions of kc.chunk records; the first one
// clears the other records when they are stale. A crash between two
// leaves records missing, which are misses at the next start.
func (kc *keptCache) saveRecords(records []keptRecord, del []string, bodyName string) error {
	// In path order, so that filling an empty bucket (a first scan, or
	// clearing stale records) appends to its last pages and they stay full.
	slices.SortFunc(records, func(a, b keptRecord) int { return strings.Compare(a.path, b.path) })
	for first := true; first || len(records) > 0; first = false {
		n := min(len(records), kc.chunk)
		put := make(map[string][]byte, n+1)
		for _, r := range records[:n] {
			put[r.path] = r.entry.encode()
		}
		records = records[n:]
		if first {
			put[bodyFileKey] = []byte(bodyName)
		}
		if err := kc.store.SaveParsed(put, del, first && kc.stale); err != nil {
			return err
		}
		kc.stale, del = false, nil
	}
	return nil
}

// moveKept queues the rewrite of every record to point into the
// compacted body file fresh, where moved says each path's body went
// (from where was says it lay); records of other bodies are dropped.
// Once that is saved the old body file is removed.
func (l *Library) moveKept(old, fresh *bodyFile, was map[string]bodyRef, moved map[string]*Article) {
	kc := l.kept
	kc.saves <- func() error {
		kc.stale = true
		if err := fresh.sync(); err != nil {
			return err
		}
		records, err := kc.store.LoadParsed()
		if err != nil {
			return err
		}
		put := make(map[string][]byte, len(moved)+1)
		for p, raw := range records {
			a, ok := moved[p]
			if !ok {
				continue
			}
			e, err := decodeEntry(raw)
			if err != nil || e.body.off != was[p].off || e.body.n != was[p].n {
				continue
			}
			e.body = a.body
			put[p] = e.encode()
		}
		put[bodyFileKey] = []byte(filepath.Base(fresh.f.Name()))
		if err := kc.store.SaveParsed(put, nil, true); err != nil {
			return err
		}
		kc.stale = false
		// Articles handed out before keep reading it through their open file.
		return os.Remove(old.f.Name())
	}
}

// encode writes e as a record.
func (e cacheEntry) encode() []byte {
	w := recordWriter{recordVersion}
	w.int(e.stat.size)
	w.int(e.stat.mod)
	w.uint(e.stat.key.dev)
	w.uint(e.stat.key.ino)
	w.str(e.hash)
	w.int(e.body.off)
	w.int(e.body.n)
	w.int(e.body.sum)
	w.bool(e.body.markdown)
	p := &e.parsed
	for _, s := range []string{p.Title, p.Author, p.Language, p.ID} {
		w.str(s)
	}
	w.time(p.Date)
	w.time(p.Updated)
	w.bool(p.Draft)
	w.strs(p.Tags)
	w.strs(p.Warnings)
	w.uint(uint64(len(p.Dropped)))
	for _, d := range p.Dropped {
		w.str(d.Text)
		w.str(d.Reason)
	}
	w.uint(uint64(len(e.applied)))
	for _, fp := range e.applied {
		w.uint(uint64(fp))
	}
	return w
}

var errBadRecord = errors.New("bad parse cache record")

// decodeEntry reads a record written by encode.
func decodeEntry(b []byte) (cacheEntry, error) {
	if len(b) == 0 || b[0] != recordVersion {
		return cacheEntry{}, errBadRecord
	}
	r := recordReader{b: b[1:]}
	var e cacheEntry
	e.stat.size = r.int()
	e.stat.mod = r.int()
	e.stat.key.dev = r.uint()
	e.stat.key.ino = r.uint()
	e.hash = r.str()
	e.body.off = r.int()
	e.body.n = r.int()
	e.body.sum = r.int()
	e.body.markdown = r.bool()
	p := &e.parsed
	p.Title = r.str()
	// Authors, languages and dropped lines repeat across a folder: one copy
	// of each for the process (at 100,000 articles, 4 MB of a restart's heap).
	p.Author = r.interned()
	p.Language = r.interned()
	p.ID = r.str()
	p.Date = r.time()
	p.Updated = r.time()
	p.Draft = r.bool()
	p.Tags = internTags(r.strs())
	p.Warnings = r.strs()
	if n := r.count(); n > 0 {
		p.Dropped = make([]Dropped, n)
		for i := range p.Dropped {
			p.Dropped[i] = Dropped{Text: r.interned(), Reason: r.interned()}
		}
	}
	if n := r.count(); n > 0 {
		e.applied = make([]Fingerprint, n)
		for i := range e.applied {
			e.applied[i] = Fingerprint(r.uint())
		}
	}
	if r.bad || len(r.b) != 0 {
		return cacheEntry{}, errBadRecord
	}
	return e, nil
}

// recordWriter appends varints and length-prefixed strings.
type recordWriter []byte

func (w *recordWriter) uint(v uint64) { *w = binary.AppendUvarint(*w, v) }
func (w *recordWriter) int(v int64)   { *w = binary.AppendVarint(*w, v) }
func (w *recordWriter) str(s string)  { w.uint(uint64(len(s))); *w = append(*w, s...) }

func (w *recordWriter) bool(v bool) {
	if v {
		w.uint(1)
	} else {
		w.uint(0)
	}
}

func (w *recordWriter) strs(ss []string) {
	w.uint(uint64(len(ss)))
	for _, s := range ss {
		w.str(s)
	}
}

// time keeps the instant and the zone offset a file gave: feeds print them.
func (w *recordWriter) time(t time.Time) {
	b, err := t.MarshalBinary()
	if err != nil { // a zone offset that is not a whole minute: keep the instant
		b, _ = t.UTC().MarshalBinary()
	}
	w.str(string(b))
}

// recordReader reads what recordWriter wrote; bad is set, and zero values
// returned, once the bytes run out or make no sense.
type recordReader struct {
	b   []byte
	bad bool
}

func (r *recordReader) uint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) int() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a length, which can be no more than the bytes left.
func (r *recordReader) count() int {
	n := r.uint()
	if n > uint64(len(r.b)) {
		r.bad = true
		return 0
	}
	return int(n)
}

func (r *recordReader) str() string {
	n := r.count()
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// interned reads a string as str does and returns unique.Make's copy of it
// (shared while the runtime keeps it: see internTags).
func (r *recordReader) interned() string {
	n := r.count()
	s := unique.Make(string(r.b[:n])).Value()
	r.b = r.b[n:]
	return s
}

func (r *recordReader) bool() bool { return r.uint() == 1 }

func (r *recordReader) strs() []string {
	n := r.count()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = r.str()
	}
	return out
}

// time reads a time.Time encoding, which must be one MarshalBinary
// writes: UnmarshalBinary also takes nanoseconds over a second, which
// make a time that is not what it prints.
func (r *recordReader) time() time.Time {
	raw := r.str()
	var t time.Time
	if err := t.UnmarshalBinary([]byte(raw)); err != nil {
		r.bad = true
		return time.Time{}
	}
	if again, err := t.MarshalBinary(); err != nil || string(again) != raw {
		r.bad = true
		return time.Time{}
	}
	return t
}

package content_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dropfeed/dropfeed/content"
	"github.com/dropfeed/dropfeed/content/store"
)

// openKept opens a Library over dir whose state at state keeps the parse
// cache, with its body files beside it.
func openKept(t *testing.T, dir, state string, c *clock) lib {
	t.Helper()
	return openKeptWith(t, dir, state, c, content.LibraryOptions{})
}

// openKeptWith is openKept with opts, whose clock and body files it sets.
func openKeptWith(t *testing.T, dir, state string, c *clock, opts content.LibraryOptions) lib {
	t.Helper()
	st, err := store.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	opts.Now, opts.KeepBodies = c.now, state+".bodies"
	l, err := content.OpenLibrary(dir, st, opts)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	return lib{l, st, t}
}

// newsStory is a plain-text article saved from a news site: a banner, a
// title, a caption, the story and an appeal, the banner and the appeal
// the same in every story of the site.
func newsStory(title string, paragraphs ...string) string {
	return "THE HARBOUR LANTERN | Local news since 1911\n\n" + title + "\n\n" +
		"Photo: the quay at dawn, by a staff photographer.\n\n" + strings.Join(paragraphs, "\n\n") +
		"\n\nSupport independent local news. Become a member of the Harbour Lantern today.\n"
}

// writeCorpus writes one of each kind of file the cache must carry
// exactly: front matter with a zoned date, tags, an author and a draft
// flag; news-style plain text whose banner and appeal the folder learns;
// HTML.
func writeCacheCorpus(t *testing.T, dir string) {
	t.Helper()
	write(t, dir, "notes/zoned.md", "---\ntitle: Zoned\ndate: 2026-03-01T09:30:00+05:30\nupdated: 2026-03-02T10:00:00-03:00\n"+
		"tags: [harbour, Night Shift]\nauthor: R. Osei\nlang: en-GB\n---\n\nThe *first* paragraph.\n\nA second one with a [link](https://example.com/x).\n")
	write(t, dir, "notes/draft.md", "---\ntitle: Not yet\ndraft: true\n---\n\nHidden.\n")
	write(t, dir, "notes/2026-02-14-dated.md", "# Dated by its name\n\nBody text.\n")
	for i, title := range []string{"Ferry timetable changes", "Fish market reopens", "Lighthouse repainted", "Tide gauge replaced"} {
		write(t, dir, fmt.Sprintf("news/story-%d.txt", i), newsStory(title,
			fmt.Sprintf("%s: the story begins with its own opening sentence, long enough to be its summary.", title),
			"Its second paragraph carries on with details about "+title+" and the town, as residents tell it."))
	}
	write(t, dir, "page.html", "<html><head><title>A page</title></head><body><h1>A page</h1><p>Some <b>HTML</b> text.</p></body></html>")
}

// scannedCacheCorpus writes the cache corpus to a new folder and returns
// it, its state file, the clock and a Library that keeps the parse cache
// and has scanned it once; the caller closes the Library.
func scannedCacheCorpus(t *testing.T) (dir, state string, c *clock, l lib) {
	t.Helper()
	dir, state = t.TempDir(), filepath.Join(t.TempDir(), "state.db")
	c = &clock{time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)}
	writeCacheCorpus(t, dir)
	l = openKept(t, dir, state, c)
	l.scan(t)
	return dir, state, c, l
}

// parseFresh reads dir with a Library of a fresh state and no cache.
func parseFresh(t *testing.T, dir string, c *clock) map[string]content.Article {
	t.Helper()
	fresh := openLib(t, dir, filepath.Join(t.TempDir(), "state.db"), c, 0)
	defer fresh.close(t)
	fresh.scan(t)
	return fresh.byPath()
}

// sameParse reports how got and want differ in what the files say (ids,
// slugs and first-seen dates belong to the state, not the file).
func sameParse(t *testing.T, what string, got, want map[string]content.Article) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d articles, want %d", what, len(got), len(want))
	}
	for p, w := range want {
		g, ok := got[p]
		if !ok {
			t.Errorf("%s: %s missing", what, p)
			continue
		}
		g.ID, g.Slug, g.Hash, w.ID, w.Slug, w.Hash = "", "", "", "", "", ""
		// "repeated in N files" counts the files known when the file was
		// parsed, which depends on the order files were read in.
		g.Dropped, w.Dropped = countless(g.Dropped), countless(w.Dropped)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: %s\n got %+v\nwant %+v", what, p, g, w)
		}
	}
}

var digits = regexp.MustCompile(`[0-9]+`)

func countless(ds []content.Dropped) []content.Dropped {
	out := slices.Clone(ds)
	for i := range out {
		out[i].Reason = digits.ReplaceAllString(out[i].Reason, "N")
	}
	return out
}

// quietEdit replaces from with to, of the same length, in the file rel in
// place and puts its mtime back: size, mtime and inode as they were, so no
// scan can see it, and what a restart shows proves where it came from.
func quietEdit(t *testing.T, dir, rel, from, to string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil || len(from) != len(to) || !strings.Contains(string(data), from) {
		t.Fatalf("quiet edit of %s: %q -> %q (%v)", rel, from, to, err)
	}
	write(t, dir, rel, strings.Replace(string(data), from, to, 1))
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
}

// A restart takes unchanged files from the parse cache, article for article
// what parsing them gives, and reads what changed while it was stopped.
func TestParseCacheRestart(t *testing.T) {
	dir, state, c, l := scannedCacheCorpus(t)
	before := l.byPath()
	l.close(t)
	sameParse(t, "first run", before, parseFresh(t, dir, c))

	// While stopped: one file edited in place under the same size and
	// mtime (what no scan can see, so proof that the cache was used), one
	// edited for real, one removed, one added.
	quietEdit(t, dir, "notes/2026-02-14-dated.md", "Dated by its name", "Dated by its NAME")
	write(t, dir, "news/story-1.txt", newsStory("Fish market reopens on Sunday",
		"The market opens again with a new roof, long enough to be the summary of it.", "More details of the stalls, the fishmongers and the opening hours on Sundays."))
	if err := os.Remove(filepath.Join(dir, "page.html")); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "notes/new.md", md("New", "Written while stopped."))
	c.t = c.t.Add(time.Hour)

	l = openKept(t, dir, state, c)
	defer l.close(t)
	l.scan(t)
	after := l.byPath()
	if got := after["notes/2026-02-14-dated.md"].Title; got != "Dated by its name" {
		t.Errorf("unchanged stat: title %q, want the cached %q", got, "Dated by its name")
	}
	for _, p := range []string{"notes/zoned.md", "notes/draft.md", "news/story-0.txt", "news/story-2.txt", "news/story-3.txt"} {
		if !reflect.DeepEqual(after[p], before[p]) {
			t.Errorf("%s differs after restart:\n got %+v\nwant %+v", p, after[p], before[p])
		}
	}
	if got := after["news/story-1.txt"].Title; got != "Fish market reopens on Sunday" {
		t.Errorf("edited while stopped: title %q", got)
	}
	if _, ok := after["page.html"]; ok {
		t.Error("page.html was removed while stopped but is still an article")
	}
	if after["notes/new.md"].Title != "New" {
		t.Errorf("added while stopped: %+v", after["notes/new.md"])
	}
	if got := after["news/story-0.txt"].Title; got != "Ferry timetable changes" {
		t.Errorf("plain text from the cache: title %q, want the learned banner left out", got)
	}
}

// fromCache reports the articles of before that a restart shows otherwise
// in after: each file was edited in place while stopped, so what differs
// was not taken from the parse cache.
func fromCache(t *testing.T, before, after map[string]content.Article) {
	t.Helper()
	for p, want := range before {
		if !reflect.DeepEqual(after[p], want) {
			t.Errorf("%s not from the cache after restart:\n got %+v\nwant %+v", p, after[p], want)
		}
	}
}

// Records saved in several transactions are all there at the next start:
// every file edited in place while stopped still shows what it said.
func TestParseCacheSavedInChunks(t *testing.T) {
	dir, state := t.TempDir(), filepath.Join(t.TempDir(), "state.db")
	c := &clock{time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)}
	writeCacheCorpus(t, dir)
	l := openKept(t, dir, state, c)
	content.SetSaveChunk(l.Library, 2)
	l.scan(t)
	before := l.byPath()
	l.close(t)
	if len(before) < 6 {
		t.Fatalf("%d articles: too few to save in several transactions of 2", len(before))
	}

	for _, e := range []struct{ rel, from, to string }{
		{"notes/zoned.md", "title: Zoned", "title: ZONED"},
		{"notes/draft.md", "Not yet", "NOT YET"},
		{"notes/2026-02-14-dated.md", "Dated by its name", "Dated by its NAME"},
		{"news/story-0.txt", "Ferry timetable", "FERRY TIMETABLE"},
		{"news/story-1.txt", "Fish market", "FISH MARKET"},
		{"news/story-2.txt", "Lighthouse", "LIGHTHOUSE"},
		{"news/story-3.txt", "Tide gauge", "TIDE GAUGE"},
		{"page.html", "<h1>A page", "<h1>A PAGE"},
	} {
		quietEdit(t, dir, e.rel, e.from, e.to)
	}
	l = openKept(t, dir, state, c)
	defer l.close(t)
	l.scan(t)
	after := l.byPath()
	fromCache(t, before, after)
}

// Whatever is wrong with the cache, a restart publishes what parsing the
// files gives: a record it cannot use is a miss.
func TestParseCacheMisses(t *testing.T) {
	bodyFiles := func(state string) []string {
		names, _ := filepath.Glob(state + ".bodies.*")
		return names
	}
	for _, tt := range []struct {
		name   string
		damage func(t *testing.T, dir, state string)
	}{
		{"body file truncated", func(t *testing.T, dir, state string) {
			for _, n := range bodyFiles(state) {
				if err := os.Truncate(n, 10); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"body file removed", func(t *testing.T, dir, state string) {
			for _, n := range bodyFiles(state) {
				if err := os.Remove(n); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"records garbled", func(t *testing.T, dir, state string) {
			st, err := store.Open(state)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			records, err := st.LoadParsed()
			if err != nil {
				t.Fatal(err)
			}
			put := map[string][]byte{}
			for p, r := range records {
				if !strings.HasPrefix(p, "\x00") {
					put[p] = r[:len(r)/2]
				}
			}
			if err := st.SaveParsed(put, nil, false); err != nil {
				t.Fatal(err)
			}
		}},
		{"boilerplate learned while stopped", func(t *testing.T, dir, state string) {
			// A fifth and sixth story make the caption boilerplate too.
			for i := 4; i < 6; i++ {
				title := []string{"Gulls nest on the pier", "Choir sings at the chapel"}[i-4]
				write(t, dir, fmt.Sprintf("news/story-%d.txt", i), newsStory(title,
					title+" opens with a sentence of its own, long enough to be a summary.",
					"And a second paragraph about "+title+" and the weather over the bay this week."))
			}
		}},
		{"boilerplate forgotten while stopped", func(t *testing.T, dir, state string) {
			for i := 1; i < 4; i++ {
				if err := os.Remove(filepath.Join(dir, fmt.Sprintf("news/story-%d.txt", i))); err != nil {
					t.Fatal(err)
				}
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, state, c, l := scannedCacheCorpus(t)
			l.close(t)
			tt.damage(t, dir, state)

			l = openKept(t, dir, state, c)
			defer l.close(t)
			l.scan(t)
			sameParse(t, "restart", l.byPath(), parseFresh(t, dir, c))
			if n := len(bodyFiles(state)); n != 1 {
				t.Errorf("%d body files beside the state, want 1", n)
			}
		})
	}
}

// Compacting the body file moves the cache records with the bodies, and
// leaves one body file behind.
func TestParseCacheAfterCompaction(t *testing.T) {
	dir, state, c, l := scannedCacheCorpus(t)
	content.SetBodyWaste(l.Library, 2_000)
	filler := strings.Repeat("Words of an often edited article. ", 30)
	for n := range 20 {
		write(t, dir, "notes/often.md", md("Often", fmt.Sprintf("Version %d. %s", n, filler)))
		c.t = c.t.Add(time.Minute)
		l.apply(t, "notes/often.md")
	}
	before := l.byPath()
	l.close(t)
	names, _ := filepath.Glob(state + ".bodies.*")
	if len(names) != 1 {
		t.Fatalf("body files %v, want one", names)
	}
	if fi, err := os.Stat(names[0]); err != nil || fi.Size() > 20*int64(len(filler)) {
		t.Errorf("body file %v: not compacted (%v)", fi.Size(), err)
	}

	// Quiet in-place edits prove the restart used the moved records: that
	// of the first scan, and that of the last change.
	for _, q := range []struct{ rel, from, to string }{
		{"notes/zoned.md", "title: Zoned", "title: ZONED"},
		{"notes/often.md", "title: Often", "title: OFTEN"},
	} {
		quietEdit(t, dir, q.rel, q.from, q.to)
	}
	l = openKept(t, dir, state, c)
	defer l.close(t)
	l.scan(t)
	if !reflect.DeepEqual(l.byPath(), before) {
		t.Errorf("after compaction and restart the articles differ:\n got %+v\nwant %+v", l.byPath(), before)
	}
}

// savesCounter is a store that counts the identities each save writes.
type savesCounter struct {
	*store.Store
	saves []int
}

func (s *savesCounter) SaveIdentities(put map[string]content.Identity, del []string) error {
	s.saves = append(s.saves, len(put)+len(del))
	return s.Store.SaveIdentities(put, del)
}

// A first scan saves identities and parse cache records as it goes, not
// all at its end, each once; and what it saved is what a restart uses:
// every file edited in place while stopped still shows what the cache
// kept, for stories read before their folder learned its banner too.
func TestScanSavesAsItGoes(t *testing.T) {
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			dir, state := t.TempDir(), filepath.Join(t.TempDir(), "state.db")
			c := &clock{time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)}
			type edit struct{ rel, from, to string }
			var edits []edit
			boats := []string{"Osprey", "Kestrel", "Curlew", "Heron", "Plover", "Gannet", "Puffin", "Tern", "Dunlin", "Merlin", "Avocet", "Shag"}
			for i, boat := range boats {
				title := "The " + boat + " comes home"
				rel := fmt.Sprintf("news/story-%02d.txt", i)
				write(t, dir, rel, newsStory(title, "The "+boat+" left the quay at dawn, the story's own opening sentence, long enough to be its summary.",
					"Its second paragraph follows the "+boat+" along the coast and back with the tide."))
				edits = append(edits, edit{rel, "comes home", "COMES HOME"})
			}
			// More than a scan loads at once, so that the parallel scan saves between its loads.
			for i := range 300 {
				rel := fmt.Sprintf("notes/note-%03d.md", i)
				write(t, dir, rel, md(fmt.Sprintf("Note %03d", i), "What the note says."))
				edits = append(edits, edit{rel, "Note", "NOTE"})
			}
			st, err := store.Open(state)
			if err != nil {
				t.Fatal(err)
			}
			counter := &savesCounter{Store: st}
			l, err := content.OpenLibrary(dir, counter, content.LibraryOptions{Now: c.now, KeepBodies: state + ".bodies"})
			if err != nil {
				st.Close()
				t.Fatal(err)
			}
			content.SetScanWorkers(l, workers)
			content.SetScanFlush(l, 100)
			first := lib{l, st, t}
			first.scan(t)
			before := first.byPath()
			first.close(t)

			carried, total := 0, 0
			for _, n := range counter.saves {
				total += n
				if n > 0 {
					carried++
				}
			}
			if carried < 2 || total != len(edits) {
				t.Errorf("identities saved in writes of %v: want %d in all, in more than one write", counter.saves, len(edits))
			}

			for _, e := range edits {
				quietEdit(t, dir, e.rel, e.from, e.to)
			}
			l2 := openKept(t, dir, state, c)
			defer l2.close(t)
			content.SetRestoreChunk(l2.Library, 50) // restored in several pieces too
			l2.scan(t)
			after := l2.byPath()
			fromCache(t, before, after)
			if got := before["news/story-00.txt"].Title; got != "The Osprey comes home" {
				t.Errorf("story 0: title %q, want the banner learned and left out", got)
			}
		})
	}
}

// A paragraph that becomes boilerplate but was left out of the articles
// holding it anyway (a photo credit) changes no article, yet their
// records must learn it: a restart takes them from the cache still.
func TestParseCacheRecordsLateBoilerplate(t *testing.T) {
	dir, state, c, l := scannedCacheCorpus(t)
	credit := "Photo: an archive picture of the old harbour, courtesy of the town museum."
	// A folder of its own, with no other boilerplate whose counts would
	// change the articles' list of what was left out.
	story := func(i int, title string) {
		write(t, dir, fmt.Sprintf("museum/credited-%d.txt", i), title+"\n\n"+credit+"\n\n"+
			title+": a story with an opening sentence of its own, long enough to be its summary.\n\n"+
			"A second paragraph about "+title+" and the people of the harbour.\n")
	}
	story(0, "Old crane taken down")
	story(1, "Sea wall mended")
	l.apply(t, "museum/credited-0.txt", "museum/credited-1.txt")
	held := l.byPath()["museum/credited-0.txt"]
	// A third file holding the credit makes it boilerplate in the folder.
	story(2, "Harbour master retires")
	l.apply(t, "museum/credited-2.txt")
	if got := l.byPath()["museum/credited-0.txt"]; !reflect.DeepEqual(got, held) {
		t.Fatalf("credited-0 changed when its credit became boilerplate:\n got %+v\nwant %+v", got, held)
	}
	l.close(t)

	quietEdit(t, dir, "museum/credited-0.txt", "Old crane", "OLD CRANE")
	l = openKept(t, dir, state, c)
	defer l.close(t)
	l.scan(t)
	if got := l.byPath()["museum/credited-0.txt"]; !reflect.DeepEqual(got, held) {
		t.Errorf("credited-0 not from the cache after restart:\n got %+v\nwant %+v", got, held)
	}
}

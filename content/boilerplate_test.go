package content

import (
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"path"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unicode"
)

func TestFingerprint(t *testing.T) {
	same := [][]string{
		{"© 2024 Valley Courier. All rights reserved.", "© 2025 VALLEY COURIER — all rights reserved", "©2024 Valley   Courier; All Rights Reserved!"},
		{"Café Society", "CAFÉ SOCIETY", "café society."},
	}
	for _, group := range same {
		for _, s := range group[1:] {
			if fingerprintOf(s) != fingerprintOf(group[0]) {
				t.Errorf("%q and %q fingerprint differently", s, group[0])
			}
		}
	}
	if fingerprintOf("Valley Courier") == fingerprintOf("Valley Couriers") || fingerprintOf("ab cd") == fingerprintOf("abc d") {
		t.Error("different paragraphs share a fingerprint")
	}
	for _, s := range []string{"", "Yes.", "No!", "1 2 3", "* * *"} {
		if fp := fingerprintOf(s); fp != 0 {
			t.Errorf("%q: fingerprint %x, want 0 (too few letters to learn from)", s, fp)
		}
	}
}

// TestFingerprintMatchesPlain holds fingerprintOf, whose values the state
// file keeps, to a plain reading of its definition (FNV-1a of the text
// folded) on random strings of letters, digits, gaps and other runes.
func TestFingerprintMatchesPlain(t *testing.T) {
	plain := func(s string) Fingerprint {
		var b strings.Builder
		letters, gap := 0, false
		for _, r := range s {
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
				b.WriteByte(' ')
				gap = false
			}
			b.WriteRune(r)
		}
		if letters < minFingerprintLetters {
			return 0
		}
		h := fnv.New64a()
		h.Write([]byte(b.String()))
		return Fingerprint(max(h.Sum64(), 1))
	}
	pieces := []string{"a", "Z", "q", "7", " ", "  ", ".", ",", "\n", "-", "É", "é", "ß", "Ω", "٣", "—", "😀", "\xff", "\x00", "~", "@", "[", "`", "{"}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(40) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		if s := b.String(); fingerprintOf(s) != plain(s) {
			t.Fatalf("fingerprintOf(%q) = %x, plainly %x", s, fingerprintOf(s), plain(s))
		}
	}
}

func TestLearnedThreshold(t *testing.T) {
	files := map[string][]Fingerprint{}
	for i := range 100 {
		fps := []Fingerprint{Fingerprint(1000 + i)}
		if i < 3 {
			fps = append(fps, 1) // in 3 of 100 files: under one in twenty
		}
		if i < 5 {
			fps = append(fps, 2) // in 5 of 100: exactly one in twenty
		}
		files[fmt.Sprintf("news/%03d.txt", i)] = fps
	}
	files["a.txt"] = []Fingerprint{1}
	files["b.txt"] = []Fingerprint{1}
	files["c.txt"] = []Fingerprint{1}
	l := NewLearned(files)
	news, top := l.Folder("news"), l.Folder(".")
	for _, c := range []struct {
		what string
		got  int
		want int
	}{
		{"3 of 100 files", news.Repeats(1), 0},
		{"5 of 100 files", news.Repeats(2), 5},
		{"1 of 100 files", news.Repeats(1000), 0},
		{"3 of 3 files", top.Repeats(1), 3},
		{"absent", top.Repeats(2), 0},
		{"unknown folder", l.Folder("none").Repeats(1), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s: repeats %d, want %d", c.what, c.got, c.want)
		}
	}
	l.remove("a.txt")
	if n := top.Repeats(1); n != 0 {
		t.Errorf("after a removal, 2 of 2 files: repeats %d, want 0", n)
	}
	l.set("a.txt", []Fingerprint{1})
	l.set("a.txt", []Fingerprint{1}) // a re-read does not count twice
	if n := top.Repeats(1); n != 3 {
		t.Errorf("after re-adding: repeats %d, want 3", n)
	}
	if got := l.boilerplateSet("."); len(got) != 1 || !got[1] {
		t.Errorf("boilerplate set %v", got)
	}
	// Each folder knows its files, for relearning it alone.
	if got := slices.Sorted(maps.Keys(l.folders["."].paths)); !slices.Equal(got, []string{"a.txt", "b.txt", "c.txt"}) {
		t.Errorf("files of the top folder: %q", got)
	}
	if n := len(l.folders["news"].paths); n != 100 {
		t.Errorf("news holds %d files, want 100", n)
	}
	for _, p := range []string{"a.txt", "b.txt", "c.txt"} {
		l.remove(p)
	}
	if f := l.folders["."]; f != nil {
		t.Errorf("top folder still known with files %v", f.paths)
	}
}

// folderOf learns a folder from texts, as a Library does, and returns its
// boilerplate.
func folderOf(t *testing.T, texts ...string) Boilerplate {
	t.Helper()
	files := map[string][]Fingerprint{}
	for i, text := range texts {
		p, err := parseText(text, noBoilerplate{})
		if err != nil {
			t.Fatal(err)
		}
		files[fmt.Sprintf("%d.txt", i)] = p.fingerprints
	}
	return NewLearned(files).Folder(".")
}

func story(head string, n int) string {
	var b strings.Builder
	b.WriteString(head + "\n\n")
	for i := range n {
		fmt.Fprintf(&b, "Paragraph %d of the story about %s, which goes on for a while with details of its own.\n\n", i+1, head)
	}
	return b.String()
}

func TestParseLearned(t *testing.T) {
	const site, footer, promo = "Northfield Notes", "Northfield Notes is written by volunteers in the parish.", "Find us at the Saturday market stall."
	var texts []string
	for _, h := range []string{"Bridge Reopens", "School Fete Raises Record Sum", "New Bus Route to the Station", "Pond Cleared"} {
		s := story(h, 4)
		// A site line above the headline, a promo line set into the story, a footer.
		i := strings.Index(s, "Paragraph 3")
		texts = append(texts, site+"\n\n"+s[:i]+promo+"\n\n"+s[i:]+footer+"\n")
	}
	known := folderOf(t, texts...)
	p, err := parseText(texts[1], known)
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "School Fete Raises Record Sum" || !strings.HasPrefix(p.Summary, "Paragraph 1 of the story") {
		t.Errorf("title %q, summary %q", p.Title, p.Summary)
	}
	reason := repeatedReason(4)
	for _, s := range []string{site, promo, footer} {
		if !slices.Contains(p.Dropped, Dropped{Text: s, Reason: reason}) {
			t.Errorf("%q not dropped as %q: %v", s, reason, p.Dropped)
		}
		if strings.Contains(p.HTML, s) {
			t.Errorf("%q left in the body", s)
		}
	}
	if !strings.Contains(p.HTML, "Paragraph 4 of the story") {
		t.Errorf("story lost:\n%s", p.HTML)
	}
}

func TestParseLearnedSeriesTitle(t *testing.T) {
	// A newsletter whose every issue is titled alike: the repeated title
	// stands alone before prose, so it stays the title.
	var texts []string
	for i := range 4 {
		texts = append(texts, fmt.Sprintf("Morning Briefing\n\n%d March 2025\n\nGood morning. Today item %d leads the news, and more besides.\n\nAnd then item %d.\n", i+3, i, i))
	}
	p, err := parseText(texts[0], folderOf(t, texts...))
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "Morning Briefing" || !strings.HasPrefix(p.Summary, "Good morning. Today item 0") {
		t.Errorf("title %q, summary %q", p.Title, p.Summary)
	}
}

func TestParseLearnedCopies(t *testing.T) {
	// Three copies of one story are not boilerplate of each other.
	text := story("Mill Fire Contained", 3) + "Subscribe to the parish sheet for more.\n"
	known := folderOf(t, text, text, text)
	p, err := parseText(text, known)
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "Mill Fire Contained" || !strings.HasPrefix(p.Summary, "Paragraph 1") || strings.Count(p.HTML, "<p>") < 3 {
		t.Errorf("title %q, summary %q, body %q", p.Title, p.Summary, p.HTML)
	}
	for _, d := range p.Dropped {
		if strings.HasPrefix(d.Reason, "repeated") {
			t.Errorf("copy dropped %v", d)
		}
	}
}

// TestLearnedCountsModel checks a folder's counts against a plain map of
// them through many files set and removed, enough for the changes to be
// merged into the folders' sorted fingerprints again and again.
func TestLearnedCountsModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	draw := func() []Fingerprint {
		fps := map[Fingerprint]bool{}
		for range rng.IntN(30) {
			fps[Fingerprint(1+rng.IntN(600))] = true
		}
		return slices.Sorted(maps.Keys(fps))
	}
	files := map[string][]Fingerprint{}
	for i := range 60 {
		if fps := draw(); len(fps) > 0 {
			files[fmt.Sprintf("a/%d.txt", i)] = fps // folder b starts empty
		}
	}
	l := NewLearned(maps.Clone(files))
	for op := range 4000 {
		p := fmt.Sprintf("%s/%d.txt", []string{"a", "b"}[rng.IntN(2)], rng.IntN(150))
		if rng.IntN(3) == 0 {
			l.remove(p)
			delete(files, p)
		} else {
			fps := draw()
			l.set(p, fps)
			files[p] = fps
			if len(fps) == 0 {
				delete(files, p)
			}
		}
		if op%50 != 0 {
			continue
		}
		for _, dir := range []string{"a", "b"} {
			want := map[Fingerprint]int{}
			n := 0
			for q, fps := range files {
				if path.Dir(q) == dir {
					n++
					for _, fp := range fps {
						want[fp]++
					}
				}
			}
			f := l.folders[dir]
			if f == nil {
				if n > 0 {
					t.Fatalf("op %d: folder %s unknown with %d files", op, dir, n)
				}
				continue
			}
			if f.files != n {
				t.Fatalf("op %d: folder %s holds %d files, want %d", op, dir, f.files, n)
			}
			for fp := Fingerprint(1); fp <= 600; fp++ {
				if got := f.count(fp); got != want[fp] {
					t.Fatalf("op %d: folder %s: %d files hold %x, want %d", op, dir, got, fp, want[fp])
				}
				if f.hot[fp] != (want[fp] >= minRepeats) {
					t.Fatalf("op %d: folder %s: %x hot %v with %d files", op, dir, fp, f.hot[fp], want[fp])
				}
			}
		}
	}
	// Only a merge fills the sorted fingerprints of a folder NewLearned did not see.
	if f := l.folders["b"]; f == nil || len(f.sorted) == 0 {
		t.Error("folder b's changes were never merged")
	}
}

// BenchmarkNewLearned builds what a restart learns from the kept
// fingerprints of 40,000 plain-text files in 40 folders (a 100,000-article
// folder of the bench's mix), and reports the heap it holds.
func BenchmarkNewLearned(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	files := map[string][]Fingerprint{}
	for i := range 40_000 {
		fps := make([]Fingerprint, 25)
		for j := range fps {
			fps[j] = Fingerprint(rng.Uint64())
		}
		fps[0] = Fingerprint(i%40 + 1) // each folder's banner
		files[fmt.Sprintf("%02d/%05d.txt", i%40, i)] = fps
	}
	var before, after runtime.MemStats
	var l *Learned
	for b.Loop() {
		l = nil
		runtime.GC()
		runtime.ReadMemStats(&before)
		l = NewLearned(files)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if l.Folder("00").Repeats(1) != 1000 {
		b.Fatal("the banner is not learned")
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "heap-MB")
}

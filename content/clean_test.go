package content

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

func TestCleanText(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		same           bool // returned as it is, without a copy
	}{
		{"empty", "", "", true},
		{"ascii", "Council votes on the bridge.", "Council votes on the bridge.", true},
		{"tab and newline", "a\tb\nc", "a\tb\nc", true},
		{"accents and symbols", "Café ‘owners’ — 50 € 😀", "Café ‘owners’ — 50 € 😀", true},
		{"replacement character kept", "bad \uFFFD byte", "bad \uFFFD byte", true},
		{"last before C1 and first after", "~\u00A0\uFFFD\U0010FFFF", "~\u00A0\uFFFD\U0010FFFF", true},
		{"crlf", "a\r\nb", "a\nb", false},
		{"lone cr", "a\rb\r", "a\nb\n", false},
		{"cr cr lf", "a\r\r\nb", "a\n\nb", false},
		{"nul and C0", "a\x00b\x01c\x1Fd\x0Ce", "abcde", false},
		{"del", "a\x7Fb", "ab", false},
		{"C1", "a\u0080b\u009Fc\u0085d", "abcd", false},
		{"noncharacters", "a\uFFFEb\uFFFFc", "abc", false},
		{"invalid byte", "a\xffb", "a\uFFFDb", false},
		{"truncated sequence", "caf\xc3", "caf\uFFFD", false},
		{"encoded surrogate", "a\xed\xa0\x80b", "a\uFFFDb", false},
		{"latin-1 byte for C1", "It\x92s", "It\uFFFDs", false},
		{"dirty at the very end", strings.Repeat("x", 100) + "\x01", strings.Repeat("x", 100), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CleanText(tc.in)
			if got != tc.want {
				t.Errorf("CleanText(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if slow := cleanTextSlow(tc.in); slow != got {
				t.Errorf("CleanText(%q) = %q, slow path %q", tc.in, got, slow)
			}
			if tc.same && len(got) > 0 && unsafe.StringData(got) != unsafe.StringData(tc.in) {
				t.Errorf("CleanText(%q) copied a clean string", tc.in)
			}
		})
	}
}

// cleanPieces are what the random strings of TestCleanTextFastMatchesSlow
// are made of: every kind of byte and character the fast path decides on.
var cleanPieces = []string{
	"a", "Z", " ", "~", "\t", "\n", "\r", "\r\n", "\x00", "\x01", "\x1F", "\x7F",
	"\u0080", "\u0085", "\u009F", "\u00A0", "é", "€", "‘", "\uFFFD", "\uFFFE", "\uFFFF", "😀", "\U0010FFFF",
	"\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80", "\xc0\xaf",
}

// randomPieces joins fewer than most pieces picked at random.
func randomPieces(rng *rand.Rand, pieces []string, most int) string {
	var b strings.Builder
	for range rng.IntN(most) {
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return b.String()
}

// TestCleanTextFastMatchesSlow compares CleanText with its slow path, and
// runeCount with utf8's, on strings of random pieces, clean and dirty, at
// every position.
func TestCleanTextFastMatchesSlow(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		s := randomPieces(rng, cleanPieces, 12)
		if got, want := CleanText(s), cleanTextSlow(s); got != want {
			t.Fatalf("CleanText(%q) = %q, slow path %q", s, got, want)
		}
		if got, want := runeCount(s), utf8.RuneCountInString(s); got != want {
			t.Fatalf("runeCount(%q) = %d, want %d", s, got, want)
		}
		for _, n := range []int{0, 1, 3, 8, 20} {
			if got, want := runesAtMost(s, n), utf8.RuneCountInString(s) <= n; got != want {
				t.Fatalf("runesAtMost(%q, %d) = %v, want %v", s, n, got, want)
			}
		}
	}
}

// TestTextChecksMatchPlain compares blankText and looksBinary, which skip
// work, with what they stand for, on strings of random pieces mostly white
// space or control bytes (so both answers occur), at every position.
func TestTextChecksMatchPlain(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	spaces := []string{" ", "\t", "\n", "\r", "\v", "\f", "\x00", "\x01", "\x1F", "\u0085", "\u00A0"}
	blanks := 0
	for range 50000 {
		var b strings.Builder
		for range rng.IntN(40) {
			if rng.IntN(8) == 0 {
				b.WriteString(cleanPieces[rng.IntN(len(cleanPieces))])
			} else {
				b.WriteString(spaces[rng.IntN(len(spaces))])
			}
		}
		s := b.String()
		if got, want := blankText(s), strings.TrimSpace(CleanText(s)) == ""; got != want {
			t.Fatalf("blankText(%q) = %v, want %v", s, got, want)
		} else if got {
			blanks++
		}
		if got, want := looksBinary([]byte(s)), looksBinaryPlain([]byte(s)); got != want {
			t.Fatalf("looksBinary(%q) = %v, want %v", s, got, want)
		}
	}
	if blanks == 0 || blanks == 50000 {
		t.Fatalf("%d of 50000 strings blank: the test exercises one answer only", blanks)
	}
}

// TestTxtCollapsedMatchesPlain compares txtCollapsed, eight bytes at a
// time, with the plain reading of what it reports, on strings of random
// words, spaces and other characters, at every position.
func TestTxtCollapsedMatchesPlain(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"word", "a", "Zoë", " ", " ", " ", "  ", "\t", "\n", "\u00A0", "\u2003", ".", "\x7F", "é"}
	collapsed := 0
	for range 50000 {
		s := randomPieces(rng, pieces, 30)
		want := s == strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' }), " ") &&
			!strings.ContainsFunc(s, func(r rune) bool { return r != ' ' && unicode.IsSpace(r) || r < ' ' || r == 0x7F })
		if got := txtCollapsed(s); got != want {
			t.Fatalf("txtCollapsed(%q) = %v, want %v", s, got, want)
		} else if got {
			collapsed++
		}
	}
	if collapsed < 1000 || collapsed > 49000 {
		t.Fatalf("%d of 50000 strings collapsed: the test exercises one answer mostly", collapsed)
	}
}

// looksBinaryPlain is looksBinary a byte at a time.
func looksBinaryPlain(data []byte) bool {
	head := data[:min(len(data), 8192)]
	ctrl := 0
	for _, b := range head {
		if b == 0 {
			return true
		}
		if b < 0x20 && b != '\n' && b != '\r' && b != '\t' && b != '\f' {
			ctrl++
		}
	}
	return len(head) > 0 && ctrl*10 > len(head)
}

// FuzzCleanText compares CleanText with its slow path on any bytes, and
// the quicker text checks with what they stand for.
func FuzzCleanText(f *testing.F) {
	for _, p := range cleanPieces {
		f.Add("ok " + p + " ok")
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, want := CleanText(s), cleanTextSlow(s)
		if got != want {
			t.Fatalf("CleanText(%q) = %q, slow path %q", s, got, want)
		}
		if isClean(s) != (got == s) {
			t.Fatalf("isClean(%q) = %v, but CleanText returns %q", s, isClean(s), got)
		}
		if got, want := runeCount(s), utf8.RuneCountInString(s); got != want {
			t.Fatalf("runeCount(%q) = %d, want %d", s, got, want)
		}
		if got, want := blankText(s), strings.TrimSpace(CleanText(s)) == ""; got != want {
			t.Fatalf("blankText(%q) = %v, want %v", s, got, want)
		}
		if got, want := looksBinary([]byte(s)), looksBinaryPlain([]byte(s)); got != want {
			t.Fatalf("looksBinary(%q) = %v, want %v", s, got, want)
		}
	})
}

// BenchmarkCleanText measures CleanText on a 5 KB article body, clean (the
// common case) and with one character to drop at its end.
func BenchmarkCleanText(b *testing.B) {
	body := strings.Repeat("<p>The council met on Tuesday to discuss the bridge – “again”, said Zoë.</p>\n", 64)
	// Hard-wrapped plain ASCII, as most plain-text articles are.
	wrapped := strings.Repeat("The council met on Tuesday to discuss the bridge again, and the\n", 80)
	for _, bc := range []struct{ name, s string }{
		{"clean", body},
		{"ascii", wrapped},
		{"dirty", body + "\x01"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.s)))
			for b.Loop() {
				CleanText(bc.s)
			}
		})
	}
}

// TestTxtContainsAnyMatchesStrings compares txtContainsAny, which looks for
// each character on its own, with strings.ContainsAny, on strings of random
// pieces: the characters it looks for, pieces of their bytes, and others.
func TestTxtContainsAnyMatchesStrings(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	sets := []struct {
		ascii string
		wide  []string
	}{
		{`"`, []string{"“", "”"}},
		{",|", []string{"–", "—", "·"}},
	}
	pieces := append([]string{`"`, "“", "”", ",", "|", "–", "—", "·", "\xe2\x80", "\x9c", "\xc2", "-", "word "}, cleanPieces...)
	found := 0
	for range 50000 {
		s := randomPieces(rng, pieces, 6)
		for _, set := range sets {
			want := strings.ContainsAny(s, set.ascii+strings.Join(set.wide, ""))
			if got := txtContainsAny(s, set.ascii, set.wide...); got != want {
				t.Fatalf("txtContainsAny(%q, %q, %q) = %v, want %v", s, set.ascii, set.wide, got, want)
			} else if got {
				found++
			}
		}
	}
	if found < 1000 || found > 99000 {
		t.Fatalf("%d of 100000 answers true: the test exercises one answer mostly", found)
	}
}

// summarizePlain is what Summarize does, in the plain way: the white space
// collapsed, and the whole of s converted to characters to cut it.
func summarizePlain(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	head := string([]rune(s)[:limit])
	if i := lastSentenceEnd(head); i >= len(head)/2 {
		return strings.TrimSpace(head[:i+1])
	}
	if i := strings.LastIndexByte(head, ' '); i > 0 {
		head = head[:i]
	}
	return strings.TrimRight(head, " ,;:-–—") + "…"
}

// TestSummarizeMatchesPlain compares Summarize, which skips collapsing
// collapsed text and converts only what it keeps, with summarizePlain on
// strings of random words, white space, sentence ends and bytes that are
// not UTF-8.
func TestSummarizeMatchesPlain(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	pieces := []string{"word", "Zoë", "a", " ", " ", " ", "  ", "\t", "\n", "\u00A0", ". ", "! ", "?", ",", "—", "\xff", "\xe2\x80"}
	cut := 0
	for range 50000 {
		s := randomPieces(rng, pieces, 40)
		for _, limit := range []int{1, 7, 20} {
			got, want := Summarize(s, limit), summarizePlain(s, limit)
			if got != want {
				t.Fatalf("Summarize(%q, %d) = %q, want %q", s, limit, got, want)
			}
			if !strings.HasPrefix(strings.Join(strings.Fields(s), " "), got) {
				cut++
			}
		}
	}
	if cut < 1000 {
		t.Fatalf("%d of 150000 summaries cut: the test exercises the short path mostly", cut)
	}
}

package content

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unique"
	"unsafe"

	"golang.org/x/text/encoding/charmap"
)

// Article is one published file as the feeds see it: parsed fields plus
// the identity and dates that the Store keeps stable across edits and restarts.
type Article struct {
	ID        string    // stable id: a urn:uuid assigned on first sight, or front matter id
	Path      string    // slash-separated path relative to the content folder
	Slug      string    // URL path under /articles/, unique within the folder
	Title     string    // plain text
	Summary   string    // plain text, about 300 characters at most, unless kept on disk: read it with LoadSummary
	HTML      string    // sanitised body HTML, unless kept on disk: read it with LoadHTML
	Author    string    // empty when the file names none
	Tags      []string  // as given, de-duplicated
	Language  string    // BCP 47 tag when the file declares one
	Published time.Time // never changes on edit
	Updated   time.Time // changes only when the content hash changes
	Draft     bool      // drafts are read but never published
	Hash      string    // hex SHA-256 of the raw file bytes
	Warnings  []string  // problems that did not stop the file from being read
	Dropped   []Dropped // lines dropped as boilerplate, for `dropfeed check`

	body bodyRef // where a Library keeps the body HTML (bodies.go)
}

// Parsed is what a parser reads from one file's bytes, before identity and
// dates are settled against the Store.
type Parsed struct {
	Title    string
	Summary  string
	HTML     string
	Author   string
	Tags     []string
	Language string
	ID       string    // front matter id, if any
	Date     time.Time // published date given by the file itself; zero if none
	Updated  time.Time // updated date given by the file itself; zero if none
	Draft    bool
	Warnings []string
	Dropped  []Dropped

	fingerprints []Fingerprint // of a plain-text file's paragraphs, to learn boilerplate from (boilerplate.go)
	// deferred: a Markdown body not rendered yet (Summary is what the
	// front matter gave, HTML is empty); source is the body's Markdown.
	deferred bool
	source   string
}

// Dropped is a line or paragraph a parser left out of the article, and why.
type Dropped struct {
	Text   string `json:"text"`
	Reason string `json:"reason"`
}

// ErrUnsupported is returned by Parse for files that are not articles
// (unknown extensions, dotfiles, editor temporaries).
var ErrUnsupported = errors.New("not an article file")

// ErrBinary is returned by Parse for files whose bytes are not text.
var ErrBinary = errors.New("binary data, not text")

// ErrEmpty is returned by Parse for files with nothing but white space: an
// editor's new or half-saved file, which must not become an entry that
// feed readers keep for ever.
var ErrEmpty = errors.New("empty file, nothing to publish")

// IsArticleFile reports whether the file name (base name or path) is one
// dropfeed reads, as opposed to an unsupported type, a dotfile or an editor's
// temporary or backup file.
func IsArticleFile(name string) bool {
	base := path.Base(strings.ReplaceAll(name, "\\", "/"))
	if base == "" || strings.HasPrefix(base, ".") || strings.HasPrefix(base, "#") ||
		strings.HasSuffix(base, "~") || strings.HasSuffix(base, "#") || base == "4913" {
		return false
	}
	switch strings.ToLower(path.Ext(base)) {
	case ".md", ".markdown", ".txt", ".html", ".htm":
		return true
	}
	return false
}

// Parse reads one article file's bytes. name selects the format by its
// extension. The bytes may be UTF-8 (with or without BOM), UTF-16 with a BOM,
// or Windows-1252/Latin-1; every returned string is valid UTF-8 with no
// characters that XML forbids. Files that are not articles yield
// ErrUnsupported, ErrBinary or ErrEmpty.
func Parse(name string, data []byte) (Parsed, error) { return ParseIn(name, data, nil) }

// ParseIn is Parse for a file of a folder whose learned boilerplate known
// (nil for none) is dropped from a plain-text article.
func ParseIn(name string, data []byte, known Boilerplate) (Parsed, error) {
	return parseIn(name, data, known, false)
}

// parseIn is ParseIn that, with deferMarkdown, leaves the body of a
// Markdown article whose front matter gives its title to renderMarkdown.
func parseIn(name string, data []byte, known Boilerplate, deferMarkdown bool) (Parsed, error) {
	d, err := draftOf(name, data, deferMarkdown, false)
	if err != nil {
		return Parsed{}, err
	}
	return d.finish(known), nil
}

// draft is a file read as far as it can be without what its folder has
// learned: a Markdown or HTML file in full, a plain-text file up to its
// paragraphs and their fingerprints. A scan records the fingerprints of
// many files before it finishes any, so that each is read once, with
// what the others teach.
type draft struct {
	name   string
	warn   string     // the decoding's warning
	parsed Parsed     // a Markdown or HTML file's parse
	text   *textDraft // a plain-text file's paragraphs, or nil
}

// draftOf reads the bytes of the file name as far as a draft goes; the
// errors are Parse's. With owned, data is the caller's own and never
// changes again: the text read from it may share its bytes.
func draftOf(name string, data []byte, deferMarkdown, owned bool) (draft, error) {
	if !IsArticleFile(name) {
		return draft{}, ErrUnsupported
	}
	text, warn, err := decodeText(data, owned)
	if err != nil {
		return draft{}, err
	}
	if blankText(text) {
		return draft{}, ErrEmpty
	}
	d := draft{name: name, warn: warn}
	switch strings.ToLower(path.Ext(name)) {
	case ".md", ".markdown":
		d.parsed, err = parseMarkdown(text, deferMarkdown)
	case ".txt":
		d.text = draftText(text)
	case ".html", ".htm":
		d.parsed, err = parseHTML(text)
	}
	if err != nil {
		return draft{}, err
	}
	return d, nil
}

// fingerprints returns those of a plain-text draft's paragraphs.
func (d *draft) fingerprints() []Fingerprint {
	if d.text == nil {
		return nil
	}
	return txtFingerprints(d.text.paras)
}

// finish completes the parse with the boilerplate known of the file's
// folder (nil for none). A draft is finished once.
func (d *draft) finish(known Boilerplate) Parsed {
	p := d.parsed
	if d.text != nil {
		p = d.text.finish(known)
	}
	if d.warn != "" {
		p.Warnings = append([]string{d.warn}, p.Warnings...)
	}
	p.Title = strings.TrimSpace(CleanText(p.Title))
	p.Summary = CleanText(p.Summary)
	p.HTML = CleanText(p.HTML)
	p.Author = CleanText(p.Author)
	p.ID = strings.TrimSpace(CleanText(p.ID))
	p.Tags = cleanTags(p.Tags)
	p.Date = feedDate("date", p.Date, &p.Warnings)
	p.Updated = feedDate("updated date", p.Updated, &p.Warnings)
	if p.Title == "" {
		p.Title = titleFromName(d.name)
		p.Warnings = append(p.Warnings, "no title found; using the file name")
	}
	return p
}

// feedDate returns t, or zero with a warning when t falls outside the years
// 1 to 9999 in UTC, which no feed format can write (a far offset can push
// 9999-12-31 into year 10000).
func feedDate(field string, t time.Time, warnings *[]string) time.Time {
	if t.IsZero() {
		return t
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		*warnings = append(*warnings, fmt.Sprintf("%s %s is out of range (years 1 to 9999 in UTC); ignored", field, t.Format(time.RFC3339)))
		return time.Time{}
	}
	return t
}

// decodeText turns raw file bytes into a UTF-8 string. It returns a warning
// when it had to guess the encoding or repair the bytes. With owned (see
// draftOf), valid UTF-8 is not copied.
func decodeText(data []byte, owned bool) (string, string, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return decodeUTF16(data)
	}
	if looksBinary(data) {
		return "", "", ErrBinary
	}
	if utf8.Valid(data) {
		if owned && len(data) > 0 {
			// A first start read every file twice over, once as bytes and
			// once as this copy: 500 MB at 100,000 articles.
			return unsafe.String(&data[0], len(data)), "", nil
		}
		return string(data), "", nil
	}
	// A Latin-1 file has no valid multi-byte sequences; a damaged UTF-8 file
	// has mostly valid ones and a few bad bytes, which are replaced.
	if good, bad := utf8Counts(data); good == 0 || bad > good {
		if s, err := charmap.Windows1252.NewDecoder().Bytes(data); err == nil {
			return string(s), "not UTF-8; decoded as Windows-1252", nil
		}
	}
	return strings.ToValidUTF8(string(data), "\uFFFD"), "invalid UTF-8 bytes replaced", nil
}

func decodeUTF16(data []byte) (string, string, error) {
	bigEndian := data[0] == 0xFE
	data = data[2:]
	if len(data)%2 == 1 {
		data = data[:len(data)-1]
	}
	units := make([]uint16, len(data)/2)
	for i := range units {
		if bigEndian {
			units[i] = uint16(data[2*i])<<8 | uint16(data[2*i+1])
		} else {
			units[i] = uint16(data[2*i+1])<<8 | uint16(data[2*i])
		}
	}
	s := string(utf16.Decode(units))
	if strings.ContainsRune(s, 0) {
		return "", "", ErrBinary
	}
	return s, "", nil
}

// looksBinary reports whether data holds NUL bytes or many control bytes in
// its first 8 KiB, as images, archives and executables do.
func looksBinary(data []byte) bool {
	head := data[:min(len(data), 8192)]
	if bytes.IndexByte(head, 0) >= 0 {
		return true
	}
	ctrl := 0
	count := func(bs []byte) {
		for _, b := range bs {
			if b < 0x20 && b != '\n' && b != '\r' && b != '\t' && b != '\f' {
				ctrl++
			}
		}
	}
	// Eight bytes at a time: only words with a byte under 0x20 (a line
	// break, mostly) are counted byte by byte.
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(head); i += 8 {
		if w := binary.LittleEndian.Uint64(head[i:]); (w-0x20*ones)&^w&highs != 0 {
			count(head[i : i+8])
		}
	}
	count(head[i:])
	return len(head) > 0 && ctrl*10 > len(head)
}

// blankText reports whether text is only white space once cleaned, as
// strings.TrimSpace(CleanText(text)) == "" does, without cleaning a text
// whose first character but white space is printable ASCII, which both
// keep: cleaning the whole file only to see that was 2% of a first start.
func blankText(text string) bool {
	i := 0
	for i < len(text) && (text[i] == ' ' || text[i] >= '\t' && text[i] <= '\r') {
		i++
	}
	if i < len(text) && text[i] > ' ' && text[i] < 0x7F {
		return false
	}
	return strings.TrimSpace(CleanText(text)) == ""
}

// utf8Counts counts valid multi-byte UTF-8 sequences and invalid bytes.
func utf8Counts(data []byte) (good, bad int) {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			bad++
		case n > 1:
			good++
		}
		i += n
	}
	return good, bad
}

// CleanText makes s safe for every feed format: valid UTF-8 without the
// characters XML 1.0 forbids or discourages (C0 controls but tab and
// newline, DEL, C1 controls, U+FFFE/U+FFFF). Line breaks become "\n".
// Parse applies it to every field; package feed applies it again to
// whatever it is given, so no caller can make a feed invalid.
func CleanText(s string) string {
	// Nearly every string is clean already: one read-only pass spares the copies.
	if isClean(s) {
		return s
	}
	return cleanTextSlow(s)
}

// isClean reports whether CleanText would return s unchanged: valid UTF-8
// without \r or any character that CleanText drops. Surrogates need no
// check: valid UTF-8 cannot encode them.
func isClean(s string) bool {
	for i := 0; i < len(s); {
		// Eight bytes at a time while they are all printable ASCII: text
		// is, but for a line break every line or so.
		for ; i+8 <= len(s); i += 8 {
			w := word8(s[i:])
			if !printableASCII(w) {
				break
			}
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c-0x20 < 0x7F-0x20 { // printable ASCII, the common case
			i++
			continue
		}
		if c < utf8.RuneSelf {
			if c != '\t' && c != '\n' {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r <= 0x9F || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += n
	}
	return true
}

// word8 returns the first eight bytes of s as one little-endian word (one
// load once inlined), for the checks that read text eight bytes at a time.
func word8(s string) uint64 {
	b := s[:8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// printableASCII reports whether each byte of w is in 0x20-0x7E.
func printableASCII(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// The high bit of w marks bytes of 0x80 and over; of below, bytes
	// under 0x20; of the last term, bytes of 0x7F (a zero in del). A
	// borrow may mark a byte beside one of those too, never one alone:
	// the byte-at-a-time check then decides.
	below := (w - 0x20*ones) &^ w
	del := w ^ 0x7F*ones
	return (w|below|(del-ones)&^del)&highs == 0
}

// runeCount is utf8.RuneCountInString, counting eight bytes at a time
// while they are ASCII, as most lines and paragraphs the plain-text
// heuristics measure are: byte by byte it was 5% of a first start.
func runeCount(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := word8(s[i:])
		if w&0x8080808080808080 != 0 {
			break
		}
	}
	return i + utf8.RuneCountInString(s[i:])
}

// runesAtMost reports whether s has at most n runes, counting them only
// when its length in bytes cannot tell.
func runesAtMost(s string, n int) bool {
	return len(s) <= n || len(s) <= n*utf8.UTFMax && runeCount(s) <= n
}

// cleanTextSlow is CleanText for strings that need cleaning.
func cleanTextSlow(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n':
			return r
		case r == '\r':
			return '\n'
		case r < 0x20, r == 0x7F, r >= 0x80 && r <= 0x9F:
			return -1
		case r == 0xFFFE || r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return -1
		}
		return r
	}, s)
}

func cleanTags(tags []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range tags {
		t = strings.TrimSpace(CleanText(t))
		if t == "" || seen[strings.ToLower(t)] {
			continue
		}
		seen[strings.ToLower(t)] = true
		out = append(out, t)
	}
	return internTags(out)
}

// internTags replaces each tag with the copy of its string that
// unique.Make keeps. A folder has few distinct tags and many tagged
// articles; grouping them for the tag feeds reads every tag of every article
// on each change, which at 100,000 articles meant a cache miss per tag for
// its bytes. The runtime forgets its copy at a collection once no handle to
// it is held, so tags interned in different cycles may be separate copies:
// a few per distinct tag, not one per article.
func internTags(tags []string) []string {
	for i, t := range tags {
		tags[i] = unique.Make(t).Value()
	}
	return tags
}

// titleFromName derives a readable title from a file name:
// "2025-03-01-my-first-post.md" becomes "My first post".
func titleFromName(name string) string {
	base := path.Base(strings.ReplaceAll(name, "\\", "/"))
	base = strings.TrimSuffix(base, path.Ext(base))
	if _, rest, ok := datePrefix(base); ok {
		base = rest
	}
	base = strings.TrimSpace(strings.NewReplacer("-", " ", "_", " ").Replace(base))
	if base == "" {
		return "Untitled"
	}
	r, n := utf8.DecodeRuneInString(base)
	return string(unicode.ToUpper(r)) + base[n:]
}

// datePrefix splits a "YYYY-MM-DD-" prefix off a file's base name.
func datePrefix(base string) (time.Time, string, bool) {
	if len(base) < 11 || base[10] != '-' && base[10] != '_' {
		return time.Time{}, base, false
	}
	t, err := time.Parse("2006-01-02", base[:10])
	if err != nil {
		return time.Time{}, base, false
	}
	return t, base[11:], true
}

// Summarize shortens plain text to at most limit characters (runes), cutting
// at the last sentence end if one falls in the second half, else at a word
// boundary with an ellipsis.
func Summarize(s string, limit int) string {
	if !txtCollapsed(s) {
		s = strings.Join(strings.Fields(s), " ")
	}
	if runesAtMost(s, limit) {
		return s
	}
	head := runePrefix(s, limit)
	if i := lastSentenceEnd(head); i >= len(head)/2 {
		return strings.TrimSpace(head[:i+1])
	}
	if i := strings.LastIndexByte(head, ' '); i > 0 {
		head = head[:i]
	}
	return strings.TrimRight(head, " ,;:-–—") + "…"
}

// runePrefix returns string([]rune(s)[:n]) for s longer than n
// characters, without converting the whole of s.
func runePrefix(s string, n int) string {
	i := 0
	for at := range s {
		if i == n {
			if head := s[:at]; utf8.ValidString(head) {
				return head
			}
			break
		}
		i++
	}
	// A byte that is not UTF-8 turns into U+FFFD, as the conversion does.
	return string([]rune(s)[:n])
}

func lastSentenceEnd(s string) int {
	best := -1
	for i := 0; i < len(s)-1; i++ {
		if (s[i] == '.' || s[i] == '!' || s[i] == '?') && s[i+1] == ' ' {
			best = i
		}
	}
	if n := len(s); n > 0 && (s[n-1] == '.' || s[n-1] == '!' || s[n-1] == '?') {
		best = n - 1
	}
	return best
}

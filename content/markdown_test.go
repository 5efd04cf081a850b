package content

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// wantParsed is what a parser test expects; HTML is checked by fragments.
type wantParsed struct {
	Title, Summary, Author, Language, ID string
	Tags                                 []string
	Date, Updated                        time.Time
	Draft                                bool
	Warnings                             []string // each must appear in one warning, and no others may
	HTMLHas, HTMLLacks                   []string
}

func parseFixture(t *testing.T, dir, name string) Parsed {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", dir, name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(name, data)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return p
}

func checkParsed(t *testing.T, got Parsed, want wantParsed) {
	t.Helper()
	for _, f := range []struct{ name, got, want string }{
		{"Title", got.Title, want.Title},
		{"Summary", got.Summary, want.Summary},
		{"Author", got.Author, want.Author},
		{"Language", got.Language, want.Language},
		{"ID", got.ID, want.ID},
	} {
		if f.got != f.want {
			t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
		}
	}
	if !slices.Equal(got.Tags, want.Tags) {
		t.Errorf("Tags = %q, want %q", got.Tags, want.Tags)
	}
	if got.Date.Location() != time.UTC || got.Updated.Location() != time.UTC {
		t.Errorf("Date and Updated should be in UTC: %v, %v", got.Date, got.Updated)
	}
	if !got.Date.Equal(want.Date) {
		t.Errorf("Date = %v, want %v", got.Date, want.Date)
	}
	if !got.Updated.Equal(want.Updated) {
		t.Errorf("Updated = %v, want %v", got.Updated, want.Updated)
	}
	if got.Draft != want.Draft {
		t.Errorf("Draft = %v, want %v", got.Draft, want.Draft)
	}
	if len(got.Warnings) != len(want.Warnings) {
		t.Errorf("Warnings = %q, want %d matching %q", got.Warnings, len(want.Warnings), want.Warnings)
	}
	for _, w := range want.Warnings {
		if !slices.ContainsFunc(got.Warnings, func(g string) bool { return strings.Contains(g, w) }) {
			t.Errorf("no warning mentions %q in %q", w, got.Warnings)
		}
	}
	for _, s := range want.HTMLHas {
		if !strings.Contains(got.HTML, s) {
			t.Errorf("HTML lacks %q:\n%s", s, got.HTML)
		}
	}
	for _, s := range want.HTMLLacks {
		if strings.Contains(strings.ToLower(got.HTML), strings.ToLower(s)) {
			t.Errorf("HTML still has %q:\n%s", s, got.HTML)
		}
	}
}

func TestParseMarkdownFixtures(t *testing.T) {
	tests := []struct {
		file string
		want wantParsed
	}{
		{"yaml-full.md", wantParsed{
			Title:    "Tide Tables & Ferry Times",
			Summary:  "How the morning ferry follows the tide.",
			Author:   "Ada Quill, Bo Lind",
			Tags:     []string{"harbour", "ferries", "travel"},
			Language: "en-GB",
			ID:       "urn:uuid:0b4f6a52-5d0e-4c3a-9a1e-2f3c4d5e6f70",
			Date:     time.Date(2024, 3, 5, 8, 30, 0, 0, time.UTC),
			Updated:  time.Date(2024, 3, 7, 0, 0, 0, 0, time.UTC),
			Draft:    true,
			// With a front matter title, a # heading is ordinary body text.
			HTMLHas:   []string{"<h1>A heading that stays</h1>", "<p>The first ferry leaves"},
			HTMLLacks: []string{"colour", "---"},
		}},
		{"toml-full.md", wantParsed{
			Title:    "Winter Allotment Notes",
			Summary:  "What survived the first frost.",
			Author:   "Cai Moreno",
			Tags:     []string{"soil", "compost", "frost"},
			Language: "es",
			ID:       "allotment-winter",
			Date:     time.Date(2023, 12, 1, 0, 0, 0, 0, time.UTC),
			Updated:  time.Date(2023, 12, 3, 18, 45, 0, 0, time.UTC),
			HTMLHas:  []string{"<p>Leeks are fine. The chard is not.</p>"},
			HTMLLacks: []string{
				"+++", "mood",
			},
		}},
		{"heading-title.md", wantParsed{
			Title:     "Kettles, Ranked",
			Summary:   "Opening paragraph with emphasis, a link and an entity & a second line.",
			HTMLHas:   []string{"<h2>Method</h2>", `<a href="https://example.org/" rel="nofollow">link</a>`},
			HTMLLacks: []string{"<h1", "Kettles"},
		}},
		{"bad-date.md", wantParsed{
			Title:    "Sometime",
			Summary:  "Body.",
			Warnings: []string{`date: cannot read "next Tuesday"`, `updated: cannot read "2024-02-30"`},
		}},
		{"gfm.md", wantParsed{
			Title:   "Pantry",
			Summary: "stale bread and fresh rolls, see https://example.com/pantry.",
			HTMLHas: []string{
				"<table>", `<th align="left">Item</th>`, `<td align="right">12</td>`,
				"<del>stale bread</del>",
				`<a href="https://example.com/pantry" rel="nofollow">https://example.com/pantry</a>`,
				`<input checked="" disabled="" type="checkbox"> oats`,
				`<input disabled="" type="checkbox"> honey`,
			},
			HTMLLacks: []string{"<h1", "|---"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			checkParsed(t, parseFixture(t, "markdown", tt.file), tt.want)
		})
	}
}

func TestParseMarkdownFrontMatterErrors(t *testing.T) {
	tests := []struct{ file, mention string }{
		{"malformed-yaml.md", "front matter: yaml: line 3"},
		{"malformed-toml.md", "front matter: toml: line 1"},
		{"unclosed.md", "front matter: no closing --- line"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "markdown", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(tt.file, data)
			if err == nil || !strings.HasPrefix(err.Error(), tt.mention) {
				t.Fatalf("Parse(%s) error = %v, want one starting %q", tt.file, err, tt.mention)
			}
		})
	}
}

func TestParseMarkdownFields(t *testing.T) {
	tests := []struct {
		name, src string
		want      wantParsed
	}{
		{"yaml tags as string, author as string", "---\ntitle: T\ntags: one, two ,three\nauthor: Eve\n---\nx\n",
			wantParsed{Title: "T", Summary: "x", Author: "Eve", Tags: []string{"one", "two", "three"}}},
		{"toml tags as list, categories as string, authors list", "+++\ntitle = 'T'\ntags = ['a', 'b']\ncategories = 'c'\nauthor = ['P', 'Q']\n+++\nx\n",
			wantParsed{Title: "T", Summary: "x", Author: "P, Q", Tags: []string{"a", "b", "c"}}},
		{"duplicate tags folded", "---\ntitle: T\ntags: [Go, go]\ncategories: [GO, web]\n---\nx\n",
			wantParsed{Title: "T", Summary: "x", Tags: []string{"Go", "web"}}},
		{"updated wins over lastmod", "---\ntitle: T\nupdated: 2024-01-02\nlastmod: 2025-01-01\n---\nx\n",
			wantParsed{Title: "T", Summary: "x", Updated: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)}},
		{"draft as string", "---\ntitle: T\ndraft: \"yes please\"\n---\nx\n",
			wantParsed{Title: "T", Summary: "x", Warnings: []string{"draft"}}},
		{"draft false", "+++\ntitle = 'T'\ndraft = false\n+++\nx\n",
			wantParsed{Title: "T", Summary: "x"}},
		{"numeric id and title", "---\ntitle: 1984\nid: 42\n---\nx\n",
			wantParsed{Title: "1984", ID: "42", Summary: "x"}},
		{"empty front matter", "---\n---\n# Head\n\nbody\n",
			wantParsed{Title: "Head", Summary: "body", HTMLLacks: []string{"<h1"}}},
		{"CRLF line endings", "---\r\ntitle: Windows\r\ntags: [crlf]\r\n---\r\nText here.\r\n",
			wantParsed{Title: "Windows", Summary: "Text here.", Tags: []string{"crlf"}}},
		{"setext title, later h1 kept", "Big Title\n=========\n\nIntro.\n\n# Second\n",
			wantParsed{Title: "Big Title", Summary: "Intro.", HTMLHas: []string{"<h1>Second</h1>"}, HTMLLacks: []string{"Big Title"}}},
		{"summary skips image-only paragraph", "# T\n\n![](a.png)\n\nReal words.\n",
			wantParsed{Title: "T", Summary: "Real words.", HTMLHas: []string{`<img src="a.png"`}}},
		{"four dashes are a rule, not front matter", "----\n\nText.\n",
			wantParsed{Title: "Note", Summary: "Text.", Warnings: []string{"no title"}, HTMLHas: []string{"<hr"}}},
		{"no title anywhere", "Just text.\n",
			wantParsed{Title: "Note", Summary: "Just text.", Warnings: []string{"no title"}}},
		{"long first paragraph summarised", "# T\n\n" + strings.Repeat("word ", 100) + "\n",
			wantParsed{Title: "T", Summary: Summarize(strings.Repeat("word ", 100), 300), HTMLHas: []string{"<p>word word"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("note.md", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			checkParsed(t, p, tt.want)
		})
	}
}

func TestParseMarkdownDates(t *testing.T) {
	tests := []struct {
		name, frontMatter string
		want              time.Time
	}{
		{"yaml RFC 3339", "---\ndate: 2024-06-01T10:20:30+02:00\n---", time.Date(2024, 6, 1, 8, 20, 30, 0, time.UTC)},
		{"yaml RFC 3339 quoted", "---\ndate: \"2024-06-01T10:20:30Z\"\n---", time.Date(2024, 6, 1, 10, 20, 30, 0, time.UTC)},
		{"yaml date", "---\ndate: 2024-06-01\n---", time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)},
		{"yaml date quoted", "---\ndate: '2024-06-01'\n---", time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)},
		{"yaml date and minutes", "---\ndate: 2024-06-01 10:20\n---", time.Date(2024, 6, 1, 10, 20, 0, 0, time.UTC)},
		{"yaml date and seconds", "---\ndate: 2024-06-01 10:20:30\n---", time.Date(2024, 6, 1, 10, 20, 30, 0, time.UTC)},
		{"yaml T without zone", "---\ndate: 2024-06-01T10:20:30\n---", time.Date(2024, 6, 1, 10, 20, 30, 0, time.UTC)},
		{"toml offset date-time", "+++\ndate = 2024-06-01T10:20:30-05:00\n+++", time.Date(2024, 6, 1, 15, 20, 30, 0, time.UTC)},
		{"toml local date", "+++\ndate = 2024-06-01\n+++", time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)},
		{"toml local date-time", "+++\ndate = 2024-06-01T10:20:30\n+++", time.Date(2024, 6, 1, 10, 20, 30, 0, time.UTC)},
		{"toml string with space", "+++\ndate = \"2024-06-01 10:20\"\n+++", time.Date(2024, 6, 1, 10, 20, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("d.md", []byte(tt.frontMatter+"\n# T\n\nx\n"))
			if err != nil {
				t.Fatal(err)
			}
			if !p.Date.Equal(tt.want) {
				t.Errorf("Date = %v, want %v", p.Date, tt.want)
			}
			if len(p.Warnings) != 0 {
				t.Errorf("Warnings = %q, want none", p.Warnings)
			}
		})
	}
}

func TestMarkdownAndHTMLHostileMarkupRemoved(t *testing.T) {
	tests := []struct {
		dir, file string
		keep      []string
	}{
		{"markdown", "hostile.md", []string{"here", "there", "hover", `alt="pic"`}},
		{"html", "hostile.html", []string{"bad link", `href="https://example.org/"`, "good one", `alt="pic"`}},
	}
	hostile := []string{"<script", "alert", "onclick", "onmouseover", "onerror", "javascript:", "<iframe", "<form", "<input", "<style"}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p := parseFixture(t, tt.dir, tt.file)
			checkParsed(t, p, wantParsed{
				Title:     p.Title,
				Summary:   p.Summary,
				HTMLHas:   tt.keep,
				HTMLLacks: hostile,
			})
			if strings.Contains(p.Summary, "alert") {
				t.Errorf("Summary carries script text: %q", p.Summary)
			}
		})
	}
}

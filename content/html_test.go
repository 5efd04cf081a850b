package content

import (
	"testing"
	"time"
)

func TestParseHTMLFixtures(t *testing.T) {
	tests := []struct {
		file string
		want wantParsed
	}{
		{"full.html", wantParsed{
			Title:     "The Lachine Canal",
			Summary:   "A short walk along the canal.",
			Author:    "Dana Roux",
			Tags:      []string{"walking", "canals", "Montreal", "locks"},
			Language:  "fr-CA",
			Date:      time.Date(2024, 5, 10, 11, 15, 0, 0, time.UTC),
			Updated:   time.Date(2024, 5, 11, 12, 0, 0, 0, time.UTC),
			HTMLHas:   []string{"<p>The towpath is busy on Saturdays.</p>", "<p>Cyclists keep to the left.</p>"},
			HTMLLacks: []string{"<h1", "Lachine", "Home", "Copyright", "tracking", "<article"},
		}},
		{"title-only.html", wantParsed{
			Title:     "Notes on Sourdough",
			Summary:   "Feed the starter twice a day.",
			Date:      time.Date(2022, 11, 20, 0, 0, 0, 0, time.UTC),
			HTMLHas:   []string{"<p>Feed the starter twice a day.</p>", `<time datetime="2022-11-20">last autumn</time>`},
			HTMLLacks: []string{"Menu", "<main", "<title"},
		}},
		{"fragment.html", wantParsed{
			Title:     "Fragment Title",
			Summary:   "First words of a fragment with a break.",
			HTMLHas:   []string{"<p>First words of a fragment<br/>with a break.</p>", "<p>Second paragraph.</p>"},
			HTMLLacks: []string{"<h1", "<body", "<html"},
		}},
		{"bad-date.html", wantParsed{
			Title:    "Undated",
			Summary:  "Text.",
			Warnings: []string{`published date: cannot read "the other day"`},
			HTMLHas:  []string{"<p>Text.</p>"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			checkParsed(t, parseFixture(t, "html", tt.file), tt.want)
		})
	}
}

func TestParseHTMLInline(t *testing.T) {
	tests := []struct {
		name, src string
		want      wantParsed
	}{
		{"h1 outside article is the title but stays put",
			"<body><h1>Blog</h1><article><p>Post body.</p></article></body>",
			wantParsed{Title: "Blog", Summary: "Post body.", HTMLHas: []string{"<p>Post body.</p>"}}},
		{"h1 inside article wins over page h1",
			"<h1>Site</h1><article><h1>Post</h1><p>Words.</p></article>",
			wantParsed{Title: "Post", Summary: "Words.", HTMLLacks: []string{"Post", "Site"}}},
		{"og description as summary fallback, name attribute for tag",
			`<head><title>T</title><meta property="og:description" content="From OG."><meta name="article:tag" content="x"></head><p>Body.</p>`,
			wantParsed{Title: "T", Summary: "From OG.", Tags: []string{"x"}}},
		{"no title at all",
			"<p>Only a paragraph.</p>",
			wantParsed{Title: "Page", Summary: "Only a paragraph.", Warnings: []string{"no title"}}},
		{"summary text skips script and joins blocks",
			"<h1>T</h1><p>One<script>alert(1)</script> <b>bold</b><span>tail</span></p>",
			wantParsed{Title: "T", Summary: "One boldtail"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("page.htm", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			checkParsed(t, p, tt.want)
		})
	}
}

package content

import (
	"bufio"
	"bytes"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/text/encoding/charmap"
)

// textWant is the expected result for one fixture in testdata/text, read
// from its .want file: "key: value" lines, absent and present repeatable.
type textWant struct {
	title, summary, author, date, updated, tags, language string
	absent, present                                       []string
}

func readTextWant(t *testing.T, path string) textWant {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var w textWant
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			continue
		}
		switch key {
		case "title":
			w.title = value
		case "summary":
			w.summary = value
		case "author":
			w.author = value
		case "date":
			w.date = value
		case "updated":
			w.updated = value
		case "tags":
			w.tags = value
		case "language":
			w.language = value
		case "absent":
			w.absent = append(w.absent, value)
		case "present":
			w.present = append(w.present, value)
		default:
			t.Fatalf("%s: unknown key %q", path, key)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return w
}

// boilerplateReasons are the drop reasons whose text must never reach a
// summary or body.
var boilerplateReasons = []string{dropBanner, dropAppeal, dropCTA, dropCaption, dropFooter}

// checkNoBoilerplate fails when a dropped banner, appeal, call to action or
// caption shows up in the summary or as a paragraph of the body.
func checkNoBoilerplate(t *testing.T, name string, p Parsed) {
	t.Helper()
	for _, d := range p.Dropped {
		if !slices.Contains(boilerplateReasons, d.Reason) {
			continue
		}
		text := strings.Join(strings.Fields(d.Text), " ")
		if len(text) >= 12 && strings.Contains(p.Summary, text) {
			t.Errorf("%s: summary holds dropped %s %q", name, d.Reason, text)
		}
		if strings.Contains(p.HTML, ">"+html.EscapeString(text)+"<") ||
			len(text) >= 12 && strings.Contains(p.HTML, html.EscapeString(text)) {
			t.Errorf("%s: body holds dropped %s %q", name, d.Reason, text)
		}
	}
}

// TestExtraction reads the evaluation corpus: the plain-text articles of
// testdata/text, each alone, and those of testdata/text/site, a site whose
// name line and footer only the boilerplate learned from its folder can
// tell from the story.
func TestExtraction(t *testing.T) {
	titles, summaries, total := 0, 0, 0
	for _, folder := range []struct {
		dir   string
		learn bool
	}{{"text", false}, {"text/site", true}} {
		names, err := filepath.Glob(filepath.Join("testdata", folder.dir, "*.txt"))
		if err != nil {
			t.Fatal(err)
		}
		var known Boilerplate
		if folder.learn {
			known = learnFolder(t, names)
		}
		for _, path := range names {
			name := strings.TrimPrefix(filepath.ToSlash(path), "testdata/")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			w := readTextWant(t, strings.TrimSuffix(path, ".txt")+".want")
			p, err := ParseIn(name, data, known)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			total++
			if p.Title == w.title {
				titles++
			} else {
				t.Errorf("%s: title %q, want %q", name, p.Title, w.title)
			}
			if w.summary != "" && strings.HasPrefix(p.Summary, w.summary) {
				summaries++
			} else {
				t.Errorf("%s: summary %q, want prefix %q", name, p.Summary, w.summary)
			}
			checkTextMeta(t, name, p, w)
			for _, s := range w.absent {
				if strings.Contains(p.Title, s) || strings.Contains(p.Summary, s) || strings.Contains(p.HTML, s) ||
					strings.Contains(p.HTML, html.EscapeString(s)) {
					t.Errorf("%s: %q must not appear in title, summary or body", name, s)
				}
			}
			for _, s := range w.present {
				if !strings.Contains(p.HTML, s) && !strings.Contains(p.HTML, html.EscapeString(s)) {
					t.Errorf("%s: body lacks %q:\n%s", name, s, p.HTML)
				}
			}
			checkNoBoilerplate(t, name, p)
		}
	}
	if total < 60 {
		t.Errorf("read %d articles, want at least 60", total)
	}
	t.Logf("titles %d/%d, summaries %d/%d", titles, total, summaries, total)
}

// learnFolder learns the boilerplate of one folder's files, as a Library
// does, and returns it for the folder.
func learnFolder(t *testing.T, paths []string) Boilerplate {
	t.Helper()
	files := map[string][]Fingerprint{}
	dir := ""
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.ToSlash(path)
		dir = filepath.ToSlash(filepath.Dir(path))
		p, err := ParseIn(name, data, NewLearned(nil).Folder(dir))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = p.fingerprints
	}
	return NewLearned(files).Folder(dir)
}

// TestExtractionSiteNeedsLearning checks that the site corpus is one the
// heuristics alone misread, so that TestExtraction measures learning.
func TestExtractionSiteNeedsLearning(t *testing.T) {
	names, err := filepath.Glob(filepath.Join("testdata", "text", "site", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 4 {
		t.Fatalf("%d site files, want at least 4", len(names))
	}
	for _, path := range names {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Parse(path, data)
		if err != nil {
			t.Fatal(err)
		}
		if p.Title != "Kestrel Valley Voice" {
			t.Errorf("%s: read alone, title %q: the heuristics should not know the site's name", path, p.Title)
		}
	}
}

func checkTextMeta(t *testing.T, name string, p Parsed, w textWant) {
	t.Helper()
	if w.author != "" && p.Author != w.author {
		t.Errorf("%s: author %q, want %q", name, p.Author, w.author)
	}
	for _, c := range []struct {
		what string
		got  time.Time
		want string
	}{{"date", p.Date, w.date}, {"updated", p.Updated, w.updated}} {
		if c.want == "" {
			continue
		}
		want, err := time.Parse(time.RFC3339, c.want)
		if err != nil {
			t.Fatalf("%s: bad %s in .want: %v", name, c.what, err)
		}
		if !c.got.Equal(want) {
			t.Errorf("%s: %s %v, want %v", name, c.what, c.got, want)
		}
	}
	if w.tags != "" && strings.Join(p.Tags, ",") != w.tags {
		t.Errorf("%s: tags %q, want %q", name, p.Tags, w.tags)
	}
	if w.language != "" && p.Language != w.language {
		t.Errorf("%s: language %q, want %q", name, p.Language, w.language)
	}
}

func TestExtractionSeed(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "shared", "seeds", "moscow-times-medal.txt"))
	if os.IsNotExist(err) {
		t.Skip("seed article not present beside the repository")
	}
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse("moscow-times-medal.txt", data)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Putin Hands World War II Medal to North Korea’s Kim Jong Un"; p.Title != want {
		t.Errorf("title %q, want %q", p.Title, want)
	}
	if !strings.HasPrefix(p.Summary, "Russian President Vladimir Putin has given") {
		t.Errorf("summary %q", p.Summary)
	}
	for _, s := range []string{"Support The Moscow Times", "small favor to ask", "foreign agent",
		"refuse to be silenced", "support us monthly", "<p>Continue</p>", "<p>Read more</p>", "Valery Sharifulin"} {
		if strings.Contains(p.Title+p.Summary+p.HTML, s) || strings.Contains(p.HTML, html.EscapeString(s)) {
			t.Errorf("%q leaked into title, summary or body", s)
		}
	}
	if !strings.Contains(p.HTML, "75th anniversary of Victory Day") {
		t.Errorf("last story paragraph missing from body:\n%s", p.HTML)
	}
	checkNoBoilerplate(t, "seed", p)
}

// TestSampleTexts checks the plain-text samples of the demo folder.
func TestSampleTexts(t *testing.T) {
	names, err := filepath.Glob(filepath.Join("..", "testdata", "sample", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no plain-text samples in ../testdata/sample")
	}
	for _, path := range names {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Parse(filepath.Base(path), data)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if p.Title == "" || p.Summary == "" || !strings.HasPrefix(p.HTML, "<p>") || len(p.Warnings) > 0 {
			t.Errorf("%s: title %q, summary %q, warnings %q, html %q", path, p.Title, p.Summary, p.Warnings, p.HTML)
		}
		checkNoBoilerplate(t, path, p)
	}
}

// dropReasons returns the reasons parseText gave for dropping each text.
func dropReasons(p Parsed) map[string]string {
	m := map[string]string{}
	for _, d := range p.Dropped {
		m[d.Text] = d.Reason
	}
	return m
}

func TestTextHeadline(t *testing.T) {
	tests := []struct {
		name, in, title string
		dropped         map[string]string
		summary         string // when set, the summary's prefix
	}{
		{"first line", "Mayor Resigns\n\nThe mayor resigned.", "Mayor Resigns", nil, "The mayor resigned."},
		{"banner", "Support The Daily Planet!\n\nMayor Resigns\n\nThe mayor resigned.", "Mayor Resigns",
			map[string]string{"Support The Daily Planet!": dropBanner}, "The mayor resigned."},
		{"banner without blank line", "Support The Daily Planet!\nMayor Resigns\n\nThe mayor resigned.", "Mayor Resigns",
			map[string]string{"Support The Daily Planet!": dropBanner}, "The mayor resigned."},
		{"cta lines", "Subscribe\nSign in\n\nMayor Resigns\n\nThe mayor resigned.", "Mayor Resigns",
			map[string]string{"Subscribe": dropBanner, "Sign in": dropBanner}, "The mayor resigned."},
		{"advertisement", "ADVERTISEMENT\n\nMayor Resigns\n\nThe mayor resigned.", "Mayor Resigns",
			map[string]string{"ADVERTISEMENT": dropBanner}, "The mayor resigned."},
		{"byline first", "By Jane Doe\n\nMayor Resigns\n\nThe mayor resigned.", "Mayor Resigns",
			map[string]string{"By Jane Doe": dropByline}, "The mayor resigned."},
		{"dateline first", "2025-03-03\n\nMayor Resigns\n\nThe mayor resigned.", "Mayor Resigns",
			map[string]string{"2025-03-03": dropDateline}, "The mayor resigned."},
		{"headline about support", "Support for Mayor Slips\n\nPolls show it.", "Support for Mayor Slips", nil, ""},
		{"headline starting with By", "By Any Means Necessary\n\nA review.", "By Any Means Necessary", nil, ""},
		{"markdown heading mark", "# Mayor Resigns\n\nThe mayor resigned.", "Mayor Resigns", nil, "The mayor resigned."},
		{"long first paragraph is not a headline", strings.Repeat("The mayor resigned today. ", 10) + "\n\nMore.", "", nil, ""},
		{"header title wins over a headline in the text", "Title: From Header\nAuthor: A. B.\n\nMayor Resigns\n\nThe mayor resigned.", "From Header",
			map[string]string{"Mayor Resigns": dropHeadline}, "The mayor resigned."},
		{"header title repeated after byline", "Title: Mayor Resigns\n\nBy Jane Doe\n\nMayor Resigns\n\nThe mayor resigned.", "Mayor Resigns",
			map[string]string{"By Jane Doe": dropByline, "Mayor Resigns": dropTitle}, "The mayor resigned."},
		{"byline-shaped headline before story", "By Royal Command\n\nThe guards paraded on Friday.", "By Royal Command", nil, ""},
		{"appeal-shaped headline before story", "Please Donate Blood, Hospitals Urge\n\nStocks are low.", "Please Donate Blood, Hospitals Urge", nil, ""},
		{"headline starting Support the", "Support the Troops Rally Draws Thousands\n\nThousands came.", "Support the Troops Rally Draws Thousands", nil, ""},
		{"appeal after headline", "Mayor Resigns\n\nDear reader, we have a small favour to ask before you read on: our newsroom " +
			"depends on you, and a small monthly gift keeps it going.\n\nThe mayor resigned.", "Mayor Resigns",
			map[string]string{"Dear reader, we have a small favour to ask before you read on: our newsroom depends on you, " +
				"and a small monthly gift keeps it going.": dropAppeal}, "The mayor resigned."},
		{"banner before a headline ending in a full stop", "Support The Daily Planet!\n\nMayor resigns.\n\nHe was 70.", "Mayor resigns.",
			map[string]string{"Support The Daily Planet!": dropBanner}, "He was 70."},
		{"cookie notice", "We use cookies to improve your experience.\n\nMayor Resigns\n\nThe mayor resigned.", "Mayor Resigns",
			map[string]string{"We use cookies to improve your experience.": dropCookie}, "The mayor resigned."},
		{"headline about cookies", "EU Cookie Law: What the New Privacy Rules Mean\n\nThe rules apply from May.",
			"EU Cookie Law: What the New Privacy Rules Mean", nil, "The rules apply from May."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseText(tt.in, nil)
			if err != nil {
				t.Fatal(err)
			}
			if p.Title != tt.title {
				t.Errorf("title %q, want %q", p.Title, tt.title)
			}
			got := dropReasons(p)
			for text, reason := range tt.dropped {
				if got[text] != reason {
					t.Errorf("dropped %q as %q, want %q (all: %v)", text, got[text], reason, got)
				}
			}
			if tt.dropped == nil && len(p.Dropped) > 0 {
				t.Errorf("dropped %v, want nothing", p.Dropped)
			}
			if !strings.HasPrefix(p.Summary, tt.summary) {
				t.Errorf("summary %q, want prefix %q", p.Summary, tt.summary)
			}
		})
	}
}

func TestTextCaption(t *testing.T) {
	tests := []struct {
		name, caption string
		want          bool
	}{
		{"slash agency", "Crowds gather in the square on Friday. Anna Berg / TASS", true},
		{"slash via getty", "Crowds gather in the square. Anna Berg/AFP via Getty Images", true},
		{"photo by", "Crowds gather in the square. (Photo by Anna Berg/Getty Images)", true},
		{"photo label", "Crowds gather in the square. Photo: Anna Berg", true},
		{"photo label first", "Photo: Crowds gather in the square.", true},
		{"ap photo", "Crowds gather in the square. (AP Photo/Anna Berg)", true},
		{"stock agency near top", "Crowds gather in the square. Getty Images", true},
		{"copyright", "Crowds gather in the square. © Anna Berg", true},
		{"story sentence", "Crowds gathered in the square on Friday, police said.", false},
		{"slash in prose", "The vote was split along yes/no lines.", false},
		{"pictures by a date", "The agency will release the pictures by Monday.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := "Square Protest Grows\n\n" + tt.caption + "\n\nThousands protested on Friday against the plan.\n"
			p, err := parseText(in, nil)
			if err != nil {
				t.Fatal(err)
			}
			dropped := dropReasons(p)[tt.caption] == dropCaption
			if dropped != tt.want {
				t.Errorf("caption dropped = %v, want %v (dropped: %v)", dropped, tt.want, p.Dropped)
			}
			wantSummary := "Thousands protested"
			if !tt.want {
				wantSummary = tt.caption[:10]
			}
			if !strings.HasPrefix(p.Summary, wantSummary) {
				t.Errorf("summary %q, want prefix %q", p.Summary, wantSummary)
			}
		})
	}
}

func TestTextAppealCut(t *testing.T) {
	story := []string{
		"The council voted on Tuesday to close the old pool.",
		"Swimmers said they would protest.",
		"The new pool opens in 2027.",
	}
	tests := []struct {
		name   string
		paras  []string
		keep   []string // must stay in the body
		cutOff []string // must be dropped
	}{
		{"favour appeal with cta", append(slices.Clone(story), "… we have a small favor to ask.",
			"Our reporters need your help.", "Please support us monthly.", "Continue", "Read more"),
			story, []string{"small favor", "Our reporters", "support us monthly", "Continue", "Read more"}},
		{"newsletter footer", append(slices.Clone(story), "Sign up for our weekly newsletter to get the news first."),
			story, []string{"weekly newsletter"}},
		{"member appeal", append(slices.Clone(story), "Become a member today and help us keep local news free for you."),
			story, []string{"Become a member"}},
		{"support mentioned mid-story", []string{
			"The council voted on Tuesday to close the old pool.",
			"Support for the plan was thin: only four of eleven councillors backed it.",
			"“Please support us,” said the swimming club chair, asking residents to sign a petition.",
			"Residents who want to support the club can join its committee.",
			"The new pool opens in 2027."},
			[]string{"Support for the plan", "Please support us", "support the club", "The new pool opens"}, nil},
		{"appeal block mid-story", []string{
			"The council voted on Tuesday to close the old pool.",
			"Swimmers said they would protest.",
			"Dear reader, we have a small favour to ask. Independent journalism like this depends on readers like you.",
			"Every contribution, big or small, helps us keep our reporting open to all. Please consider a donation today.",
			"Donate now",
			"The new pool opens in 2027.", "Its chair is Ada Berg.", "The club has 400 members."},
			[]string{"Swimmers said", "The new pool opens", "Its chair", "400 members"},
			[]string{"small favour", "Every contribution", "Donate now"}},
		{"column talking to the reader is not an appeal block", []string{
			"The council voted on Tuesday to close the old pool.",
			"If you value the pool, please support the campaign to save it: we have until May.",
			"We all learned to swim there. Our children did too, and you probably did as well.",
			"We should not let it go without a fight.",
			"The new pool opens in 2027.", "Its chair is Ada Berg.", "The club has 400 members."},
			[]string{"We all learned", "We should not", "The new pool opens"}, nil},
		{"appeal phrase early is not a cut", []string{
			"The council voted on Tuesday to close the old pool.",
			"Become a member of the swimming club and you keep your discount, the club told its members.",
			"Swimmers said they would protest.", "The club has 400 members.", "Its chair is Ada Berg.",
			"The new pool opens in 2027."},
			[]string{"Become a member", "The new pool opens"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseText("Pool to Close\n\n"+strings.Join(tt.paras, "\n\n")+"\n", nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.keep {
				if !strings.Contains(html.UnescapeString(p.HTML), s) {
					t.Errorf("body lost %q:\n%s", s, p.HTML)
				}
			}
			for _, s := range tt.cutOff {
				if strings.Contains(html.UnescapeString(p.HTML), s) {
					t.Errorf("body kept %q:\n%s", s, p.HTML)
				}
			}
			if !strings.HasPrefix(p.Summary, "The council voted") {
				t.Errorf("summary %q", p.Summary)
			}
		})
	}
}

func TestTextParagraphs(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"hard wrap joined",
			"Title\n\nThe quick brown fox jumps over the lazy dog and keeps running far\naway into the woods.\n",
			"<p>The quick brown fox jumps over the lazy dog and keeps running far away into the woods.</p>\n"},
		{"short lines kept apart",
			"Title\n\nThe quick brown fox jumps over the lazy dog and keeps running far\naway.\nShort line here.\nAnother line, long enough to show the text is wrapped at 70.\n",
			"<p>The quick brown fox jumps over the lazy dog and keeps running far away.</p>\n<p>Short line here.</p>\n<p>Another line, long enough to show the text is wrapped at 70.</p>\n"},
		{"hyphen break joined without space",
			"Title\n\nThe regional government unveiled a plan to rebuild the flood-\ndamaged villages of the upper valley by the end of 2028 at last.\n",
			"<p>The regional government unveiled a plan to rebuild the flood-damaged villages of the upper valley by the end of 2028 at last.</p>\n"},
		{"byline in wrapped text stands alone",
			"A Very Long Headline About the Regional Council and Its New Budget\nBy Jane Doe\n\nThe council passed its budget on Tuesday after a long debate.\n",
			"<p>The council passed its budget on Tuesday after a long debate.</p>\n"},
		{"unordered list",
			"Title\n\nWe need:\n- bread\n- milk and\n  honey\n• tea\n",
			"<p>We need:</p>\n<ul>\n<li>bread</li>\n<li>milk and honey</li>\n<li>tea</li>\n</ul>\n"},
		{"ordered list with start",
			"Title\n\n3. third\n4) fourth\n",
			"<ol start=\"3\">\n<li>third</li>\n<li>fourth</li>\n</ol>\n"},
		{"dash inside wrapped sentence is not a list",
			"Title\n\nThe plan, drawn up over the summer by the council's planners, was simple and\n- as always - nobody read it.\n",
			"<p>The plan, drawn up over the summer by the council&#39;s planners, was simple and - as always - nobody read it.</p>\n"},
		{"escaping and links",
			"Title\n\nSee <b>this</b> & https://example.com/a?b=1&c=2, or (https://example.com/x).\n",
			"<p>See &lt;b&gt;this&lt;/b&gt; &amp; <a href=\"https://example.com/a?b=1&amp;c=2\">https://example.com/a?b=1&amp;c=2</a>, or (<a href=\"https://example.com/x\">https://example.com/x</a>).</p>\n"},
		{"rules separate paragraphs",
			"Title\n\nOne.\n* * *\nTwo.\n",
			"<p>One.</p>\n<p>Two.</p>\n"},
		{"crlf",
			"Title\r\n\r\nThe quick brown fox jumps over the lazy dog and keeps running far\r\naway into the woods.\r\n",
			"<p>The quick brown fox jumps over the lazy dog and keeps running far away into the woods.</p>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseText(tt.in, nil)
			if err != nil {
				t.Fatal(err)
			}
			if p.HTML != tt.want {
				t.Errorf("html\n%s\nwant\n%s", p.HTML, tt.want)
			}
		})
	}
}

func TestTextDates(t *testing.T) {
	utc := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }
	tests := []struct {
		line string
		date time.Time
		ok   bool
	}{
		{"Published 3 March 2025", utc(2025, 3, 3, 0, 0), true},
		{"2025-03-03", utc(2025, 3, 3, 0, 0), true},
		{"March 3, 2025 10:00 GMT", utc(2025, 3, 3, 10, 0), true},
		{"3 March 2025", utc(2025, 3, 3, 0, 0), true},
		{"Monday, March 3, 2025 at 2:30 p.m. EST", utc(2025, 3, 3, 19, 30), true},
		{"Mon 3 Mar 2025 10.00 GMT", utc(2025, 3, 3, 10, 0), true},
		{"2025-03-03T10:00:00+03:00", utc(2025, 3, 3, 7, 0), true},
		{"Published 3 March 2025 · 4 min read", utc(2025, 3, 3, 0, 0), true},
		{"3 hours ago", time.Time{}, true},
		{"February 30, 2025", time.Time{}, false},
		{"Prices rose in March 2025", time.Time{}, false},
		{"The 3 March 2025 vote was close.", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			dates, ok := txtDateline(tt.line)
			if ok != tt.ok {
				t.Fatalf("dateline = %v, want %v", ok, tt.ok)
			}
			var got time.Time
			if len(dates) > 0 {
				got = dates[0].t
			}
			if !got.Equal(tt.date) {
				t.Errorf("date %v, want %v", got, tt.date)
			}
		})
	}
}

func TestTextByline(t *testing.T) {
	tests := []struct {
		line, author string
		ok           bool
	}{
		{"By Jane Doe", "Jane Doe", true},
		{"BY JANE DOE", "JANE DOE", true},
		{"By Jane Doe and John Roe", "Jane Doe and John Roe", true},
		{"By Jane Doe, Reuters", "Jane Doe", true},
		{"By Jane Doe, staff writer", "Jane Doe", true},
		{"By Jane Doe | March 3, 2025", "Jane Doe", true},
		{"Posted by Ana de la Cruz on 4 May 2025", "Ana de la Cruz", true},
		{"Jane Doe, Reuters", "Jane Doe", true},
		{"Jane Doe | Moscow Correspondent", "Jane Doe", true},
		{"By Monday, the city had run out of water.", "", false},
		{"By the Numbers", "", false},
		{"Reuters", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			author, _, ok := txtByline(tt.line)
			if ok != tt.ok || author != tt.author {
				t.Errorf("byline = %q, %v; want %q, %v", author, ok, tt.author, tt.ok)
			}
		})
	}
}

func TestTextHeader(t *testing.T) {
	in := "Title: Header Title\nDate: 2025-05-02\nUpdated: 2025-05-03 10:00\nAuthor: Pia Lind\n" +
		"Tags: a, b ,c\nLang: de-de\nID: post-7\nDraft: yes\nSummary: Short and\n  sweet.\n\nBody text here.\n"
	p, err := parseText(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Parsed{
		Title: "Header Title", Summary: "Short and sweet.", HTML: "<p>Body text here.</p>\n", Author: "Pia Lind",
		Tags: []string{"a", "b", "c"}, Language: "de-DE", ID: "post-7", Draft: true,
		Date: time.Date(2025, 5, 2, 0, 0, 0, 0, time.UTC), Updated: time.Date(2025, 5, 3, 10, 0, 0, 0, time.UTC),
	}
	if p.Title != want.Title || p.Summary != want.Summary || p.HTML != want.HTML || p.Author != want.Author ||
		!slices.Equal(p.Tags, want.Tags) || p.Language != want.Language || p.ID != want.ID || p.Draft != want.Draft ||
		!p.Date.Equal(want.Date) || !p.Updated.Equal(want.Updated) || len(p.Warnings) != 0 {
		t.Errorf("got  %+v\nwant %+v", p, want)
	}

	p, err = parseText("Title: T\nDate: someday\n\nBody.\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "someday") {
		t.Errorf("warnings %q, want one naming the bad date", p.Warnings)
	}

	// A lone "Key: value" line that is not Title is a headline, not a header.
	p, err = parseText("Update: Storm Hits Coast\n\nThe storm hit.\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "Update: Storm Hits Coast" {
		t.Errorf("title %q", p.Title)
	}
}

func TestTextLatin1(t *testing.T) {
	// "Café Owners" and "It’s" in Windows-1252.
	data := []byte("Caf\xe9 Owners Object\r\n\r\nIt\x92s a busy square, they say.\r\n")
	p, err := Parse("cafe.txt", data)
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "Café Owners Object" || p.Summary != "It’s a busy square, they say." {
		t.Errorf("title %q summary %q", p.Title, p.Summary)
	}
	if !bytes.Contains([]byte(p.HTML), []byte("It’s")) {
		t.Errorf("html %q", p.HTML)
	}
}

// TestParseKeepsNoCallerBytes checks that what Parse returns does not
// change when the caller reuses the bytes it parsed, and that a Library's
// own read, which it never changes, is decoded without a copy.
func TestParseKeepsNoCallerBytes(t *testing.T) {
	for _, name := range []string{"text/harbor-ferry-strike.txt", "text/gen-ferry-header-other-headline.txt", "markdown/yaml-full.md", "html/full.html"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
			if err != nil {
				t.Fatal(err)
			}
			want, err := Parse(name, bytes.Clone(data))
			if err != nil {
				t.Fatal(err)
			}
			reused := bytes.Clone(data)
			got, err := Parse(name, reused)
			if err != nil {
				t.Fatal(err)
			}
			for i := range reused {
				reused[i] = 'x'
			}
			if got.Title != want.Title || got.Summary != want.Summary || got.HTML != want.HTML ||
				got.Author != want.Author || !slices.Equal(got.Tags, want.Tags) {
				t.Errorf("after the caller reused its bytes: %+v, want %+v", got, want)
			}
			text, _, err := decodeText(data, true)
			if err != nil || unsafe.StringData(text) != &data[0] {
				t.Errorf("decodeText of owned bytes copied them (err %v)", err)
			}
		})
	}
}

// TestDraftKeepsNoFileBytes checks that an article read from bytes the
// text shares (a Library's own read buffer) holds none of them: a title
// pointing into them would keep the whole file in memory for as long as
// the article lives. Every fixture, Markdown deferred or not; every
// string the article keeps, what it dropped and its warnings too.
func TestDraftKeepsNoFileBytes(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if !IsArticleFile(name) {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
		inData := func(s string) bool {
			at := uintptr(unsafe.Pointer(unsafe.StringData(s)))
			return s != "" && at >= lo && at < lo+uintptr(len(data))
		}
		for _, deferMarkdown := range []bool{false, true} {
			d, err := draftOf(name, data, deferMarkdown, true)
			if err != nil {
				continue // the fixtures of errors
			}
			checked++
			p := d.finish(nil)
			fields := append([]string{p.Title, p.Author, p.ID, p.Summary, p.HTML, p.Language}, p.Tags...)
			fields = append(fields, p.Warnings...)
			for _, d := range p.Dropped {
				fields = append(fields, d.Text, d.Reason)
			}
			for i, s := range fields {
				if inData(s) {
					t.Errorf("%s (deferred Markdown %v): field %d (%q) points into the file's bytes", name, deferMarkdown, i, s)
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("checked %d drafts; the fixtures are missing", checked)
	}
}

// TestAgencyBylineSkipsNoMatch checks that txtAgencyByline and
// txtByByline, which run their regexps only on lines ending or opening as
// their matches do, find every match the regexps find: on every line and
// paragraph of the text fixtures, and on bylines in all their forms,
// which they must find.
func TestBylineSkipsNoMatch(t *testing.T) {
	var lines []string
	files, err := filepath.Glob(filepath.Join("testdata", "text", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.Split(string(data), "\n")...)
		lines = append(lines, strings.Split(string(data), "\n\n")...)
	}
	var bylines []string
	forms := []string{"Jane Doe, %s", "Jane Doe | %s.", "Jean-Pierre van Dam and Li Wei – %s", "Ana Ruiz · %s"}
	for _, end := range strings.Split(txtAgency, "|") {
		for _, form := range forms {
			bylines = append(bylines, fmt.Sprintf(form, end))
		}
	}
	for _, end := range strings.Split(txtRoles+"|STAFF WRITER|ſtaff|Editor", "|") {
		for _, form := range forms {
			bylines = append(bylines, fmt.Sprintf(form, end), fmt.Sprintf(form, "Senior Foreign "+end))
		}
	}
	// matchesAll checks that the regexp matches every byline, and that
	// find gives what the regexp gives on those and every fixture line.
	matchesAll := func(name string, find func(string) []string, re *regexp.Regexp, bylines []string) {
		t.Helper()
		for _, s := range bylines {
			if re.FindStringSubmatch(s) == nil {
				t.Errorf("%q: the regexp does not match a byline the test expects it to", s)
			}
		}
		for _, s := range append(lines, bylines...) {
			if got, want := find(s), re.FindStringSubmatch(s); !slices.Equal(got, want) {
				t.Errorf("%s(%q) = %q, the regexp %q", name, s, got, want)
			}
		}
	}
	matchesAll("txtAgencyByline", txtAgencyByline, txtAgencyBylineRE, bylines)
	// And txtByByline, which looks at the first word first.
	var by []string
	for _, open := range []string{"By", "BY", "by", "Written by", "WORDS BY", "Posted by", "Poſted by", "Reported by",
		"Reporting by", "Story by", "Text by", "Author:", "author:"} {
		by = append(by, open+" Jane Doe", open+"  Jane Doe and Li Wei, Staff Writer", open+" Ana Ruiz | Reuters")
	}
	matchesAll("txtByByline", txtByByline, txtBylineRE, by)
}

// TestAppealFilterHoldsEveryWord checks that the filter in front of
// txtAppealIndex lets each of its words through, in any case, and turns
// the commonest words of English prose away.
func TestAppealFilterHoldsEveryWord(t *testing.T) {
	for w := range txtAppealIndex {
		for _, form := range []string{w, strings.ToUpper(w), strings.ToUpper(w[:1]) + w[1:]} {
			if !txtAppealFilter.mayHold(form) {
				t.Errorf("the filter turns %q away", form)
			}
		}
	}
	for _, w := range []string{"the", "and", "in", "is", "it", "that", "they", "are", "all", "out"} {
		if txtAppealFilter.mayHold(w) {
			t.Errorf("the filter lets %q through", w)
		}
	}
}

func BenchmarkParseText(b *testing.B) {
	// Grow two fixtures' stories to about 5 KB, keeping banner, caption and
	// appeal: one with a line per paragraph, one hard-wrapped.
	for _, bc := range []struct{ file, before, para string }{
		{"harbor-ferry-strike.txt", "City officials", "The strike halted all six routes that link the island suburbs with " +
			"the city centre, and “we will not move,” officials said, adding that talks would resume on Thursday.\n\n"},
		{"wrapped-appeal-crlf.txt", "Team leader", "The building has room for two vehicles, a drying room\r\n" +
			"for kit and a training wall. It was paid for by a local trust and a\r\nnational lottery grant, " +
			"said the team, which has 40 volunteers.\r\n\r\n"},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", "text", bc.file))
		if err != nil {
			b.Fatal(err)
		}
		text := string(data)
		i := strings.Index(text, bc.before)
		if i < 0 {
			b.Fatalf("%s: no %q", bc.file, bc.before)
		}
		text = text[:i] + strings.Repeat(bc.para, 5000/len(bc.para)) + text[i:]
		// Alone, as `dropfeed check` reads a file; in a folder, as a Library
		// does, fingerprinting every paragraph.
		for _, known := range []Boilerplate{nil, NewLearned(nil).Folder(".")} {
			name := bc.file + "/alone"
			if known != nil {
				name = bc.file + "/in-folder"
			}
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				for b.Loop() {
					if _, err := parseText(text, known); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestTextHeadlineForms reads news articles shaped like the ones dropfeed
// is measured on (headline on the first line, Latin-1) under many kinds of
// headline, with banners, promos and appeals added around them: the
// headline is always the title, the lede always the summary.
func TestTextHeadlineForms(t *testing.T) {
	headlines := []string{
		"Support for Tax Cuts Slips in New Poll", "Support the Strike, Union Tells Nurses", "Support Our Troops",
		"Subscribers Flee as Streaming Prices Rise", "Why I Cancelled My Newspaper Subscription",
		"Donate Your Old Phone, Charities Urge", "Donate Now, Pay Later: Charity Tax Rules Explained",
		"Continue or Quit? Airline Weighs Future of Loss-Making Route", "Continue Reading: The Literacy Crisis in Primary Schools",
		"Read the Full Text of the Chancellor's Budget Speech", "Read More Books, Says New Children's Laureate",
		"Is It Time to Scrap the Licence Fee?", "Goal! Late Winner Sends City Top", "Save Our Pier!",
		"'We will not be silenced,' says jailed editor", "“Enough Is Enough”: Farmers Block Motorway",
		"Analysis: What the Rate Cut Means for Mortgages", "BREAKING: Parliament Dissolved Ahead of Snap Election",
		"MINISTER QUITS OVER EXPENSES ROW", "Join Us or Be Left Behind, EU Tells Balkan States",
		"Sign Up Now or Miss Out, Pension Savers Warned", "Live: Election Results as They Come In", "Live",
		"Watch: Rare Snow Leopard Cubs Take First Steps", "Help Us Find Our Missing Dog, Family Pleads",
		"We Need Your Help, Says Mountain Rescue Chief", "Your Questions on the Energy Price Cap Answered",
		"Thank You for Your Service: Veterans Honoured in Parade", "The Daily Grind", "The Moscow Times",
		"Accept All Cookies? New Rules Say Websites Must Ask First", "By the Numbers: Britain's Housing Shortage",
		"By George! Prince's Birthday Photo Released", "Photo: Northern Lights Dazzle Over Scotland",
		"March 3, 2025: The Day the Markets Fell", "10 Things We Learned From the Spending Review",
		"1. FC Köln Sack Coach After Derby Defeat", "Ad sales boost Time Warner profit", "Home Sales Slump to Ten-Year Low",
		"Get the App? Banks Push Customers Online", "Support Independent Bookshops This Christmas",
		"Q&A: What Happens Now?", "Café Society: Paris Bistros Fight Back Against Chains", "£1bn Boost for Northern Rail Links",
		"UK economy facing 'major risks'", "Blair 'said he would stand down'", "Breaking News",
		"'Support us' plea from fans as club faces ruin", "Please support us, says struggling theatre",
		"Subscribe or perish: the media's new mantra", "We Have a Small Favor to Ask, Write Museum Directors in Open Letter to Minister",
		"Independent Journalism Under Threat as Local Titles Close Across the Country, Report Finds, With More Than 300 Gone Since 2005",
		"\"Thank you for reading\": the final edition of a village newsletter after 60 years",
	}
	const lede = "The government announced on Tuesday that it would spend 3 billion pounds on new rail links across the north " +
		"of England, in a move welcomed by business groups but criticised by environmental campaigners."
	const rest = "\n\nThe plan includes new lines between Leeds and Manchester.\n\nCritics said the money was not enough."
	banners := []string{"Support The Moscow Times!", "Subscribe now", "Advertisement", "Support independent journalism",
		"Sign up for our daily newsletter", "Become a member today", "Donate to The Valley Courier", "HOME > NEWS > BUSINESS",
		"We use cookies to improve your experience. By using this site you accept all cookies.", "Skip to main content",
		"SUPPORT INDEPENDENT MEDIA", "Get the app", "Menu\nSearch\nSign in"}
	appeals := []string{"Support independent journalism: become a member today and help us keep our reporting free for everyone.",
		"Dear reader, our journalism is funded by readers like you. Please consider a donation today.",
		"Sign up for our free morning newsletter and get the day's top stories delivered to your inbox."}
	const trailing = "\n\n… we have a small favor to ask.\n\nOur newsroom depends on you. Your support, no matter how small, " +
		"makes a world of difference. Please support us monthly.\n\nContinue\n\nRead more"
	bad := 0
	for _, h := range headlines {
		variants := []string{h + "\n\n" + lede + rest, h + "\n\n" + lede + rest + trailing}
		for _, b := range banners {
			variants = append(variants, b+"\n\n"+h+"\n\n"+lede+rest, b+"\n"+h+"\n\n"+lede+rest)
		}
		for _, a := range appeals {
			variants = append(variants, h+"\n\n"+a+"\n\n"+lede+rest, banners[0]+"\n\n"+h+"\n\n"+a+"\n\n"+lede+rest+trailing)
		}
		for _, v := range variants {
			data, err := charmap.Windows1252.NewEncoder().String(v)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Parse("news.txt", []byte(data))
			if err != nil {
				t.Fatal(err)
			}
			if p.Title != h || !strings.HasPrefix(p.Summary, lede[:100]) {
				if bad++; bad <= 20 {
					t.Errorf("title %q, summary %.40q; in:\n%s", p.Title, p.Summary, v)
				}
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d articles misread", bad)
	}
}

// TestTxtNextWordTakesASCIILetters checks, for every byte, that
// txtNextWord's words are runs of ASCII letters and nothing else.
func TestTxtNextWordTakesASCIILetters(t *testing.T) {
	for c := range 256 {
		s := "(" + string([]byte{byte(c)}) + ")"
		start, end := txtNextWord(s, 0)
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if got := start == 1 && end == 2; got != letter {
			t.Errorf("txtNextWord(%q) = %d, %d; a letter: %v", s, start, end, letter)
		}
	}
}

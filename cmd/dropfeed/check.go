package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/dropfeed/dropfeed/content"
	"github.com/dropfeed/dropfeed/content/store"
)

// checkResult is what `dropfeed check` reports for one file.
type checkResult struct {
	File       string            `json:"file"`
	Error      string            `json:"error,omitempty"`
	Title      string            `json:"title,omitempty"`
	Date       *time.Time        `json:"date,omitempty"`
	DateSource string            `json:"date_source,omitempty"`
	ID         string            `json:"id,omitempty"`
	Summary    string            `json:"summary,omitempty"`
	Author     string            `json:"author,omitempty"`
	Tags       []string          `json:"tags,omitempty"`
	Draft      bool              `json:"draft,omitempty"`
	Warnings   []string          `json:"warnings,omitempty"`
	Dropped    []content.Dropped `json:"dropped,omitempty"`
}

// check runs `dropfeed check`. It reports bad=true when any file could not
// be read as an article.
func check(args []string, getenv func(string) string, stdout, stderr io.Writer) (bool, error) {
	fs := flag.NewFlagSet("dropfeed check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON for machines")
	dir := fs.String("dir", "", "content folder the files belong to: their ids are read from its state")
	state := fs.String("state", "", "state file (default <dir>/.dropfeed/state.db)")
	maxSize := byteSize(content.DefaultMaxFileSize)
	fs.Var(&maxSize, "max-file-size", "largest article file read, e.g. 10MB")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: dropfeed check [--json] [--dir DIR] FILE...")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, getenv); err != nil {
		return false, err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return false, errors.New("no files given")
	}
	ids, learned, note := knownState(*dir, *state)

	var results []checkResult
	bad := false
	for _, name := range fs.Args() {
		r := checkFile(name, int64(maxSize), *dir, ids, learned, note)
		if r.Error != "" {
			bad = true
		}
		results = append(results, r)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return bad, enc.Encode(results)
	}
	for _, r := range results {
		printResult(stdout, r)
	}
	return bad, nil
}

// knownState reads the identities and the learned boilerplate kept for dir,
// if there is a state to read, so check sees a file as serve does.
func knownState(dir, state string) (map[string]content.Identity, *content.Learned, string) {
	if dir == "" {
		return nil, nil, "assigned when first published (give --dir to look it up)"
	}
	if state == "" {
		state = filepath.Join(dir, ".dropfeed", "state.db")
	}
	st, err := store.OpenReadOnly(state)
	if err != nil {
		return nil, nil, "not known: " + err.Error()
	}
	defer st.Close()
	ids, err := st.LoadIdentities()
	if err != nil {
		return nil, nil, "not known: " + err.Error()
	}
	fps, err := st.LoadFingerprints()
	if err != nil {
		return ids, nil, "assigned when first published"
	}
	return ids, content.NewLearned(fps), "assigned when first published"
}

func checkFile(name string, maxSize int64, dir string, ids map[string]content.Identity, learned *content.Learned, note string) checkResult {
	r := checkResult{File: name}
	fi, err := os.Stat(name)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	if fi.Size() > maxSize {
		r.Error = fmt.Sprintf("%v: %d bytes, over the limit of %d (--max-file-size)", content.ErrTooLarge, fi.Size(), maxSize)
		return r
	}
	data, err := os.ReadFile(name)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	rel := filepath.Base(name)
	if dir != "" {
		if abs, err := filepath.Abs(name); err == nil {
			if d, err := filepath.Abs(dir); err == nil {
				if x, err := filepath.Rel(d, abs); err == nil && !strings.HasPrefix(x, "..") {
					rel = filepath.ToSlash(x)
				}
			}
		}
	}
	var known content.Boilerplate
	if learned != nil {
		known = learned.Folder(path.Dir(rel))
	}
	p, err := content.ParseIn(name, data, known)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	kept, seen := ids[rel]
	r.ID = p.ID
	switch {
	case r.ID != "":
	case seen:
		r.ID = kept.ID
	default:
		r.ID = "(" + note + ")"
	}
	date := content.PublishedDate(rel, p, kept.FirstSeen)
	switch {
	case !p.Date.IsZero():
		r.DateSource = "from the file"
	case !date.IsZero():
		r.DateSource = "from the file name"
		if seen && date.Equal(kept.FirstSeen) {
			r.DateSource = "first seen"
		}
	default:
		r.DateSource = "none: the time the file is first seen will be used"
	}
	if !date.IsZero() {
		r.Date = &date
	}
	r.Title, r.Summary, r.Author, r.Tags, r.Draft = p.Title, p.Summary, p.Author, p.Tags, p.Draft
	r.Warnings, r.Dropped = p.Warnings, p.Dropped
	return r
}

func printResult(w io.Writer, r checkResult) {
	fmt.Fprintf(w, "%s\n", r.File)
	if r.Error != "" {
		fmt.Fprintf(w, "  error:    %s (the file is skipped)\n\n", r.Error)
		return
	}
	fmt.Fprintf(w, "  title:    %s\n", r.Title)
	if r.Date != nil {
		fmt.Fprintf(w, "  date:     %s (%s)\n", r.Date.Format(time.RFC3339), r.DateSource)
	} else {
		fmt.Fprintf(w, "  date:     %s\n", r.DateSource)
	}
	fmt.Fprintf(w, "  id:       %s\n", r.ID)
	fmt.Fprintf(w, "  summary:  %s\n", r.Summary)
	if r.Author != "" {
		fmt.Fprintf(w, "  author:   %s\n", r.Author)
	}
	if len(r.Tags) > 0 {
		fmt.Fprintf(w, "  tags:     %s\n", strings.Join(r.Tags, ", "))
	}
	if r.Draft {
		fmt.Fprintf(w, "  draft:    yes (never published)\n")
	}
	for _, x := range r.Warnings {
		fmt.Fprintf(w, "  warning:  %s\n", x)
	}
	for _, d := range r.Dropped {
		fmt.Fprintf(w, "  dropped:  %q (%s)\n", d.Text, d.Reason)
	}
	fmt.Fprintln(w)
}

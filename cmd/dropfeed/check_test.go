package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckSeesWhatServeLearned: with --dir, check reads the state serve
// left behind, so a file is shown with its published id and with the
// boilerplate its folder taught, exactly as the feeds show it.
func TestCheckSeesWhatServeLearned(t *testing.T) {
	dir, state := t.TempDir(), filepath.Join(t.TempDir(), "state.db")
	src := "../../content/testdata/text/site"
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".txt") {
			data, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, e.Name()), string(data))
		}
	}
	s := startServe(t, dir, state)
	served := map[string]string{}
	for _, it := range s.feed(t).Items {
		served[it.Title] = it.GUID
	}
	s.stop()

	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"check", "--dir", dir, "--state", state, filepath.Join(dir, "bees.txt")},
		func(string) string { return "" }, &out, &errOut, nil)
	if code != 0 {
		t.Fatalf("check exit %d: %s", code, errOut.String())
	}
	const title = "Rooftop Beehives Thrive in the City Centre, Study Finds"
	if served[title] == "" {
		t.Fatalf("serve did not publish %q: %v", title, served)
	}
	for _, want := range []string{"title:    " + title, "id:       " + served[title], "Kestrel Valley Voice", "repeated in"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
}

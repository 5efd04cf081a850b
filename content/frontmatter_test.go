package content

import (
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

// yamlSeeds are front matter blocks as files write them, and near misses.
var yamlSeeds = []string{
	"title: \"A title\"\ndate: 2024-03-01T09:30:00+05:30\nauthor: \"R. Osei\"\ntags: [city, transport, health]\n",
	"title: Plain words: no\ndraft: true\n",
	"title: 'Single quoted'\nsummary: \"It's here\"\nupdated: 2024-03-02\nlang: en-GB\n",
	"tags:\n  - one\n  - two\ncategories:\n- three\n",
	"# a comment\ntitle: Hash # not a comment here?\n",
	"title: C# and F#\nid: tag:example.org,2024:x\n",
	"date: 2024-03-01 09:30:00\n",
	"title: 123\n",
	"title: \"quoted \\\"escape\\\"\"\n",
	"tags: []\ntitle: x\n",
	"title:\nauthor: y\n",
	"title: a\ntitle: b\n",
	"author:\n  name: Someone\n",
	"title: >\n  folded\n",
	"title: \"ünïcödé ✓\"\nauthor: Zoë\n",
	"Title: Upper\nTAGS: [A, b]\n",
	"title: https://example.org/a?b=c\n",
	"title: x\n\n\ntags: [\"a b\", 'c']\n",
	"on: x\n",
	"title: ~\n",
	"title: .inf\n",
	"tags: [a, [b]]\n",
}

// simpleYAML reads what yaml.v3 reads, exactly, whenever it reads.
func FuzzSimpleYAML(f *testing.F) {
	for _, s := range yamlSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, block string) {
		got, ok := simpleYAML(block)
		if !ok {
			return
		}
		want := map[string]any{}
		if err := yaml.Unmarshal([]byte(block), &want); err != nil {
			t.Fatalf("simpleYAML read %q as %#v; yaml.v3: %v", block, got, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("simpleYAML read %q as\n%#v\nyaml.v3 as\n%#v", block, got, want)
		}
	})
}

// The front matter of most files is read without yaml.v3; what is not,
// falls to it.
func TestSimpleYAMLReads(t *testing.T) {
	for _, tt := range []struct {
		block string
		read  bool
	}{
		{yamlSeeds[0], true},
		{yamlSeeds[2], true},
		{yamlSeeds[3], true},
		{yamlSeeds[5], true},
		{yamlSeeds[14], true},
		{yamlSeeds[1], false},  // "Plain words: no" is a mapping in a mapping
		{yamlSeeds[6], false},  // a date with a space: yaml.v3 decides
		{yamlSeeds[7], false},  // a number
		{yamlSeeds[8], false},  // escapes
		{yamlSeeds[11], false}, // a repeated key is an error
		{yamlSeeds[12], false}, // nesting
		{yamlSeeds[19], false}, // null
	} {
		if _, ok := simpleYAML(tt.block); ok != tt.read {
			t.Errorf("simpleYAML(%q) read %v, want %v", tt.block, ok, tt.read)
		}
	}
}

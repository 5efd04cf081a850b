package content

import (
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// simpleYAML decodes the YAML front matter most files have, a mapping of
// plain keys to one-line strings, dates and lists of strings, as
// yaml.Unmarshal into a map[string]any does, in a tenth of its time (a
// third of a first start's work on a Markdown file once bodies are
// deferred). It reports false for anything else, anything it is not sure
// of (numbers, booleans, nulls, escapes, nesting, comments after a value,
// repeated keys, unusual characters), and yaml.v3 decodes that. A fuzz
// test holds it to yaml.v3's result on whatever it accepts.
func simpleYAML(block string) (map[string]any, bool) {
	if !yamlSafeText(block) {
		return nil, false
	}
	out := map[string]any{}
	var list []any     // the block sequence being read
	var listKey string // whose value it is
	listIndent := -1   // its items' indentation
	endList := func() bool {
		if listKey == "" {
			return true
		}
		if len(list) == 0 {
			return false // "key:" alone is null
		}
		out[listKey] = list
		list, listKey, listIndent = nil, "", -1
		return true
	}
	for line := range strings.Lines(block) {
		line = strings.TrimSuffix(line, "\n")
		if strings.TrimRight(line, " ") == "" || line[0] == '#' {
			continue
		}
		if indent := len(line) - len(strings.TrimLeft(line, " ")); line[indent] == '-' {
			if listKey == "" || listIndent >= 0 && indent != listIndent {
				return nil, false
			}
			item, ok := strings.CutPrefix(line[indent:], "- ")
			v, isString := yamlString(strings.TrimSpace(item))
			if !ok || !isString {
				return nil, false
			}
			list, listIndent = append(list, v), indent
			continue
		} else if indent > 0 {
			return nil, false
		}
		if !endList() {
			return nil, false
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok || !yamlKey.MatchString(key) || yamlSpecial(key) || value != "" && value[0] != ' ' {
			return nil, false
		}
		if _, dup := out[key]; dup {
			return nil, false
		}
		value = strings.Trim(value, " ")
		if value == "" {
			listKey = key
			continue
		}
		v, ok := yamlValue(value)
		if !ok {
			return nil, false
		}
		out[key] = v
	}
	if !endList() {
		return nil, false
	}
	return out, true
}

// yamlKey is a key simpleYAML reads; YAML allows a plain key up to 1,024
// characters, more than any front matter needs.
var yamlKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,99}$`)

// yamlDate is a date or timestamp, which yaml.v3 leaves a string in a
// map[string]any, and not a number.
var yamlDate = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})?)?$`)

// yamlValue decodes a one-line value: a string, a date, or a flow list
// of strings.
func yamlValue(s string) (any, bool) {
	if inner, ok := strings.CutPrefix(s, "["); ok {
		inner, ok = strings.CutSuffix(inner, "]")
		if !ok {
			return nil, false
		}
		items := []any{}
		if strings.Trim(inner, " ") == "" {
			return items, true
		}
		for item := range strings.SplitSeq(inner, ",") {
			item = strings.Trim(item, " ")
			v, ok := yamlString(item)
			// Flow context gives more characters a meaning: plain items
			// hold only words.
			if !ok || item[0] != '"' && item[0] != '\'' && strings.ContainsFunc(item, notWordy) || strings.ContainsAny(v, "[]{}") {
				return nil, false
			}
			items = append(items, v)
		}
		return items, true
	}
	if yamlDate.MatchString(s) {
		// yaml.v3 gives a time.Time for what time.Parse reads in one of
		// its layouts, tried in its order, and the text for the rest.
		for _, layout := range []string{"2006-1-2T15:4:5.999999999Z07:00", "2006-1-2t15:4:5.999999999Z07:00", "2006-1-2"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t, true
			}
		}
		return s, true
	}
	return yamlString(s)
}

// notWordy reports whether r is other than a letter, a digit, a space or
// one of "-_./".
func notWordy(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune(" -_./", r)
}

// yamlString decodes a quoted or plain scalar that yaml.v3 reads as a
// string, and reports false for any other.
func yamlString(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	switch q := s[0]; q {
	case '"', '\'':
		inner := s[1:]
		if len(inner) == 0 || inner[len(inner)-1] != q {
			return "", false
		}
		inner = inner[:len(inner)-1]
		if strings.IndexByte(inner, q) >= 0 || q == '"' && strings.IndexByte(inner, '\\') >= 0 {
			return "", false
		}
		return inner, true
	}
	if strings.IndexByte(`-?:,[]{}#&*!|>'"%@`+"`", s[0]) >= 0 ||
		strings.Contains(s, ": ") || strings.Contains(s, " #") || strings.HasSuffix(s, ":") || yamlSpecial(s) {
		return "", false
	}
	// A number, or a date: yaml.v3 decides.
	if c := s[0]; c >= '0' && c <= '9' || c == '+' || c == '.' {
		return "", false
	}
	return s, true
}

// yamlSpecial reports whether a plain scalar may mean something other than
// a string to some YAML reader: a boolean, a null, an infinity.
func yamlSpecial(s string) bool {
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", "<<", "=":
		return true
	}
	return strings.HasPrefix(s, ".") || strings.HasPrefix(s, "<<")
}

// yamlSafeText reports whether s holds only characters that mean nothing
// special to YAML in any position: printable, no tabs, no line breaks but
// "\n", no byte order mark.
func yamlSafeText(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\n' || c == 0x7F {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || r < 0xA0 || r == 0x2028 || r == 0x2029 || r == 0xFEFF || r >= 0xFFFE && r <= 0xFFFF {
			return false
		}
		i += n
	}
	return true
}

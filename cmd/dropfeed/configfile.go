package main

import (
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"gopkg.in/yaml.v3"
)

// configFile is what a --config file sets, as flag values.
type configFile struct {
	path   string
	values map[string][]string // by flag name; more than one for a list
	keys   map[string]string   // the key as written in the file, by flag name
}

// readConfigFile reads the file that --config, or DROPFEED_CONFIG when the
// flag is not given, names; none when fs has no config flag or neither is set.
func readConfigFile(fs *flag.FlagSet, given map[string]bool, getenv func(string) string) (configFile, error) {
	f := fs.Lookup("config")
	if f == nil {
		return configFile{}, nil
	}
	path := f.Value.String()
	if !given[f.Name] {
		path = getenv(envName(f.Name))
		if err := f.Value.Set(path); err != nil {
			return configFile{}, fmt.Errorf("%s: %w", envName(f.Name), err)
		}
	}
	if path == "" {
		return configFile{}, nil
	}
	return loadConfigFile(path, configKeys())
}

// loadConfigFile reads a TOML or YAML file, chosen by its extension, whose
// top-level keys are flag names, with - or _ between words. A key not in
// known is an error naming it and the file.
func loadConfigFile(path string, known map[string]bool) (configFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return configFile{}, fmt.Errorf("--config: %w", err)
	}
	var raw map[string]any
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".toml":
		err = toml.Unmarshal(data, &raw)
	case ".yaml", ".yml":
		err = yaml.Unmarshal(data, &raw)
	default:
		return configFile{}, fmt.Errorf("--config: %s: extension %q; want .toml, .yaml or .yml", path, ext)
	}
	if err != nil {
		return configFile{}, fmt.Errorf("--config: %s: %w", path, err)
	}
	cf := configFile{path: path, values: map[string][]string{}, keys: map[string]string{}}
	var errs []error
	// Sorted, so that the errors come in the same order every time.
	for _, key := range slices.Sorted(maps.Keys(raw)) {
		name := strings.ReplaceAll(key, "_", "-")
		if !known[name] {
			errs = append(errs, fmt.Errorf("%s: unknown key %q", path, key))
			continue
		}
		if other, dup := cf.keys[name]; dup {
			errs = append(errs, fmt.Errorf("%s: %q and %q are the same setting", path, other, key))
			continue
		}
		values, err := configValues(raw[key])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", path, key, err))
			continue
		}
		cf.values[name], cf.keys[name] = values, key
	}
	return cf, errors.Join(errs...)
}

// configValues turns a decoded value, or a list of them, into flag values.
func configValues(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	values := make([]string, 0, len(list))
	for _, item := range list {
		s, err := configScalar(item)
		if err != nil {
			return nil, err
		}
		values = append(values, s)
	}
	return values, nil
}

// configScalar turns one decoded TOML or YAML value into a flag value.
func configScalar(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case int:
		return strconv.Itoa(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case uint64:
		return strconv.FormatUint(v, 10), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case nil:
		return "", errors.New("no value")
	default:
		return "", fmt.Errorf("a %T; want a string, number or boolean", v)
	}
}

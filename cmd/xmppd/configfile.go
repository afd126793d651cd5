package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// configFile is the configuration file chosen for this run.
type configFile struct {
	path string // as the operator would write it: "./xmppd.yaml", or as given
	typ  string // the format viper parses it as: "yaml", "json" or "toml"
}

// searchedConfigFiles are the only files read when neither --config nor
// XMPPD_CONFIG names one, in this order; the first directory holding one
// wins. Nothing else is read: an xmppd.json or xmppd.toml left in the
// working directory by another tool is not xmppd's configuration (viper's
// own search would take any xmppd.* it can parse).
var searchedConfigFiles = [][]string{
	{"./xmppd.yaml", "./xmppd.yml"},
	{"/etc/xmppd/xmppd.yaml", "/etc/xmppd/xmppd.yml"},
}

// findConfigFile picks the configuration file: the one named by --config
// (flag) or XMPPD_CONFIG (env), which must exist, or else the first of
// searchedConfigFiles present. It returns a zero configFile when there is
// none: every default works without a file.
func findConfigFile(flag, env string) (configFile, error) {
	named, by := flag, "--config"
	if named == "" {
		named, by = env, "XMPPD_CONFIG"
	}
	if named != "" {
		if err := isConfigFile(named); err != nil {
			return configFile{}, fmt.Errorf("configuration %s (named by %s): %w", named, by, err)
		}
		return configFile{path: named, typ: configType(named)}, nil
	}
	for _, dir := range searchedConfigFiles {
		var found []string
		for _, p := range dir {
			switch err := isConfigFile(p); {
			case err == nil:
				found = append(found, p)
			case !errors.Is(err, fs.ErrNotExist):
				return configFile{}, fmt.Errorf("configuration %s: %w", p, err)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return configFile{path: found[0], typ: "yaml"}, nil
		default:
			// Reading one and ignoring the other would hide edits to it.
			return configFile{}, fmt.Errorf("configuration: both %s exist: keep one, or name it with --config", strings.Join(found, " and "))
		}
	}
	return configFile{}, nil
}

// isConfigFile reports why path cannot be read as a file, if it cannot.
func isConfigFile(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fs.ErrNotExist // "file does not exist"
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return errors.New("is a directory, not a file")
	}
	return nil
}

// configType is the format of a file named explicitly: JSON and TOML by
// their extension, as viper reads them; everything else, whatever its name,
// is YAML, the documented format.
func configType(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return "json"
	case ".toml":
		return "toml"
	}
	return "yaml"
}

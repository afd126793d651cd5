package events_test

import (
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryExampleRuns keeps STYLE.md's "examples for public APIs" honest:
// `go test` only compiles an Example function without an "// Output:"
// comment, so one that no longer works would pass unseen. Every Example in
// the module must have an output to compare (or be a test that asserts).
func TestEveryExampleRuns(t *testing.T) {
	root := ".." // the module root: events is one level down
	fset := token.NewFileSet()
	examples := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "vendor") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		for _, ex := range doc.Examples(f) {
			examples++
			if ex.Output == "" && !ex.EmptyOutput {
				t.Errorf("%s: Example%s has no // Output: comment, so go test never runs it", path, ex.Name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if examples == 0 {
		t.Fatal("found no Example functions: is the walk at the module root?")
	}
	t.Logf("%d examples, each with its output", examples)
}

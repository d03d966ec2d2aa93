package yamlx

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// LineError is a problem at a line of a YAML document.
type LineError struct {
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("%d: %s", e.Line, e.Msg) }

// Errorf returns a LineError at n's line.
func Errorf(n *yaml.Node, format string, a ...any) error {
	return &LineError{Line: n.Line, Msg: fmt.Sprintf(format, a...)}
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// Decode decodes node into v after checking every mapping key against
// the yaml tags of v's type, so that an unknown key is reported at its line.
func Decode(node *yaml.Node, v any) error {
	if err := (&keyChecker{seen: map[aliasVisit]bool{}}).check(node, reflect.TypeOf(v)); err != nil {
		return err
	}
	if err := node.Decode(v); err != nil {
		return Wrap(err)
	}
	return nil
}

var yamlLineRe = regexp.MustCompile(`line (\d+): (.*)`)

// Wrap turns a yaml.v3 error into a LineError when it names a line.
func Wrap(err error) error {
	var le *LineError
	if errors.As(err, &le) {
		return err
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &LineError{Line: n, Msg: strings.Split(m[2], "\n")[0]}
	}
	return err
}

func yamlTags(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlTags(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// keyChecker checks mapping keys against a type's yaml tags. An anchor is
// checked once per type however many aliases name it: a file of nested
// aliases (a "billion laughs") costs as much as its nodes, not their
// expansion.
type keyChecker struct {
	seen map[aliasVisit]bool
}

type aliasVisit struct {
	node *yaml.Node
	t    reflect.Type
}

func (kc *keyChecker) check(node *yaml.Node, t reflect.Type) error {
	if node == nil || t == nil {
		return nil
	}
	if node.Kind == yaml.DocumentNode && len(node.Content) > 0 {
		return kc.check(node.Content[0], t)
	}
	if node.Kind == yaml.AliasNode {
		v := aliasVisit{node.Alias, t}
		if kc.seen[v] {
			return nil
		}
		kc.seen[v] = true
		return kc.check(node.Alias, t)
	}
	for t.Kind() == reflect.Pointer {
		if t.Implements(unmarshalerType) {
			return nil
		}
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) || t.Implements(unmarshalerType) {
		return nil // it checks itself
	}
	switch t.Kind() {
	case reflect.Struct:
		if node.Kind != yaml.MappingNode {
			return nil // the decoder reports the type error with its line
		}
		fields := yamlTags(t)
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				return Errorf(k, "unknown key %q (known: %s)", k.Value, strings.Join(sortedKeys(fields), ", "))
			}
			if err := kc.check(v, ft); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if node.Kind != yaml.SequenceNode {
			return nil
		}
		for _, c := range node.Content {
			if err := kc.check(c, t.Elem()); err != nil {
				return err
			}
		}
	case reflect.Map:
		if node.Kind != yaml.MappingNode {
			return nil
		}
		for i := 1; i < len(node.Content); i += 2 {
			if err := kc.check(node.Content[i], t.Elem()); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Duration is a duration written as "30s", "250ms", "10m", "2h" or "3d".
type Duration time.Duration

// D returns the duration as time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats the duration.
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML parses a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return Errorf(n, "want a duration such as 30s, 250ms or 2d")
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return Errorf(n, "%v", err)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// maxDays is the most days a time.Duration holds.
const maxDays = int(math.MaxInt64 / int64(24*time.Hour))

// ParseDuration is time.ParseDuration plus whole days ("3d").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("duration %q: want a whole number of days, like 3d", s)
		}
		if n > maxDays {
			return 0, fmt.Errorf("duration %q: at most %dd", s, maxDays)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want a duration such as 30s, 250ms, 10m, 2h or 3d", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("duration %q must not be negative", s)
	}
	return v, nil
}

// FileError is an error in a file, printed as file:line: message (or
// file: message when the line is not known).
type FileError struct {
	File string
	Line int
	Msg  string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// InFile places err in file: a LineError keeps its line.
func InFile(file string, err error) error {
	var le *LineError
	if errors.As(err, &le) {
		return &FileError{File: file, Line: le.Line, Msg: le.Msg}
	}
	return &FileError{File: file, Msg: err.Error()}
}

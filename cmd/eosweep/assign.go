package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// errNotAssignment is wrapped by parseAssignment for input that is not of
// the form name=value at all (as opposed to a value that is not a number).
var errNotAssignment = errors.New("want name=value")

// parseAssignment parses one "name=value" with a numeric value (trial --set,
// report --trajectory). The error quotes the input or names the parameter.
func parseAssignment(s string) (string, float64, error) {
	name, value, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return "", 0, fmt.Errorf("%q: %w", s, errNotAssignment)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
	if err != nil {
		return "", 0, fmt.Errorf("parameter %q: value %q is not a number", name, value)
	}
	return name, v, nil
}

// parseAssignments parses "name=value,name=value" into a map (empty for "").
func parseAssignments(s string) (map[string]float64, error) {
	out := map[string]float64{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		name, v, err := parseAssignment(part)
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

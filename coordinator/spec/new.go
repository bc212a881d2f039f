package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseNew is Parse with the checks a spec must pass to start a new sweep
// from the command line: it has a name (which the CLI's tables and logs show),
// and boundary.reference_eta, when given, is one of the grid's η values (the
// plateau is read at that η). Stored specs are read back with ParseStored,
// so sweeps stored before these checks keep loading.
func ParseNew(data []byte, maxTrials int) (*Spec, error) {
	s, err := Parse(data, maxTrials)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(s.Name) == "" {
		return nil, fmt.Errorf("%w: name: required (e.g. name: figure1; it names the sweep in status, logs and reports)", ErrInvalid)
	}
	if ref := s.Boundary.ReferenceEta; ref > 0 {
		etas := s.etas()
		for _, eta := range etas {
			if math.Abs(eta-ref) <= 1e-9*ref {
				return s, nil
			}
		}
		shown := make([]string, 0, len(etas))
		for i, eta := range etas {
			if i == 12 {
				shown = append(shown, fmt.Sprintf("… %d in all", len(etas)))
				break
			}
			shown = append(shown, strconv.FormatFloat(eta, 'g', -1, 64))
		}
		return nil, fmt.Errorf("%w: boundary.reference_eta: %v is not one of the grid's η values (%s): give one of them",
			ErrInvalid, ref, strings.Join(shown, ", "))
	}
	return s, nil
}

// etas returns the grid's η values (the eta axis, or the fixed params.eta).
func (s *Spec) etas() []float64 {
	for _, a := range s.Grid {
		if a.Name == "eta" {
			return a.Values
		}
	}
	if v, ok := s.Params["eta"]; ok {
		return []float64{v}
	}
	return nil
}

package kube

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// step is one command of the README's recipes. The test runs readme as it
// stands, in a directory holding deploy/ and examples/ of this repository,
// unless run says what it runs instead (a free local port, its own volume
// directory, its own spec).
type step struct{ readme, run string }

func (s step) command() string {
	if s.run != "" {
		return s.run
	}
	return s.readme
}

// tlsRecipe is the README's openssl recipe (section "Security").
var tlsRecipe = []step{
	{readme: "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj /CN=eosweep-ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -keyout ca.key -out ca.crt"},
	{readme: "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=eosweep-coordinator -keyout server.key -out server.csr"},
	{readme: `printf 'subjectAltName=DNS:eosweep-coordinator,DNS:eosweep-coordinator.eosweep.svc,DNS:localhost,IP:127.0.0.1\n' > san.ext`},
	{readme: "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 -out server.crt -extfile san.ext"},
	{readme: "head -c 32 /dev/urandom | base64 > token && chmod 600 token server.key"},
}

// The README's Kubernetes recipe, in order.
var (
	applyNamespace = step{readme: "kubectl apply -f deploy/k8s/00-namespace.yaml"}
	dryRun         = step{readme: "kubectl apply --dry-run=server --validate=strict -f deploy/k8s/"}
	secretToken    = step{readme: "kubectl -n eosweep create secret generic eosweep-token --from-file=token=token"}
	secretTLS      = step{readme: "kubectl -n eosweep create secret generic eosweep-tls --from-file=tls.crt=server.crt --from-file=tls.key=server.key --from-file=ca.crt=ca.crt"}
	volumeDir      = step{readme: "install -d -o 65532 -g 65532 -m 0700 /var/lib/eosweep"} // run: the test's own directory
	volume         = step{readme: "kubectl apply -f deploy/k8s/local/data-pv.yaml"}        // run: a copy naming that directory
	applyWorkloads = step{readme: "kubectl apply -f deploy/k8s/20-coordinator.yaml -f deploy/k8s/30-worker.yaml"}
	rolloutCoord   = step{readme: "kubectl -n eosweep rollout status statefulset/eosweep-coordinator --timeout=5m"}
	rolloutWorkers = step{readme: "kubectl -n eosweep rollout status deployment/eosweep-worker --timeout=5m"}
	portForward    = step{readme: "kubectl -n eosweep port-forward svc/eosweep-coordinator 7870:7870 &"} // run: a free local port
	submit         = step{readme: "eosweep submit examples/figure1.yaml --coordinator 127.0.0.1:7870 --tls-ca ca.crt --tls-server-name eosweep-coordinator --token-file token"}
	status         = step{readme: "eosweep status --coordinator 127.0.0.1:7870 --tls-ca ca.crt --tls-server-name eosweep-coordinator --token-file token"}
	scale          = step{readme: "kubectl -n eosweep scale deployment/eosweep-worker --replicas=20"}
)

var kubeRecipe = []step{applyNamespace, dryRun, secretToken, secretTLS, volumeDir, volume, applyWorkloads,
	rolloutCoord, rolloutWorkers, portForward, submit, status, scale}

var continuation = regexp.MustCompile(`\\\n\s*`)

// normalize joins continued lines and collapses runs of blanks.
func normalize(s string) string {
	return strings.Join(strings.Fields(continuation.ReplaceAllString(s, " ")), " ")
}

// The recipes the cluster test runs are the README's, word for word: this
// test (no cluster needed) keeps the two from drifting apart.
func TestRecipesAreTheReadmes(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := normalize(string(b))
	for _, s := range append(append([]step{}, tlsRecipe...), kubeRecipe...) {
		if !strings.Contains(readme, normalize(s.readme)) {
			t.Errorf("README.md does not give the command the Kubernetes test runs:\n  %s", s.readme)
		}
	}
}

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eosweep/eosweep/internal/proctest"
)

// cluster is one docker-compose project built from deploy/docker-compose.yml.
type cluster struct {
	t       *testing.T
	project string   // compose project name, unique per run
	env     []string // variables the compose file reads
	grpc    string   // coordinator's gRPC address on the host (127.0.0.1:port)
	metrics string   // coordinator's /metrics URL on the host
}

// run executes a command, failing the test with its output on error.
func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	out, err := runErr(env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func runErr(env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.String(), err
}

// buildImage runs deploy/build.sh with a unique tag and also writes the host
// binary to dir. It returns the tag and the binary's path.
func buildImage(t *testing.T, dir string) (string, string) {
	t.Helper()
	tag := fmt.Sprintf("eosweep:e2e-%d", os.Getpid())
	bin := filepath.Join(dir, "eosweep")
	run(t, []string{"EOSWEEP_BIN=" + bin}, "bash", "../build.sh", tag)
	t.Cleanup(func() { _, _ = runErr(nil, "docker", "rmi", "-f", tag) })
	return tag, bin
}

// up starts the compose project with image and lease timeout, and tears it
// down (volumes included) when the test ends.
func up(t *testing.T, image string, leaseTimeout time.Duration) *cluster {
	t.Helper()
	gp, mp := proctest.FreePort(t), proctest.FreePort(t)
	c := &cluster{
		t:       t,
		project: fmt.Sprintf("eosweep-e2e-%d", os.Getpid()),
		env: []string{
			"EOSWEEP_IMAGE=" + image,
			fmt.Sprintf("EOSWEEP_PORT=%d", gp),
			fmt.Sprintf("EOSWEEP_METRICS_PORT=%d", mp),
			"EOSWEEP_LEASE_TTL=" + leaseTimeout.String(),
		},
		grpc:    fmt.Sprintf("127.0.0.1:%d", gp),
		metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", mp),
	}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := runErr(c.env, "docker-compose", c.args("logs", "--no-color", "--tail=60")...)
			t.Logf("compose logs:\n%s", out)
		}
		_, _ = runErr(c.env, "docker-compose", c.args("down", "-v", "--timeout=5")...)
	})
	c.compose("up", "-d")
	return c
}

func (c *cluster) args(args ...string) []string {
	return append([]string{"-p", c.project, "-f", "../docker-compose.yml"}, args...)
}

// compose runs docker-compose on the project.
func (c *cluster) compose(args ...string) string {
	c.t.Helper()
	return run(c.t, c.env, "docker-compose", c.args(args...)...)
}

// container names one container of a service, e.g. ("worker", 2).
func (c *cluster) container(service string, n int) string {
	return fmt.Sprintf("%s_%s_%d", c.project, service, n)
}

// network is the compose project's default network.
func (c *cluster) network() string { return c.project + "_default" }

func (c *cluster) docker(args ...string) string {
	c.t.Helper()
	return run(c.t, nil, "docker", args...)
}

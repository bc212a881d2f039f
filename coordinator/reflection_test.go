package coordinator_test

import (
	"bytes"
	"encoding/json"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/internal/proctest"
	"github.com/eosweep/eosweep/internal/transport"
)

// grpcurlInstall is how .ci/run installs the grpcurl this test runs.
const grpcurlInstall = "go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3"

// grpcurl, a generic gRPC client, lists, describes and calls a real
// coordinator over loopback through server reflection, which like every
// service but health is behind the token.
func TestGrpcurlThroughReflection(t *testing.T) {
	t.Parallel()
	bin := proctest.Tool(t, "grpcurl", grpcurlInstall)
	const token = "tok-reflection-test"
	opts, err := transport.ServerOptions(transport.ServerConfig{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	c, err := coordinator.Open(coordinator.Config{DBPath: filepath.Join(t.TempDir(), "c.db"), NoSync: true, ServerOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.Serve(lis) }()
	t.Cleanup(func() {
		if err := c.Shutdown(time.Second); err != nil {
			t.Error(err)
		}
	})
	addr := lis.Addr().String()
	auth := []string{"-H", "authorization: Bearer " + token}
	run := func(args ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"-plaintext", "-max-time", "20"}, args...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}

	if out, err := run(addr, "list"); err == nil || !strings.Contains(out, "Unauthenticated") {
		t.Errorf("list without the token: %v\n%s\nwant Unauthenticated", err, out)
	}
	steps := []struct {
		name string
		args []string
		want []string
	}{
		{"list", []string{"list"}, []string{"eosweep.v1.CoordinatorService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"}},
		{"list methods", []string{"list", "eosweep.v1.CoordinatorService"}, []string{"eosweep.v1.CoordinatorService.SubmitSweep", "eosweep.v1.CoordinatorService.LeaseTrial"}},
		{"describe service", []string{"describe", "eosweep.v1.CoordinatorService"}, []string{"rpc GetBoundary ( .eosweep.v1.GetBoundaryRequest ) returns ( .eosweep.v1.GetBoundaryResponse );"}},
		{"describe message", []string{"describe", "eosweep.v1.Progress"}, []string{"int64 pending = 2;"}},
	}
	for _, s := range steps {
		out, err := run(append(append(auth, addr), s.args...)...)
		if err != nil {
			t.Errorf("%s: %v\n%s", s.name, err, out)
			continue
		}
		for _, w := range s.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", s.name, w, out)
			}
		}
	}

	spec := "name: grpcurl\nmodel: single\ngrid: {eta: [0.5, 1]}\nparams: {steps: 10}\n"
	req, _ := json.Marshal(map[string]string{"spec_yaml": spec})
	out, err := run(append(auth, "-d", string(req), addr, "eosweep.v1.CoordinatorService/SubmitSweep")...)
	if err != nil {
		t.Fatalf("SubmitSweep: %v\n%s", err, out)
	}
	var sub struct {
		Sweep struct {
			ID       string `json:"id"`
			Name     string `json:"name"`
			Progress struct {
				Total, Pending string
			} `json:"progress"`
		} `json:"sweep"`
		Created bool `json:"created"`
	}
	if err := json.Unmarshal([]byte(out), &sub); err != nil {
		t.Fatalf("SubmitSweep answer: %v\n%s", err, out)
	}
	// int64 fields are JSON strings in the protobuf JSON mapping.
	if !sub.Created || sub.Sweep.Name != "grpcurl" || sub.Sweep.Progress.Total != "2" || sub.Sweep.Progress.Pending != "2" {
		t.Errorf("SubmitSweep answered %+v", sub)
	}
	info, err := c.Scheduler.Sweep(sub.Sweep.ID)
	if err != nil || info.Progress.Total != 2 {
		t.Errorf("the coordinator holds %+v, %v for the sweep grpcurl submitted", info.Progress, err)
	}
	// A refused call comes back with its code and message.
	out, err = run(append(auth, "-d", `{"sweep_id": "nope"}`, addr, "eosweep.v1.CoordinatorService/GetSweep")...)
	if err == nil || !strings.Contains(out, "NotFound") {
		t.Errorf("GetSweep of an unknown sweep: %v\n%s\nwant NotFound", err, out)
	}
}

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDockerRunReadme runs the README's one-node 'docker run' line as it
// is written (with a free host port, its own volume and a name for the
// test's image) and checks that it gives a running node, published on
// 127.0.0.1, that takes a record and leaps, and that the image's qbc says
// which version it is.
func TestDockerRunReadme(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the docker test builds an image and runs a container")
	}
	requireTool(t, "docker", "info")
	root := repoRoot(t)
	readme, err := os.ReadFile(root + "/README.md")
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(l, "docker run ") {
			line = l
			break
		}
	}
	if line == "" {
		t.Fatal("README.md has no 'docker run' line")
	}
	line, _, _ = strings.Cut(line, "#")
	args := strings.Fields(line)
	if !strings.Contains(line, "-p 127.0.0.1:5000:5000") {
		t.Fatalf("the README's docker run does not publish on 127.0.0.1: %s", line)
	}

	tag := fmt.Sprintf("qbcrun%d", os.Getpid())
	run(t, root, []string{"CGO_ENABLED=0"}, "go", "build", "-trimpath",
		"-ldflags", "-X main.version=e2e-test -X main.commit=0123456789abcdef", "-o", "bin/qbc", "./cmd/qbc")
	run(t, root, nil, "docker", "build", "-q", "-t", tag+":test", ".")
	t.Cleanup(func() {
		for _, c := range [][]string{{"rm", "-f", tag}, {"volume", "rm", "-f", tag}, {"rmi", "-f", tag + ":test"}} {
			if out, err := exec.Command("docker", c...).CombinedOutput(); err != nil {
				t.Logf("docker %s: %v\n%s", strings.Join(c, " "), err, out)
			}
		}
	})

	// As written, but detached, named, on a free port, with the test's
	// image and volume.
	var cmd []string
	for i := 2; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-p" && i+1 < len(args):
			cmd = append(cmd, "-p", "127.0.0.1::5000")
			i++
		case a == "-v" && i+1 < len(args):
			cmd = append(cmd, "-v", tag+":/data")
			i++
		case a == "qbc" && i == len(args)-1:
			cmd = append(cmd, tag+":test")
		default:
			cmd = append(cmd, a)
		}
	}
	cmd = append([]string{"run", "-d", "--name", tag}, cmd...)
	run(t, root, nil, "docker", cmd...)
	hostPort := run(t, root, nil, "docker", "port", tag, "5000")
	hostPort, _, _ = strings.Cut(hostPort, "\n")
	if !strings.HasPrefix(hostPort, "127.0.0.1:") {
		t.Fatalf("published on %s, not 127.0.0.1", hostPort)
	}
	url := "http://" + hostPort
	waitFor(t, "the node answers", 30*time.Second, func() (bool, string) {
		var stats struct{ Height uint64 }
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := getJSON(ctx, url+"/stats", &stats); err != nil {
			state, _ := exec.Command("docker", "ps", "-a", "--filter", "name="+tag, "--format", "{{.Status}}").Output()
			logs, _ := exec.Command("docker", "logs", "--tail", "5", tag).CombinedOutput()
			return false, fmt.Sprintf("%v; container %s; %s", err, strings.TrimSpace(string(state)), logs)
		}
		return true, ""
	})
	resp, err := http.Post(url+"/inject", "application/json", strings.NewReader(`{"data":{"from":"docker"}}`))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("inject: %v %v", resp, err)
	}
	resp.Body.Close()
	if resp, err = http.Post(url+"/leap", "", nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("leap: %v %v", resp, err)
	}
	resp.Body.Close()
	var chain []struct{ Index uint64 }
	if err := getJSON(context.Background(), url+"/json-chain", &chain); err != nil || len(chain) != 2 {
		t.Fatalf("json-chain: %d quants, %v", len(chain), err)
	}
	if running := run(t, root, nil, "docker", "inspect", "-f", "{{.State.Running}}", tag); running != "true" {
		t.Fatalf("the container is not running: %s", running)
	}
	if v := run(t, root, nil, "docker", "run", "--rm", tag+":test", "version"); !strings.Contains(v, "e2e-test (commit 0123456789ab)") {
		t.Errorf("qbc version in the image: %s", v)
	}
}

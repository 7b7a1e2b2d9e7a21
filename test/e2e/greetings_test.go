package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// The whole user journey on the local target, once per database engine:
// env -> resources -> container -> deploy -> data round trip -> logs ->
// redeploy -> delete, then nothing labelled managed-by=cld remains.
func TestGreetingsJourney(t *testing.T) {
	for _, db := range []struct{ typ, image string }{{"mysql", mysqlImage}, {"postgres", postgresImage}} {
		t.Run(db.typ, func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			env := "e2e-" + db.typ
			app := "greet-" + db.typ
			TYPE := strings.ToUpper(db.typ)
			envFile := u.write("env.yaml", fmt.Sprintf(`environment:
  resources:
    local:
      - resource:
          type: %s
          configuration:
            image: %s
            dbname: greetings
  app_deployment:
    target: local
    type: local-docker
`, db.typ, db.image))
			u.ok("env", "create", env, envFile)

			var shown object
			u.json(&shown, "env", "show", env)
			if shown.Status != "available" || len(shown.Elements) != 3 {
				t.Fatalf("env show: %+v", shown)
			}

			// every attribute, secrets masked unless asked
			var res []resource
			u.json(&res, "resource", "show", env)
			if len(res) != 1 || res[0].Type != TYPE {
				t.Fatalf("resources: %+v", res)
			}
			attrs := res[0].Attributes
			for _, a := range []string{"Username", "Password", "Root_Password", "DBName", "DBHOST", "Port"} {
				if attrs[a] == "" {
					t.Errorf("attribute %s missing: %v", a, attrs)
				}
			}
			if attrs["Password"] != "********" || attrs["DBName"] != "greetings" {
				t.Fatalf("secrets not masked or dbname wrong: %v", attrs)
			}
			if table := u.ok("resource", "list"); strings.Contains(table, "Password\t********") == false {
				t.Fatalf("resource list does not mask: %s", table)
			}
			u.json(&res, "resource", "show", env, "--show-secrets")
			pw := res[0].Attributes["Password"]
			if len(pw) < 20 || pw == "********" {
				t.Fatalf("generated password %q: want at least 20 characters", pw)
			}

			// build the app's container from its directory
			build := buildGreetings(t)
			created := u.runIn(build, "container", "create", app, "local")
			if created.code != 0 {
				t.Fatalf("container create: %s %s", created.out, created.err)
			}
			imageRef := strings.TrimSpace(created.out)
			if !strings.HasPrefix(imageRef, app+":") {
				t.Fatalf("container create printed %q, want %s:<timestamp>", imageRef, app)
			}
			if !strings.Contains(created.err, "Successfully") && !strings.Contains(created.err, "creating docker-image") {
				t.Fatalf("no build progress shown: %s", created.err)
			}
			var cont object
			u.json(&cont, "container", "show", app)
			if cont.Image != imageRef {
				t.Fatalf("container show image %q != %q", cont.Image, imageRef)
			}
			if files := imageFiles(t, imageRef); strings.Contains(files, "secret.env") {
				t.Fatalf(".dockerignore not honoured: image has %s", files)
			}

			appFile := u.write("app.yaml", fmt.Sprintf(`app:
  image: %s
  container_port: 5000
  env:
    PASSWORD: $CLOUDARK_%s_Password
    DB: $CLOUDARK_%s_DBName
    HOST: $CLOUDARK_%s_DBHOST
    USER: $CLOUDARK_%s_Username
    DRIVER: %s
`, imageRef, TYPE, TYPE, TYPE, TYPE, db.typ))
			url := strings.TrimSpace(u.ok("app", "deploy", app, env, appFile))
			if !strings.HasPrefix(url, "http://localhost:") {
				t.Fatalf("app deploy printed %q, want its URL", url)
			}
			var a object
			u.json(&a, "app", "show", app)
			if a.Status != "available" || a.URL != url {
				t.Fatalf("app show: %+v", a)
			}

			// the data goes through the database and back
			msg := "hello from " + db.typ
			if code, body := httpDo(t, "POST", url+"/greetings", fmt.Sprintf(`{"message":%q}`, msg)); code != 201 {
				t.Fatalf("POST /greetings: %d %s", code, body)
			}
			if code, body := httpDo(t, "GET", url+"/greetings", ""); code != 200 || !strings.Contains(body, msg) {
				t.Fatalf("GET /greetings: %d %s", code, body)
			}

			// deploying the same name again is a clear error
			if e := u.fails("app", "deploy", app, env, appFile); !strings.Contains(e, "already exists") || !strings.Contains(e, "redeploy") {
				t.Fatalf("second deploy: %s", e)
			}

			logs := u.ok("app", "logs", app)
			for _, want := range []string{"greetings listening", "POST /greetings", "created from image " + imageRef, "started"} {
				if !strings.Contains(logs, want) {
					t.Errorf("logs lack %q:\n%s", want, logs)
				}
			}
			if tail := u.ok("app", "logs", app, "--runtime", "--tail", "1"); strings.Count(strings.TrimSpace(tail), "\n") != 0 {
				t.Errorf("--tail 1 gave several lines:\n%s", tail)
			}

			// --follow streams lines written after it started
			followLogs(t, u, app, url)

			// redeploy: a new container, same environment and data
			time.Sleep(1100 * time.Millisecond) // a new timestamp for the new version
			newURL := strings.TrimSpace(u.ok("app", "redeploy", app, appFile))
			var after object
			u.json(&after, "app", "show", app)
			if after.Status != "available" || after.Elements[0].Name == a.Elements[0].Name {
				t.Fatalf("redeploy did not replace the container: before %s after %+v", a.Elements[0].Name, after)
			}
			if code, body := httpDo(t, "GET", newURL+"/greetings", ""); code != 200 || !strings.Contains(body, msg) {
				t.Fatalf("after redeploy GET /greetings: %d %s", code, body)
			}
			if left := leftovers(t, "managed-by=cld", "cld-app="+app); len(left) != 1 {
				t.Fatalf("after redeploy want exactly the new container, have %v", left)
			}

			if e := u.fails("env", "delete", env); !strings.Contains(e, app) || !strings.Contains(e, "--force") {
				t.Fatalf("env delete with an app: %s", e)
			}
			u.ok("app", "delete", app)
			assertNoLeftovers(t, "cld-app="+app)
			u.ok("env", "delete", env)
			u.ok("container", "delete", app)
			assertNoLeftovers(t, "cld-env="+env)
			assertNoLeftovers(t, "cld-container="+app)
			if _, err := os.Stat(u.home + "/data/deployments/envs/" + env); !os.IsNotExist(err) {
				t.Errorf("environment folder left: %v", err)
			}

			hist := u.ok("env", "history", env)
			for _, op := range []string{"env create", "app deploy", "app redeploy", "app delete", "env delete"} {
				if !strings.Contains(hist, op) {
					t.Errorf("history lacks %q:\n%s", op, hist)
				}
			}
			// doctor sees every cld's objects on this engine (the parallel subtest's
			// too); none of this journey's may be among them.
			d := u.run("doctor", "-o", "json")
			if strings.Contains(d.out, env) || strings.Contains(d.out, app) {
				t.Errorf("doctor finds leftovers of this journey: %s", d.out)
			}
		})
	}
}

// followLogs runs `cld app logs --follow`, makes a request, and waits (bounded)
// for the request's log line to arrive through the stream.
func followLogs(t *testing.T, u *user, app, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cldBin, "app", "logs", app, "--follow", "--runtime", "--since", "1s")
	cmd.Env = append(append(os.Environ(), "CLD_HOME="+u.home), u.env...)
	out := &syncBuffer{}
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	time.Sleep(500 * time.Millisecond) // the stream is open
	marker := fmt.Sprintf("/follow-%d", time.Now().UnixNano())
	httpDo(t, "GET", url+marker, "") // a 404, logged with its path
	for !strings.Contains(out.String(), "GET "+marker) {
		if ctx.Err() != nil {
			t.Fatalf("--follow did not stream the new request line; got:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

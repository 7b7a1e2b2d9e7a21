// Command fakeaws runs the stateful AWS fake (package
// github.com/cloudark/cld/test/fake/aws) as a separate process, so that
// end-to-end tests can run the cld binary against it with
// AWS_ENDPOINT_URL=<url>.
//
// It prints the endpoint URL as the first line on stdout and serves until
// interrupted (or, with -exit-on-eof, until stdin is closed). The inventory of
// live resources is at GET <url>/_fake/inventory, the call log at
// GET <url>/_fake/calls, and faults can be injected with POST <url>/_fake/fault
// (JSON, see fake.ControlFault).
//
//	fakeaws -listen 127.0.0.1:0 -registry-host 127.0.0.1:5000 -duration 200ms
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	fake "github.com/cloudark/cld/test/fake/aws"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "fakeaws:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fakeaws", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts fake.Options
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on (loopback; port 0 picks a free port)")
	urlFile := fs.String("url-file", "", "also write the endpoint URL to this file")
	exitOnEOF := fs.Bool("exit-on-eof", false, "exit when stdin is closed (so the fake dies with its parent)")
	verbose := fs.Bool("v", false, "log every request to stderr")
	all := fs.Duration("duration", 0, "default for every lifecycle duration (0: the package default, 200ms)")
	var failImages listFlag
	fs.Var(&failImages, "fail-image", "ECS tasks whose image contains this string fail with CannotPullContainerError (repeatable)")
	fs.StringVar(&opts.AccountID, "account", fake.DefaultAccountID, "AWS account id used in ARNs")
	fs.StringVar(&opts.RegistryHost, "registry-host", "", "host:port of a docker registry used for ECR repository URIs")
	fs.StringVar(&opts.RegistryScheme, "registry-scheme", "http", "scheme for the registry API")
	fs.StringVar(&opts.RegistryPassword, "registry-password", "", "password in ECR authorization tokens (AWS:<password>)")
	durs := []struct {
		name string
		p    *time.Duration
		help string
	}{
		{"rds-create", &opts.RDSCreateDuration, "RDS creating -> backing-up"},
		{"rds-backup", &opts.RDSBackupDuration, "RDS backing-up -> available"},
		{"rds-modify", &opts.RDSModifyDuration, "RDS modifying -> available"},
		{"rds-delete", &opts.RDSDeleteDuration, "RDS deleting -> gone"},
		{"instance-launch", &opts.InstanceLaunchDuration, "EC2 pending -> running (and ECS registration)"},
		{"instance-terminate", &opts.InstanceTerminateDuration, "EC2 shutting-down -> terminated"},
		{"asg-delete", &opts.ASGDeleteDuration, "Auto Scaling group deletion"},
		{"task-start", &opts.TaskStartDuration, "ECS task PROVISIONING -> RUNNING"},
		{"task-stop", &opts.TaskStopDuration, "ECS task stopping -> STOPPED"},
		{"oneoff-task", &opts.OneOffTaskDuration, "RunTask tasks run this long, then exit 0"},
		{"target-healthy", &opts.TargetHealthyDuration, "ELB target initial -> healthy"},
		{"target-drain", &opts.TargetDrainDuration, "ELB target draining -> gone"},
		{"lb-provision", &opts.LoadBalancerProvisionDuration, "load balancer provisioning -> active"},
		{"lb-delete", &opts.LoadBalancerDeleteDuration, "a deleted load balancer's network interfaces keep its security groups in use"},
		{"cp-delete", &opts.CapacityProviderDeleteDuration, "capacity provider deletion"},
	}
	for _, d := range durs {
		fs.DurationVar(d.p, d.name, 0, d.help+" (0: -duration)")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *all != 0 {
		for _, d := range durs {
			if *d.p == 0 {
				*d.p = *all
			}
		}
	}
	if *verbose {
		logger := log.New(stderr, "", log.LstdFlags|log.Lmicroseconds)
		opts.Logf = logger.Printf
	}
	srv := fake.New(opts)
	for _, img := range failImages {
		srv.FailImage(img, "")
	}
	if err := srv.StartOn(*listen); err != nil {
		return err
	}
	defer func() { _ = srv.Close() }()
	if _, err := fmt.Fprintln(stdout, srv.URL()); err != nil {
		return err
	}
	if *urlFile != "" {
		if err := os.WriteFile(*urlFile, []byte(srv.URL()+"\n"), 0o644); err != nil {
			return err
		}
	}
	if *exitOnEOF {
		eof := make(chan struct{})
		go func() {
			_, _ = io.Copy(io.Discard, bufio.NewReader(stdin))
			close(eof)
		}()
		select {
		case <-ctx.Done():
		case <-eof:
		}
		return nil
	}
	<-ctx.Done()
	return nil
}

//go:build tools

// Package kube pins the Kubernetes control-plane commands that
// scripts/build-kube.sh builds for the cld test harness (test/kubeharness).
//
// This is a separate Go module so that k8s.io/kubernetes and its large
// dependency graph never enter the main cld module.
package kube

import (
	// etcd v3.6, the version k8s.io/kubernetes v1.34.4 pins. Debian 12's etcd
	// (3.4.23) lacks RequestWatchProgress, so the apiserver refuses the
	// watch-list streams that kwok's client-go v0.36 informers ask for.
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)

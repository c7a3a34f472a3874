// Pins controller-gen and the Prometheus Operator API types it reads; the "tools" build tag keeps
// the file out of every build, while `go mod tidy` still records their dependencies.

//go:build tools

package crdtools

import (
	_ "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)

// Pins the programs this module exists to build; the "tools" build tag keeps the file out of every
// build, while `go mod tidy` still records the dependencies of the imported main packages.

//go:build tools

package k8stools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)

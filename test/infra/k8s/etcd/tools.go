// Pins the etcd server program; the "tools" build tag keeps the file out of every build, while
// `go mod tidy` still records the dependencies of the imported main package.

//go:build tools

package etcdtools

import (
	_ "go.etcd.io/etcd/server/v3"
)

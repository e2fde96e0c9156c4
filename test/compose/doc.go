// Package compose tests the containerized cluster of deploy/compose.yaml:
// it builds the tessera:dev image, starts 3 metad voters, 6 storage nodes
// and 2 gateways with Docker Compose, writes objects through the published
// gateway ports, stops two nodes and cuts the metad leader off the network,
// reads everything back, writes more, heals the cluster and checks again.
//
// The test needs a Docker engine and is behind the docker build tag:
//
//	go test -tags docker -count=1 -run TestCompose ./test/compose/...
package compose

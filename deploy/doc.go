// Package deploy holds how Custos is shipped and run: the Helm chart
// (deploy/helm/custos), the systemd unit (deploy/systemd), the docker compose
// example (deploy/compose), and the tests that keep them, the Dockerfile and
// .dockerignore consistent with Custos's own configuration parser. The chart
// is rendered with the Helm SDK and every object decoded and checked, so the
// artifacts cannot drift from the code.
//
// It holds no runtime code: nothing may import it, and it must never hold a
// secret (example key hashes are placeholders no key matches).
package deploy

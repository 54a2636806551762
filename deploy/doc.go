// Package deploy holds no code: its tests keep template.yaml, the compose files and the Dockerfiles true to the code.
package deploy

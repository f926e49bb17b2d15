package main

import "github.com/sceau/sceau/internal/node"

// templateData and renderConfig name the configuration template of
// internal/node for the commands that write a new installation.
type templateData = node.ConfigValues

func renderConfig(d templateData) []byte { return node.RenderConfig(d) }

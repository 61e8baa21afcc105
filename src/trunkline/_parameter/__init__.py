"""The pure parts of `trunkline.parameter` (the public module is the shell holding Luigi's patch points)."""

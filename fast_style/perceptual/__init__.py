"""The frozen VGG and what is measured through it: its weights, the perceptual losses, the style image,
Gatys et al.'s optimization."""

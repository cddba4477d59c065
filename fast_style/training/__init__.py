"""What learns: the LightningModule, its data, callbacks, temporal and distillation losses, and train(cfg)."""

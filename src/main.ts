// Composition root; replaced by the agent entry point.
export {};

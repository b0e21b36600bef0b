"""Neural networks as plain ``torch.nn.Module``s: MLPs, embeddings, hard-constraint transforms, DeepONet."""

"""The medallion jobs, one module per layer (read -> transform chain -> write), and their console scripts."""

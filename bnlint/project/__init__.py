"""What bnlint knows about the project: its files, ignore rules, settings, declared Keras version,
and (for project-wide facts) how its imports resolve and what its modules export."""

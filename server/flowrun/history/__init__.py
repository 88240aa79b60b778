"""The execution history: where it lives, its store, and the tree it is read as."""

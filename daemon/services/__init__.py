"""What the routes ask for: checked FIM completion, chat with the compiler in the loop, the
type-ahead cache."""

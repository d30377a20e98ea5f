"""Private: code loading (the code server, bytecode in a child process, the cycle collector)."""
